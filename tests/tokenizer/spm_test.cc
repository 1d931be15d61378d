// SentencePiece ("llama") tokenizer against llama.cpp's published vocabulary test vectors.
#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgellm {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// .inp: cases separated by "\n__ggml_vocab_test__\n" (the file ends with a separator, so the piece after
// the last one is empty and not a case). .out: one line of space-separated ids per case.
struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<Case> load_cases(const std::string& inp, const std::string& out) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::string text = read_all(inp);
  std::vector<Case> cases;
  size_t prev = 0;
  for (size_t pos; (pos = text.find(sep, prev)) != std::string::npos; prev = pos + sep.size()) {
    cases.push_back({text.substr(prev, pos - prev), {}});
  }
  std::istringstream lines(read_all(out));
  std::string line;
  for (size_t i = 0; i < cases.size() && std::getline(lines, line); ++i) {
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) cases[i].ids.push_back(id);
  }
  return cases;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& gguf) {
  auto file = GgufFile::open(gguf);
  EXPECT_TRUE(file.is_ok()) << file.status().message();
  if (!file) return nullptr;
  auto vocab = Vocab::from_gguf(*file);
  EXPECT_TRUE(vocab.is_ok()) << vocab.status().message();
  if (!vocab) return nullptr;
  auto tok = Tokenizer::create(std::move(vocab).value());
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok ? std::move(tok).value() : nullptr;
}

void check_vectors(const std::string& name) {
  const std::string base = test::shared_path("testdata/vocab/" + name);
  auto tok = load_tokenizer(base);
  ASSERT_NE(tok, nullptr);
  auto cases = load_cases(base + ".inp", base + ".out");
  ASSERT_EQ(cases.size(), 46u);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i) + ": \"" + cases[i].text + "\"");
    std::vector<int32_t> got = tok->encode(cases[i].text, /*add_bos=*/false, /*parse_special=*/false);
    EXPECT_EQ(got, cases[i].ids);
    EXPECT_EQ(tok->decode(got), cases[i].text);
  }
}

TEST(SpmTokenizer, LlamaSpmVectors) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-llama-spm.gguf");
  check_vectors("ggml-vocab-llama-spm.gguf");
}

TEST(SpmTokenizer, Phi3Vectors) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-phi-3.gguf");
  check_vectors("ggml-vocab-phi-3.gguf");
}

TEST(SpmTokenizer, VocabMetadata) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-phi-3.gguf");
  auto tok = load_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-phi-3.gguf"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 32064);
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 32000);
  EXPECT_EQ(tok->vocab().pad_id, 32000);
  EXPECT_TRUE(tok->vocab().add_bos);
  EXPECT_FALSE(tok->vocab().add_eos);
  EXPECT_TRUE(tok->is_eog(32000));
  const int32_t end = tok->vocab().find("<|end|>");
  ASSERT_NE(end, Vocab::kNoToken);
  EXPECT_TRUE(tok->is_eog(end));
  EXPECT_FALSE(tok->is_eog(tok->vocab().find("\xE2\x96\x81Hello")));
  EXPECT_FALSE(tok->is_eog(-5));
}

TEST(SpmTokenizer, BosAndSpecialParsing) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-llama-spm.gguf");
  auto tok = load_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->encode("Hello world", true, false), (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(tok->encode("", true, false), (std::vector<int32_t>{1}));
  // Without special parsing "</s>" is text; with it, the EOS id, and the word after it gets the dummy prefix.
  std::vector<int32_t> plain = tok->encode("Hello</s>world", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
  EXPECT_EQ(tok->decode(plain), "Hello</s>world");
  EXPECT_EQ(tok->encode("Hello</s>world", false, true), (std::vector<int32_t>{15043, 2, 3186}));
  EXPECT_EQ(tok->encode("<s></s>", false, true), (std::vector<int32_t>{1, 2}));
  // Control tokens vanish from decoded text unless asked for.
  std::vector<int32_t> ids = {1, 15043, 2};
  EXPECT_EQ(tok->decode(ids), "Hello");
  EXPECT_EQ(tok->decode(ids, /*special=*/true), "<s> Hello</s>");
  EXPECT_EQ(tok->token_to_piece(1), "");
  EXPECT_EQ(tok->token_to_piece(13), "\n");       // <0x0A>
  EXPECT_EQ(tok->token_to_piece(15043), " Hello");
  EXPECT_EQ(tok->token_to_piece(0), "\xE2\x96\x85");
  EXPECT_EQ(tok->token_to_piece(99999), "");
}

TEST(SpmTokenizer, InvalidUtf8BecomesByteTokens) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-llama-spm.gguf");
  auto tok = load_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_NE(tok, nullptr);
  std::string text = "a\xFF\x80z\xE2\x82";
  std::vector<int32_t> ids = tok->encode(text, false, false);
  EXPECT_EQ(tok->decode(ids), text);
  for (int32_t id : ids) EXPECT_TRUE(tok->vocab().valid_id(id));
}

// Arbitrary bytes (mostly ill-formed UTF-8, odd lengths) always tokenize to valid ids and decode back.
TEST(SpmTokenizer, RandomBytesRoundTrip) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-phi-3.gguf");
  auto tok = load_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-phi-3.gguf"));
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(5);
  for (int iter = 0; iter < 200; ++iter) {
    std::string text(rng() % 97, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 4 == 0 ? ' ' : rng() % 256);
    std::vector<int32_t> ids = tok->encode(text, false, false);
    for (int32_t id : ids) ASSERT_TRUE(tok->vocab().valid_id(id));
    ASSERT_EQ(tok->decode(ids), text) << "iteration " << iter;
    // With special parsing on, no id may be out of range either.
    for (int32_t id : tok->encode(text + "<|end|>", true, true)) ASSERT_TRUE(tok->vocab().valid_id(id));
  }
}

// A long input must tokenize in well under a second: the merge loop is O(n log n), not quadratic.
TEST(SpmTokenizer, LongInputRoundTrips) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-llama-spm.gguf");
  auto tok = load_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_NE(tok, nullptr);
  std::mt19937 rng(7);
  const char* words[] = {"the", "robot", " ", "  ", "\n", "dreams", "ü", "日本", "3", "!!", "\xF0\x9F\xA6\x99"};
  std::string text;
  while (text.size() < 400000) text += words[rng() % std::size(words)];
  std::string same(200000, 'a');  // one long run of a single character stresses the merge queue
  for (const std::string& t : {text, same}) {
    std::vector<int32_t> ids = tok->encode(t, false, false);
    EXPECT_LT(ids.size(), t.size());
    EXPECT_EQ(tok->decode(ids), t);
  }
}

}  // namespace
}  // namespace edgellm
