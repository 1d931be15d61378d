// Hugging Face tokenizer.json import: a tiny inline file for the mapping rules and errors, and the
// llama-bpe / qwen2 published vectors with the real tokenizer.json files (fetched by
// scripts/fetch-test-vocabs.sh into $EDGELLM_VOCAB_CACHE).
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer.h"
#include "vocab_cases.h"

namespace edgellm {
namespace {

// Byte-level spelling: "Ġ" is the space byte.
constexpr const char* kTiny = R"({
  "normalizer": null,
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": " ?\\p{L}+|\\p{N}"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
  "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
  "decoder": {"type": "ByteLevel"},
  "added_tokens": [
      {"id": 9, "content": "<bos>", "special": true},
      {"id": 10, "content": "<|eot_id|>", "special": true},
      {"id": 11, "content": "<tool>", "special": false}],
  "model": {"type": "BPE", "ignore_merges": false,
      "vocab": {"h": 0, "i": 1, "Ġ": 2, "hi": 3, "Ġhi": 4, "1": 5, "2": 6},
      "merges": ["h i", ["Ġ", "hi"]]}
})";

Result<std::unique_ptr<Tokenizer>> tiny() {
  EL_ASSIGN_OR_RETURN(Vocab v, vocab_from_hf_json_text(kTiny, "tiny.json"));
  return Tokenizer::create(std::move(v));
}

TEST(HfJson, TinyVocabulary) {
  auto tok = tiny();
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  const Tokenizer& t = **tok;
  EXPECT_EQ(t.n_vocab(), 12);  // ids 7 and 8 are unused placeholders
  EXPECT_EQ(t.vocab().type(7), TokenType::kUnused);
  EXPECT_EQ(t.bos(), 9);
  EXPECT_TRUE(t.vocab().add_bos);
  EXPECT_EQ(t.vocab().eot_id, 10);
  EXPECT_TRUE(t.is_eog(10));
  EXPECT_EQ(t.vocab().pre, "hf");
  EXPECT_EQ(t.encode("hi hi12", true, false), (std::vector<int32_t>{9, 3, 4, 5, 6}));
  // Non-special added tokens always match; special ones only with parse_special.
  EXPECT_EQ(t.encode("hi<tool>", false, false), (std::vector<int32_t>{3, 11}));
  EXPECT_EQ(t.encode("<|eot_id|>", false, true), (std::vector<int32_t>{10}));
  EXPECT_EQ(t.decode(std::vector<int32_t>{3, 4, 11}), "hi hi<tool>");
}

TEST(HfJson, ErrorsNameThePath) {
  auto expect_error = [](const std::string& json, const std::string& needle) {
    auto v = vocab_from_hf_json_text(json, "x.json");
    ASSERT_FALSE(v.is_ok()) << json;
    EXPECT_NE(v.status().message().find(needle), std::string::npos) << v.status().message();
  };
  expect_error("{", "x.json: not valid JSON");
  // Found by hf_tokenizer_json_fuzz: fields of the wrong JSON type are errors, not escaping exceptions.
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Split",
                   "pattern": {"Regex": "a"}, "behavior": false}})",
               "wrong JSON type");
  expect_error(R"({"model": {"type": 7, "vocab": {"a": 0}}})", "wrong JSON type");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "ignore_merges": "yes"}})", "wrong JSON type");
  expect_error(R"({"model": {"type": "Unigram"}})", "model.type");
  expect_error(R"({"model": {"type": "BPE", "vocab": {}}})", "model.vocab");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": "x"}}})", "model.vocab[\"a\"]");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [1]}, "decoder": {"type": "ByteLevel"}})",
               "model.merges[0]");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}},
                   "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}]}})",
               "pre_tokenizer.pretokenizers[0].type");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})", "only byte-level BPE");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}}, "added_tokens": [{"id": -3, "content": "x"}],
                   "decoder": {"type": "ByteLevel"}})",
               "added_tokens[0]");
  auto missing = vocab_from_hf_json("/nonexistent/tokenizer.json");
  EXPECT_FALSE(missing.is_ok());
}

// The tokenizer.json fetched for `name`, or "" (the caller skips or fails).
std::string cached_tokenizer(const std::string& name) {
  const char* env = std::getenv("EDGELLM_VOCAB_CACHE");
  const char* home = std::getenv("HOME");
  const std::string dir = env != nullptr ? env : (home != nullptr ? std::string(home) + "/.cache/edgellm/vocab" : "");
  const std::string path = dir + "/" + name + "/tokenizer.json";
  return std::filesystem::exists(path) ? path : "";
}

#define EL_REQUIRE_VOCAB_CACHE(path, name)                                                             \
  do {                                                                                                 \
    if ((path).empty()) {                                                                              \
      if (::edgellm::test::shared_required()) FAIL() << "tokenizer.json missing for " << (name);       \
      GTEST_SKIP() << "SKIPPED LOUDLY: no " << (name)                                                   \
                   << "/tokenizer.json; run scripts/fetch-test-vocabs.sh (EDGELLM_VOCAB_CACHE)";        \
    }                                                                                                  \
  } while (0)

// Runs the .inp/.out vectors of `vectors` except the case indices in `expected_failures`, which must
// indeed fail (so the list stays honest).
void check_hf_vectors(const std::string& json_path, const std::string& vectors, const std::set<size_t>& expected_failures) {
  EL_REQUIRE_SHARED("testdata/vocab/" + vectors + ".inp");
  auto vocab = vocab_from_hf_json(json_path);
  ASSERT_TRUE(vocab.is_ok()) << vocab.status().message();
  auto tok = Tokenizer::create(std::move(vocab).value());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  // No GGUF exists for these vectors, so locate them by the .inp file.
  const std::string inp = test::shared_path("testdata/vocab/" + vectors + ".inp");
  const std::string base = inp.substr(0, inp.size() - 4);
  auto cases = test::load_vocab_cases(base + ".inp", base + ".out");
  ASSERT_EQ(cases.size(), 46u);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i) + ": \"" + cases[i].text + "\"");
    const std::vector<int32_t> got = (*tok)->encode(cases[i].text, false, false);
    if (expected_failures.count(i) != 0) {
      EXPECT_NE(got, cases[i].ids) << "listed as an expected failure but passes";
    } else {
      EXPECT_EQ(got, cases[i].ids);
    }
  }
}

TEST(HfJson, LlamaBpeVectors) {
  const std::string path = cached_tokenizer("llama3_1");
  EL_REQUIRE_VOCAB_CACHE(path, "llama3_1");
  check_hf_vectors(path, "ggml-vocab-llama-bpe.gguf", {});
}

TEST(HfJson, Qwen2VectorsWithQwen3Vocabulary) {
  const std::string path = cached_tokenizer("qwen3");
  EL_REQUIRE_VOCAB_CACHE(path, "qwen3");
  check_hf_vectors(path, "ggml-vocab-qwen2.gguf", {});
}

}  // namespace
}  // namespace edgellm
