// Text ↔ token ids for one vocabulary. Immutable after create(); all methods are const and safe to call
// from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/vocab.h"

namespace edgellm {

class BpeModel;
class PreTokenizer;

class Tokenizer {
 public:
  // Takes the vocabulary (finalizing it if needed). Errors if it is invalid or of an unsupported model.
  static Result<std::unique_ptr<Tokenizer>> create(Vocab vocab);
  ~Tokenizer();

  // Token ids of `text` (any bytes; invalid UTF-8 becomes byte tokens). `add_bos` prepends BOS (callers
  // usually pass vocab().add_bos; appending EOS per vocab().add_eos is likewise left to them). User-defined pieces found in the text are always
  // emitted as their ids, as SentencePiece does; with `parse_special`, control and unknown token texts
  // ("<s>", "<|end|>") are too. Matching is leftmost-longest; the text between matches is tokenized
  // normally, with the dummy prefix space at the start and after each special token.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // The bytes a token stands for: U+2581 → ' ', byte tokens <0xAB> → that byte (so a piece may be a
  // fragment of a UTF-8 sequence). Control tokens give "" unless `special`, then their text; the unknown
  // token gives U+2585 ("▅") unless `special`. Out-of-range ids give "".
  std::string token_to_piece(int32_t id, bool special = false) const;

  // Concatenated pieces, without the space the dummy prefix put before the first word (SentencePiece
  // decoding). The result is raw bytes; use TokenStreamer for sanitized incremental output.
  std::string decode(std::span<const int32_t> ids, bool special = false) const;

  // End of generation: EOS, EOT, EOM, or a control token whose text marks the end of a turn.
  bool is_eog(int32_t id) const;
  int32_t bos() const { return vocab_.bos_id; }
  int32_t eos() const { return vocab_.eos_id; }
  int32_t n_vocab() const { return vocab_.size(); }
  const Vocab& vocab() const { return vocab_; }
  // True when the dummy prefix is on, i.e. decoding drops the first leading space.
  bool strips_leading_space() const { return vocab_.add_space_prefix; }

 private:
  explicit Tokenizer(Vocab vocab);
  Status init();
  // Appends the ids of a plain-text fragment (no special tokens inside).
  void encode_fragment(std::string_view text, bool space_prefix, std::vector<int32_t>* out) const;
  // Length of the longest special token text at text[pos], 0 if none; its id in *id.
  size_t match_special(std::string_view text, size_t pos, bool parse_special, int32_t* id) const;

  Vocab vocab_;
  // Ids of the tokens that are matched in raw text, indexed by their first byte, longest text first.
  std::vector<std::vector<int32_t>> special_by_byte_;
  std::vector<bool> eog_;
  // Byte-level BPE only (VocabModel::kBpe).
  std::unique_ptr<PreTokenizer> pre_;
  std::unique_ptr<BpeModel> bpe_;
};

}  // namespace edgellm
