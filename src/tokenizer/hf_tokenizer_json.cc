#include "tokenizer/hf_tokenizer_json.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/pretokenizer.h"

namespace edgellm {
namespace {

using nlohmann::json;

Status at(const std::string& path, const std::string& msg) { return Status::error(path + ": " + msg); }

// Quotes `s` literally inside a PCRE2 pattern.
std::string regex_quote(std::string_view s) {
  std::string r;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}-/").find(c) != std::string_view::npos) r += '\\';
    r += c;
  }
  return r;
}

// Appends the regexes a pre_tokenizer node stands for.
Status collect_pre(const json& node, const std::string& path, std::vector<std::string>* out, bool* byte_level) {
  if (node.is_null()) return Status::ok();
  if (!node.is_object() || !node.contains("type") || !node["type"].is_string()) {
    return at(path, "expected an object with a string \"type\"");
  }
  const std::string type = node["type"];
  if (type == "Sequence") {
    const json& list = node.value("pretokenizers", json());
    if (!list.is_array()) return at(path + ".pretokenizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      EL_RETURN_IF_ERROR(collect_pre(list[i], path + ".pretokenizers[" + std::to_string(i) + "]", out, byte_level));
    }
    return Status::ok();
  }
  if (type == "Split") {
    if (node.value("behavior", std::string()) != "Isolated" || node.value("invert", false)) {
      return at(path, "only Split with behavior \"Isolated\" and invert false is supported");
    }
    const json& pat = node.value("pattern", json());
    if (pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string()) {
      out->push_back(pat["Regex"].get<std::string>());
    } else if (pat.is_object() && pat.contains("String") && pat["String"].is_string()) {
      out->push_back(regex_quote(pat["String"].get<std::string>()));
    } else {
      return at(path + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    }
    return Status::ok();
  }
  if (type == "ByteLevel") {
    *byte_level = true;
    if (node.value("add_prefix_space", false)) {
      return at(path + ".add_prefix_space", "a prefix space before the text is not supported");
    }
    if (node.value("use_regex", true)) {
      EL_ASSIGN_OR_RETURN(std::vector<std::string> gpt2, pretokenizer_regexes("gpt-2"));
      out->insert(out->end(), gpt2.begin(), gpt2.end());
    }
    return Status::ok();
  }
  if (type == "Digits") {
    out->push_back(node.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)");
    return Status::ok();
  }
  if (type == "Punctuation") {
    out->push_back(R"([\p{P}\$\+<=>\^~\|`]+)");
    return Status::ok();
  }
  return at(path + ".type", "pre-tokenizer \"" + type + "\" is not supported");
}

// NFC or nothing; anything else would change text in ways the tokenizer does not reproduce.
Status read_normalizer(const json& node, const std::string& path, bool* nfc) {
  if (node.is_null()) return Status::ok();
  const std::string type = node.value("type", std::string());
  if (type == "NFC") {
    *nfc = true;
    return Status::ok();
  }
  if (type == "Sequence" && node.contains("normalizers") && node["normalizers"].is_array()) {
    const json& list = node["normalizers"];
    for (size_t i = 0; i < list.size(); ++i) {
      EL_RETURN_IF_ERROR(read_normalizer(list[i], path + ".normalizers[" + std::to_string(i) + "]", nfc));
    }
    return Status::ok();
  }
  return at(path + ".type", "normalizer \"" + type + "\" is not supported (supported: NFC)");
}

// The first special token of TemplateProcessing's "single" template, if it comes before the text.
void read_post_processor(const json& node, const Vocab& v, int32_t* bos) {
  if (!node.is_object()) return;
  const std::string type = node.value("type", std::string());
  if (type == "Sequence" && node.contains("processors") && node["processors"].is_array()) {
    for (const json& p : node["processors"]) read_post_processor(p, v, bos);
    return;
  }
  if (type != "TemplateProcessing" || !node.contains("single") || !node["single"].is_array()) return;
  const json& single = node["single"];
  if (single.empty() || !single[0].is_object() || !single[0].contains("SpecialToken")) return;
  const json& st = single[0]["SpecialToken"];
  if (st.is_object() && st.contains("id") && st["id"].is_string()) *bos = v.find(st["id"].get<std::string>());
}

int32_t find_first(const Vocab& v, std::initializer_list<std::string_view> texts) {
  for (std::string_view t : texts) {
    const int32_t id = v.find(t);
    if (id != Vocab::kNoToken && v.type(id) == TokenType::kControl) return id;
  }
  return Vocab::kNoToken;
}

}  // namespace

bool is_hf_tokenizer_path(std::string_view path) {
  return path.size() >= 5 && path.substr(path.size() - 5) == ".json";
}

Result<Vocab> vocab_from_hf_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::error(path + ": cannot open the file");
  std::stringstream ss;
  ss << f.rdbuf();
  return vocab_from_hf_json_text(ss.str(), path);
}

