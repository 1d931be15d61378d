// A tokenizer vocabulary as GGUF stores it (tokenizer.ggml.* metadata): token texts, scores, types,
// special ids and the encoding flags. The tokenizer families (SentencePiece "llama" today; byte-level BPE,
// WordPiece later) all read this one struct; family-specific data (BPE merges, pre-tokenizer name) slot in
// as further fields without changing the shared part.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace edgellm {

class GgufFile;

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Which tokenization algorithm the vocabulary belongs to (tokenizer.ggml.model).
enum class VocabModel {
  kSpm,  // "llama": SentencePiece BPE with byte fallback
  kBpe,  // "gpt2": byte-level BPE with ranked merges and a regex pre-tokenizer
  kWpm,  // "bert": WordPiece
};

// Heterogeneous hashing so lookups by string_view do not allocate.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Vocab {
  static constexpr int32_t kNoToken = -1;

  VocabModel model = VocabModel::kSpm;
  std::string model_name = "llama";  // tokenizer.ggml.model as stored
  std::string pre;                   // tokenizer.ggml.pre ("" if absent)

  // Parallel arrays, one entry per token id. `scores` and `types` may be left empty before finalize(),
  // which then fills them with 0 and kNormal (GGUF makes both optional).
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<TokenType> types;

  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t unk_id = 0;
  int32_t pad_id = kNoToken;
  int32_t eot_id = kNoToken;
  int32_t eom_id = kNoToken;

  bool add_bos = true;
  bool add_eos = false;
  bool add_space_prefix = true;

  // Byte-level BPE: merges as "left right" in rank order (tokenizer.ggml.merges); pre-tokenizer regexes
  // (if empty, those named by `pre`); whether a word that is itself a token skips the merges.
  std::vector<std::string> merges;
  std::vector<std::string> pre_regexes;
  bool ignore_merges = false;
  // Byte-level BPE: NFC-normalize text before pre-tokenization (Qwen's tokenizer.json asks for it).
  bool normalize_nfc = false;
  // WordPiece: lowercase and strip accents before matching (uncased models).
  bool lowercase = true;

  // Derived by finalize(): text → id (the first id wins for duplicated texts, as in SentencePiece),
  // and the id of the byte-fallback token for each byte value (kNoToken if the vocabulary has none).
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> token_to_id;
  std::array<int32_t, 256> byte_to_id{};
  size_t max_token_len = 0;  // longest token text in bytes

  // Reads tokenizer.ggml.* from a GGUF file and finalizes. Errors name the offending key
  // (e.g. "tokenizer.ggml.scores: 31999 entries, tokens has 32000").
  static Result<Vocab> from_gguf(const GgufFile& file);

  // Validates the arrays and special ids and builds the lookup tables. Call after filling the fields
  // by hand; from_gguf() calls it. Idempotent.
  Status finalize();

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
  bool valid_id(int32_t id) const { return id >= 0 && id < size(); }
  TokenType type(int32_t id) const { return types[static_cast<size_t>(id)]; }
  float score(int32_t id) const { return scores[static_cast<size_t>(id)]; }
  const std::string& text(int32_t id) const { return tokens[static_cast<size_t>(id)]; }
  // Id of a token text, or kNoToken.
  int32_t find(std::string_view text) const;
};

}  // namespace edgellm
