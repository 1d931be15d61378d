#include "tokenizer/vocab.h"

#include <algorithm>
#include <cstdio>

#include "format/gguf.h"

namespace edgellm {
namespace {

constexpr const char* kModelKey = "tokenizer.ggml.model";
constexpr const char* kTokensKey = "tokenizer.ggml.tokens";
constexpr const char* kScoresKey = "tokenizer.ggml.scores";
constexpr const char* kTypesKey = "tokenizer.ggml.token_type";

// Reads an optional special-token id. Absent keys keep `*id`; -1 (or its uint32 spelling) means "none".
Status read_id(const GgufFile& f, const char* key, int32_t* id) {
  if (f.find(key) == nullptr) return Status::ok();
  EL_ASSIGN_OR_RETURN(int64_t v, f.get_int(key));
  if (v == -1 || v == 0xFFFFFFFFll) {
    *id = Vocab::kNoToken;
    return Status::ok();
  }
  if (v < 0 || v > INT32_MAX) return Status::error(std::string(key) + ": token id " + std::to_string(v) + " is invalid");
  *id = static_cast<int32_t>(v);
  return Status::ok();
}

Status check_id(const Vocab& v, const char* key, int32_t id) {
  if (id == Vocab::kNoToken || v.valid_id(id)) return Status::ok();
  return Status::error(std::string(key) + ": token id " + std::to_string(id) + " is out of range (vocabulary has " +
                       std::to_string(v.size()) + " tokens)");
}

std::string byte_token_text(int b) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
  return buf;
}

}  // namespace

int32_t Vocab::find(std::string_view text) const {
  auto it = token_to_id.find(text);
  return it == token_to_id.end() ? kNoToken : it->second;
}

Status Vocab::finalize() {
  if (tokens.empty()) return Status::error(std::string(kTokensKey) + ": the vocabulary is empty");
  if (tokens.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::error(std::string(kTokensKey) + ": too many tokens (" + std::to_string(tokens.size()) + ")");
  }
  if (scores.empty()) scores.assign(tokens.size(), 0.0f);
  if (types.empty()) types.assign(tokens.size(), TokenType::kNormal);
  if (scores.size() != tokens.size()) {
    return Status::error(std::string(kScoresKey) + ": " + std::to_string(scores.size()) + " entries, " + kTokensKey +
                         " has " + std::to_string(tokens.size()));
  }
  if (types.size() != tokens.size()) {
    return Status::error(std::string(kTypesKey) + ": " + std::to_string(types.size()) + " entries, " + kTokensKey +
                         " has " + std::to_string(tokens.size()));
  }
  for (size_t i = 0; i < types.size(); ++i) {
    int32_t t = static_cast<int32_t>(types[i]);
    if (t < 0 || t > static_cast<int32_t>(TokenType::kByte)) {
      return Status::error(std::string(kTypesKey) + "[" + std::to_string(i) + "]: unknown token type " +
                           std::to_string(t));
    }
  }
  EL_RETURN_IF_ERROR(check_id(*this, "tokenizer.ggml.bos_token_id", bos_id));
  EL_RETURN_IF_ERROR(check_id(*this, "tokenizer.ggml.eos_token_id", eos_id));
  EL_RETURN_IF_ERROR(check_id(*this, "tokenizer.ggml.unknown_token_id", unk_id));
  EL_RETURN_IF_ERROR(check_id(*this, "tokenizer.ggml.padding_token_id", pad_id));
  EL_RETURN_IF_ERROR(check_id(*this, "tokenizer.ggml.eot_token_id", eot_id));
  EL_RETURN_IF_ERROR(check_id(*this, "tokenizer.ggml.eom_token_id", eom_id));

  token_to_id.clear();
  token_to_id.reserve(tokens.size());
  max_token_len = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    token_to_id.emplace(tokens[i], static_cast<int32_t>(i));
    max_token_len = std::max(max_token_len, tokens[i].size());
  }

  // Byte fallback: SentencePiece names byte pieces "<0xAB>"; vocabularies without them may still carry the
  // raw single byte as a token.
  for (int b = 0; b < 256; ++b) {
    int32_t id = find(byte_token_text(b));
    if (id == kNoToken) id = find(std::string(1, static_cast<char>(b)));
    byte_to_id[static_cast<size_t>(b)] = id;
  }
  return Status::ok();
}