namespace {

// The import proper. nlohmann::json throws type_error where a field has the wrong JSON type
// (e.g. "behavior": false); vocab_from_hf_json_text turns that into a Status.
Result<Vocab> import_hf_json(std::string_view text, const std::string& where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::error(where + ": not valid JSON");
  if (!j.is_object()) return Status::error(where + ": expected a JSON object");
  auto fail = [&](const std::string& path, const std::string& msg) { return at(where + ": " + path, msg); };

  const json& model = j.value("model", json());
  if (!model.is_object()) return fail("model", "missing");
  const std::string type = model.value("type", std::string());
  if (type != "BPE") return fail("model.type", "tokenizer model \"" + type + "\" is not supported (supported: BPE)");
  if (model.value("byte_fallback", false)) {
    return fail("model.byte_fallback", "SentencePiece-style BPE is not supported (only byte-level BPE)");
  }
  const json& vocab_obj = model.value("vocab", json());
  if (!vocab_obj.is_object() || vocab_obj.empty()) return fail("model.vocab", "expected a non-empty object");

  Vocab v;
  v.model = VocabModel::kBpe;
  v.model_name = "gpt2";
  v.add_bos = false;
  v.add_space_prefix = false;
  v.bos_id = v.eos_id = v.unk_id = Vocab::kNoToken;
  v.ignore_merges = model.value("ignore_merges", false);

  // Ids may leave gaps (filled with unused placeholders) and the added tokens may extend the range.
  constexpr int64_t kMaxVocab = int64_t{1} << 24;
  auto place = [&](int64_t id, const std::string& text, TokenType tt, const std::string& path) -> Status {
    if (id < 0 || id >= kMaxVocab) return fail(path, "token id " + std::to_string(id) + " is out of range");
    if (static_cast<size_t>(id) >= v.tokens.size()) {
      const size_t old = v.tokens.size();
      v.tokens.resize(static_cast<size_t>(id) + 1);
      v.types.resize(static_cast<size_t>(id) + 1, TokenType::kUnused);
      for (size_t i = old; i < v.tokens.size(); ++i) v.tokens[i] = "<unused" + std::to_string(i) + ">";
    }
    v.tokens[static_cast<size_t>(id)] = text;
    v.types[static_cast<size_t>(id)] = tt;
    return Status::ok();
  };
  for (auto it = vocab_obj.begin(); it != vocab_obj.end(); ++it) {
    if (!it.value().is_number_integer()) return fail("model.vocab[\"" + it.key() + "\"]", "expected an integer id");
    EL_RETURN_IF_ERROR(place(it.value().get<int64_t>(), it.key(), TokenType::kNormal, "model.vocab[\"" + it.key() + "\"]"));
  }

  const json& merges = model.value("merges", json::array());
  if (!merges.is_array()) return fail("model.merges", "expected an array");
  v.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_string()) {
      v.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return fail("model.merges[" + std::to_string(i) + "]", "expected \"a b\" or [\"a\", \"b\"]");
    }
  }

  const json& added = j.value("added_tokens", json::array());
  if (!added.is_array()) return fail("added_tokens", "expected an array");
  for (size_t i = 0; i < added.size(); ++i) {
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    const json& a = added[i];
    if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
        !a["content"].is_string()) {
      return fail(path, "expected an object with an integer \"id\" and a string \"content\"");
    }
    const TokenType tt = a.value("special", false) ? TokenType::kControl : TokenType::kUserDefined;
    EL_RETURN_IF_ERROR(place(a["id"].get<int64_t>(), a["content"].get<std::string>(), tt, path));
  }

  bool nfc = false;
  EL_RETURN_IF_ERROR(read_normalizer(j.value("normalizer", json()), "normalizer", &nfc).with_context(where));
  v.normalize_nfc = nfc;
  bool byte_level = false;
  EL_RETURN_IF_ERROR(collect_pre(j.value("pre_tokenizer", json()), "pre_tokenizer", &v.pre_regexes, &byte_level)
                         .with_context(where));
  const json& decoder = j.value("decoder", json());
  if (decoder.is_object() && decoder.value("type", std::string()) == "ByteLevel") byte_level = true;
  if (!byte_level) return fail("pre_tokenizer", "no ByteLevel step: only byte-level BPE is supported");
  v.pre = "hf";
  for (std::string_view name : {"gpt-2", "llama-bpe", "qwen2", "starcoder", "falcon", "tekken", "bloom"}) {
    auto known = pretokenizer_regexes(name);
    if (known.is_ok() && *known == v.pre_regexes) v.pre = std::string(name);
  }

  EL_RETURN_IF_ERROR(v.finalize().with_context(where));
  if (model.contains("unk_token") && model["unk_token"].is_string()) v.unk_id = v.find(model["unk_token"].get<std::string>());
  int32_t bos = Vocab::kNoToken;
  read_post_processor(j.value("post_processor", json()), v, &bos);
  if (bos != Vocab::kNoToken) {
    v.bos_id = bos;
    v.add_bos = true;
  } else {
    v.bos_id = find_first(v, {"<|begin_of_text|>", "<s>", "<bos>"});
  }
  v.eos_id = find_first(v, {"<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>"});
  v.eot_id = find_first(v, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"});
  v.eom_id = find_first(v, {"<|eom_id|>"});
  return v;
}

}  // namespace

Result<Vocab> vocab_from_hf_json_text(std::string_view text, const std::string& where) {
  try {
    return import_hf_json(text, where);
  } catch (const json::exception& e) {
    // Found by tests/fuzz/hf_tokenizer_json_fuzz.cc: a field of the wrong type used to escape as an exception.
    return Status::error(where + ": a field has the wrong JSON type (" + e.what() + ")");
  }
}

}  // namespace edgellm
