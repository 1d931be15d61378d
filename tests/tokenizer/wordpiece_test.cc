// WordPiece ("bert") against llama.cpp's published BGE vectors, plus the pre-tokenization rules.
#include <string>
#include <vector>

#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wordpiece.h"
#include "vocab_cases.h"

namespace edgellm {
namespace {

TEST(WordPiece, BertBgeVectors) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-bert-bge.gguf");
  const std::string base = test::shared_path("testdata/vocab/ggml-vocab-bert-bge.gguf");
  auto tok = test::load_gguf_tokenizer(base);
  ASSERT_NE(tok, nullptr);
  auto cases = test::load_vocab_cases(base + ".inp", base + ".out");
  ASSERT_EQ(cases.size(), 46u);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i) + ": \"" + cases[i].text + "\"");
    EXPECT_EQ(tok->encode(cases[i].text, /*add_bos=*/false, /*parse_special=*/false), cases[i].ids);
  }
}

TEST(WordPiece, MetadataAndFraming) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-bert-bge.gguf");
  auto tok = test::load_gguf_tokenizer(test::shared_path("testdata/vocab/ggml-vocab-bert-bge.gguf"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab().model, VocabModel::kWpm);
  EXPECT_EQ(tok->bos(), 101);  // [CLS]
  EXPECT_EQ(tok->eos(), 102);  // [SEP]
  EXPECT_EQ(tok->vocab().unk_id, 100);
  EXPECT_TRUE(tok->vocab().add_eos);
  const std::vector<int32_t> ids = tok->encode("Hello world", true, false);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], 101);
  EXPECT_EQ(tok->decode(ids), "hello world");
  // A word no piece can spell (a private-use character) is one [UNK], not dropped.
  EXPECT_EQ(tok->encode("\xEE\x80\x80", false, false), (std::vector<int32_t>{100}));
  // Special-token texts are literal unless parse_special.
  EXPECT_EQ(tok->encode("[SEP]", false, true), (std::vector<int32_t>{102}));
  EXPECT_NE(tok->encode("[SEP]", false, false), (std::vector<int32_t>{102}));
}

TEST(WordPiece, PreTokenize) {
  using V = std::vector<std::string>;
  EXPECT_EQ(wordpiece_pre_tokenize("Hello, World!", true), (V{"hello", ",", "world", "!"}));
  EXPECT_EQ(wordpiece_pre_tokenize("Hello, World!", false), (V{"Hello", ",", "World", "!"}));
  // Accents are stripped (NFD, drop marks) only for uncased vocabularies.
  EXPECT_EQ(wordpiece_pre_tokenize("F\xC3\xBChrer", true), (V{"fuhrer"}));
  EXPECT_EQ(wordpiece_pre_tokenize("F\xC3\xBChrer", false), (V{"F\xC3\xBChrer"}));
  // CJK ideographs stand alone; ASCII symbols count as punctuation; controls vanish.
  EXPECT_EQ(wordpiece_pre_tokenize("ab\xE4\xB8\xAD\xE6\x96\x87$x\x01y", true),
            (V{"ab", "\xE4\xB8\xAD", "\xE6\x96\x87", "$", "xy"}));
  EXPECT_EQ(wordpiece_pre_tokenize(" \t\n ", true), V{});
}

}  // namespace
}  // namespace edgellm
