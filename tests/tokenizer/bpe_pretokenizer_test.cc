// Pre-tokenizer regexes and the byte-level BPE merge loop on hand-made inputs.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "test_util.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "vocab_cases.h"

namespace edgellm {
namespace {

std::vector<std::string> split(std::string_view pre, std::string_view text) {
  auto regexes = pretokenizer_regexes(pre);
  EXPECT_TRUE(regexes.is_ok()) << regexes.status().message();
  auto p = PreTokenizer::create(*regexes);
  EXPECT_TRUE(p.is_ok()) << p.status().message();
  std::vector<std::string_view> views;
  (*p)->split(text, &views);
  return std::vector<std::string>(views.begin(), views.end());
}

using V = std::vector<std::string>;

TEST(BpePreTokenizer, EveryFamilyCompiles) {
  for (const char* name : {"default", "gpt-2", "llama-bpe", "llama3", "qwen2", "starcoder", "falcon", "deepseek-llm",
                           "deepseek-coder", "mpt", "gpt-neox", "refact", "command-r", "smollm", "olmo", "tekken",
                           "bloom", "chatglm-bpe"}) {
    SCOPED_TRACE(name);
    auto regexes = pretokenizer_regexes(name);
    ASSERT_TRUE(regexes.is_ok()) << regexes.status().message();
    auto p = PreTokenizer::create(*regexes);
    ASSERT_TRUE(p.is_ok()) << p.status().message();
    // Whatever the rules, the pieces cover the text exactly, invalid UTF-8 included.
    const std::string text = "Hello  world's 12345 \xC3\xA9t\xC3\xA9\n\n\t!!  \xFF\xC3 \xE4\xB8\xAD\xE6\x96\x87 x";
    std::vector<std::string_view> pieces;
    (*p)->split(text, &pieces);
    std::string joined;
    for (std::string_view s : pieces) {
      EXPECT_FALSE(s.empty());
      joined += s;
    }
    EXPECT_EQ(joined, text);
  }
}

TEST(BpePreTokenizer, UnknownNameIsAnError) {
  auto r = pretokenizer_regexes("klingon-bpe");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("\"klingon-bpe\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("llama-bpe"), std::string::npos);  // lists the known ones
  auto bad = PreTokenizer::create({"(unclosed"});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("(unclosed"), std::string::npos);
}

TEST(BpePreTokenizer, FamilyRules) {
  EXPECT_EQ(split("gpt-2", "Hello world  it's"), (V{"Hello", " world", " ", " it", "'s"}));
  // Llama 3 groups digits by three and lets one non-letter lead a word; Qwen2 splits every digit.
  EXPECT_EQ(split("llama-bpe", "12345 $abc"), (V{"123", "45", " $", "abc"}));
  EXPECT_EQ(split("llama-bpe", "IT'S"), (V{"IT", "'S"}));
  EXPECT_EQ(split("qwen2", "123"), (V{"1", "2", "3"}));
  EXPECT_EQ(split("starcoder", "x=42"), (V{"x", "=", "4", "2"}));
  EXPECT_EQ(split("falcon", "a+b 1234"), (V{"a", "+", "b", " ", "123", "4"}));
  EXPECT_EQ(split("bloom", "Hi, you"), (V{"Hi", ",", " you"}));
}

// A vocabulary over "a" and "b" whose merges make the rank order, not the position, decide.
Vocab tiny_vocab() {
  Vocab v;
  v.model = VocabModel::kBpe;
  v.model_name = "gpt2";
  v.pre = "gpt-2";
  v.add_bos = false;
  v.add_space_prefix = false;
  v.bos_id = v.eos_id = v.unk_id = Vocab::kNoToken;
  v.tokens = {"a", "b", "ab", "aa", "aab", "Ġ"};
  v.merges = {"a b", "a a", "a ab"};
  EXPECT_TRUE(v.finalize().is_ok());
  return v;
}

TEST(BpeMerges, RankOrderAndLeftmostTies) {
  auto tok = Tokenizer::create(tiny_vocab());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  // "aab": "a b" (rank 0) fires before "a a" (rank 1), then "a ab" joins them.
  EXPECT_EQ((*tok)->encode("aab", false, false), (std::vector<int32_t>{4}));
  // "aaa": equal ranks, the leftmost pair merges first.
  EXPECT_EQ((*tok)->encode("aaa", false, false), (std::vector<int32_t>{3, 0}));
  // A byte the vocabulary cannot spell is dropped when there is no unknown token.
  EXPECT_EQ((*tok)->encode("azb", false, false), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ((*tok)->decode(std::vector<int32_t>{4, 5, 2}), "aab ab");
}

TEST(BpeMerges, MalformedMergeIsAnError) {
  Vocab v = tiny_vocab();
  v.merges.push_back("ab");
  auto tok = Tokenizer::create(std::move(v));
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.status().message().find("tokenizer.ggml.merges[3]"), std::string::npos) << tok.status().message();
}

TEST(BpeMerges, ByteLevelMappingRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string enc = byte_level_encode(all);
  EXPECT_EQ(byte_level_char(' '), "\xC4\xA0");  // Ġ
  EXPECT_EQ(byte_level_char('\n'), "\xC4\x8A");  // Ċ
  EXPECT_EQ(byte_level_char('A'), "A");
  EXPECT_EQ(byte_level_decode(enc), all);
}

// The word cache must not change results, also when threads share one tokenizer.
TEST(BpeMerges, CachedWordsAndThreadsGiveTheSameIds) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-gpt-2.gguf");
  auto tok = test::load_gguf_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-gpt-2.gguf"));
  ASSERT_NE(tok, nullptr);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "The quick brown fox " + std::to_string(i) + " jumps over the lazy dog. ";
  const std::vector<int32_t> first = tok->encode(text, false, false);
  EXPECT_EQ(tok->encode(text, false, false), first);
  EXPECT_EQ(tok->decode(first), text);
  std::vector<int32_t> a, b;
  std::thread ta([&] { a = tok->encode(text, false, false); });
  std::thread tb([&] { b = tok->encode(text, false, false); });
  ta.join();
  tb.join();
  EXPECT_EQ(a, first);
  EXPECT_EQ(b, first);
}

// 10 MB of one letter is a single pre-tokenizer word: the merge loop must stay O(n log n). Takes
// several seconds, so CTest labels it slow (tests/slow_tests.cmake).
TEST(BpeMerges, TenMegabyteWord) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-gpt-2.gguf");
  auto tok = test::load_gguf_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-gpt-2.gguf"));
  ASSERT_NE(tok, nullptr);
  const std::string word(10u << 20, 'a');
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tok->encode(word, false, false);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, 20.0);
  EXPECT_LE(ids.size(), word.size() / 4);  // merges did happen ("aaaa" is a GPT-2 token)
  EXPECT_EQ(tok->decode(ids), word);
  std::printf("10 MB word: %zu tokens in %.2f s\n", ids.size(), secs);
}

}  // namespace
}  // namespace edgellm