Result<Vocab> Vocab::from_gguf(const GgufFile& f) {
  Vocab v;
  EL_ASSIGN_OR_RETURN(v.model_name, f.get_string(kModelKey));
  // Defaults per family where the metadata is silent, as llama.cpp sets them.
  bool default_add_bos = true, default_add_eos = false, default_space_prefix = true;
  if (v.model_name == "llama") {
    v.model = VocabModel::kSpm;
  } else if (v.model_name == "gpt2") {
    v.model = VocabModel::kBpe;
    default_add_bos = false;
    default_space_prefix = false;
  } else if (v.model_name == "bert") {
    v.model = VocabModel::kWpm;
    default_add_eos = true;  // [CLS] text [SEP]
    v.unk_id = 100;
    v.bos_id = 101;
    v.eos_id = 102;
  } else {
    return Status::error(std::string(kModelKey) + ": tokenizer model \"" + v.model_name +
                         "\" is not supported (supported: \"llama\", \"gpt2\", \"bert\")");
  }
  EL_ASSIGN_OR_RETURN(v.pre, f.get_string_or("tokenizer.ggml.pre", ""));
  if (v.model == VocabModel::kBpe) {
    if (v.pre.empty()) v.pre = "default";
    // Llama 3's tokenizer.json sets ignore_merges; its GGUFs carry only the pre-tokenizer name.
    v.ignore_merges = v.pre == "llama-bpe" || v.pre == "llama3";
    if (v.ignore_merges) default_add_bos = true;
    if (f.find("tokenizer.ggml.merges") != nullptr) {
      EL_ASSIGN_OR_RETURN(const std::vector<std::string>* merges, f.get_string_array("tokenizer.ggml.merges"));
      v.merges = *merges;
    }
  }

  EL_ASSIGN_OR_RETURN(const std::vector<std::string>* toks, f.get_string_array(kTokensKey));
  v.tokens = *toks;

  if (const GgufValue* s = f.find(kScoresKey)) {
    if (s->type != GgufType::ARRAY || (s->elem_type != GgufType::FLOAT32 && s->elem_type != GgufType::FLOAT64)) {
      return Status::error(std::string(kScoresKey) + ": expected an array of floats, found " +
                           gguf_type_name(s->type == GgufType::ARRAY ? s->elem_type : s->type));
    }
    v.scores.reserve(s->fnums.size());
    for (double d : s->fnums) v.scores.push_back(static_cast<float>(d));
    if (v.scores.empty() && !v.tokens.empty()) {
      return Status::error(std::string(kScoresKey) + ": 0 entries, " + kTokensKey + " has " +
                           std::to_string(v.tokens.size()));
    }
  }
  if (const GgufValue* t = f.find(kTypesKey)) {
    if (t->type != GgufType::ARRAY || t->elem_type == GgufType::STRING || t->elem_type == GgufType::ARRAY ||
        t->elem_type == GgufType::FLOAT32 || t->elem_type == GgufType::FLOAT64) {
      return Status::error(std::string(kTypesKey) + ": expected an array of integers, found " +
                           gguf_type_name(t->type == GgufType::ARRAY ? t->elem_type : t->type));
    }
    v.types.reserve(t->nums.size());
    for (size_t i = 0; i < t->nums.size(); ++i) {
      int64_t x = t->nums[i];
      if (x < 0 || x > static_cast<int64_t>(TokenType::kByte)) {
        return Status::error(std::string(kTypesKey) + "[" + std::to_string(i) + "]: unknown token type " +
                             std::to_string(x));
      }
      v.types.push_back(static_cast<TokenType>(x));
    }
    if (v.types.empty() && !v.tokens.empty()) {
      return Status::error(std::string(kTypesKey) + ": 0 entries, " + kTokensKey + " has " +
                           std::to_string(v.tokens.size()));
    }
  }

  EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.bos_token_id", &v.bos_id));
  EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.eos_token_id", &v.eos_id));
  EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.unknown_token_id", &v.unk_id));
  EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.padding_token_id", &v.pad_id));
  EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.eot_token_id", &v.eot_id));
  EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.eom_token_id", &v.eom_id));
  if (v.model == VocabModel::kWpm) {
    // BERT frames text as [CLS] ... [SEP]; GGUF names them (with llama.cpp's spelling of "separator").
    EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.cls_token_id", &v.bos_id));
    EL_RETURN_IF_ERROR(read_id(f, "tokenizer.ggml.seperator_token_id", &v.eos_id));
  }
  EL_ASSIGN_OR_RETURN(v.add_bos, f.get_bool_or("tokenizer.ggml.add_bos_token", default_add_bos));
  EL_ASSIGN_OR_RETURN(v.add_eos, f.get_bool_or("tokenizer.ggml.add_eos_token", default_add_eos));
  EL_ASSIGN_OR_RETURN(v.add_space_prefix, f.get_bool_or("tokenizer.ggml.add_space_prefix", default_space_prefix));

  Status st = v.finalize();
  if (!st.is_ok()) return st.with_context(f.path());
  return v;
}

}  // namespace edgellm
