// Vocab construction from GGUF metadata and its validation errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "format/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgellm {
namespace {

using ::testing::HasSubstr;

// A small valid SentencePiece vocabulary as GGUF metadata; tests then break one key.
GgufWriter tiny_vocab_writer() {
  GgufWriter w;
  w.set("general.architecture", GgufValue::of_string("llama"));
  w.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  w.set("tokenizer.ggml.tokens", GgufValue::of_strings({"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b",
                                                        "\xE2\x96\x81" "a", "ab", "\xE2\x96\x81" "ab"}));
  w.set("tokenizer.ggml.scores", GgufValue::of_f32s({0, 0, 0, -1, -2, -3, -4, -5, -6}));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s({2, 3, 3, 1, 1, 1, 1, 1, 1}));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(1));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(2));
  return w;
}

Result<Vocab> vocab_from(const GgufWriter& w) {
  auto bytes = w.write_bytes();
  if (!bytes) return bytes.status();
  auto file = GgufFile::from_bytes(std::move(bytes).value(), "tiny.gguf");
  if (!file) return file.status();
  return Vocab::from_gguf(*file);
}

TEST(Vocab, FromGgufDefaultsAndLookups) {
  auto v = vocab_from(tiny_vocab_writer());
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  EXPECT_EQ(v->size(), 9);
  EXPECT_EQ(v->unk_id, 0);
  EXPECT_EQ(v->pad_id, Vocab::kNoToken);
  EXPECT_TRUE(v->add_bos);
  EXPECT_FALSE(v->add_eos);
  EXPECT_TRUE(v->add_space_prefix);
  EXPECT_EQ(v->find("ab"), 7);
  EXPECT_EQ(v->find("zz"), Vocab::kNoToken);
  EXPECT_EQ(v->byte_to_id['a'], 4);  // no <0x61> piece: the raw byte token is the fallback
  EXPECT_EQ(v->byte_to_id['z'], Vocab::kNoToken);
  EXPECT_EQ(v->type(1), TokenType::kControl);
}

TEST(Vocab, TinyVocabMergesByScore) {
  auto v = vocab_from(tiny_vocab_writer());
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  auto tok = Tokenizer::create(std::move(v).value());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  // "▁a" (-4) outranks "ab" (-5), so " ab" merges ▁+a first, then "▁ab" (-6).
  EXPECT_EQ((*tok)->encode("ab", false, false), (std::vector<int32_t>{8}));
  // 'z' has no piece and no byte fallback: one unknown token.
  EXPECT_EQ((*tok)->encode("az", true, false), (std::vector<int32_t>{1, 6, 0}));
}

TEST(Vocab, MismatchedScoresLength) {
  GgufWriter w = tiny_vocab_writer();
  w.set("tokenizer.ggml.scores", GgufValue::of_f32s({0, 0, 0}));
  auto v = vocab_from(w);
  ASSERT_FALSE(v.is_ok());
  EXPECT_THAT(v.status().message(), HasSubstr("tokenizer.ggml.scores"));
  EXPECT_THAT(v.status().message(), HasSubstr("3 entries"));
}

TEST(Vocab, MismatchedTypesLength) {
  GgufWriter w = tiny_vocab_writer();
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
  auto v = vocab_from(w);
  ASSERT_FALSE(v.is_ok());
  EXPECT_THAT(v.status().message(), HasSubstr("tokenizer.ggml.token_type"));
}

TEST(Vocab, BadTokenTypeValue) {
  GgufWriter w = tiny_vocab_writer();
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s({1, 1, 1, 1, 9, 1, 1, 1, 1}));
  auto v = vocab_from(w);
  ASSERT_FALSE(v.is_ok());
  EXPECT_THAT(v.status().message(), HasSubstr("tokenizer.ggml.token_type[4]"));
}

TEST(Vocab, SpecialIdOutOfRange) {
  GgufWriter w = tiny_vocab_writer();
  w.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(9));
  auto v = vocab_from(w);
  ASSERT_FALSE(v.is_ok());
  EXPECT_THAT(v.status().message(), HasSubstr("tokenizer.ggml.eos_token_id"));
  EXPECT_THAT(v.status().message(), HasSubstr("out of range"));
}

TEST(Vocab, EmptyVocabulary) {
  GgufWriter w = tiny_vocab_writer();
  w.set("tokenizer.ggml.tokens", GgufValue::of_strings({}));
  w.set("tokenizer.ggml.scores", GgufValue::of_f32s({}));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s({}));
  auto v = vocab_from(w);
  ASSERT_FALSE(v.is_ok());
  EXPECT_THAT(v.status().message(), HasSubstr("empty"));
}

TEST(Vocab, UnsupportedModelIsNamed) {
  GgufWriter w = tiny_vocab_writer();
  w.set("tokenizer.ggml.model", GgufValue::of_string("rwkv"));
  auto v = vocab_from(w);
  ASSERT_FALSE(v.is_ok());
  EXPECT_THAT(v.status().message(), HasSubstr("\"rwkv\""));
  EXPECT_THAT(v.status().message(), HasSubstr("tokenizer.ggml.model"));
}

TEST(Vocab, MissingTokensKey) {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  auto v = vocab_from(w);
  ASSERT_FALSE(v.is_ok());
  EXPECT_THAT(v.status().message(), HasSubstr("tokenizer.ggml.tokens"));
}

TEST(Vocab, HandBuiltMismatchRejectedByCreate) {
  Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>", "a"};
  v.scores = {0, 0};
  auto tok = Tokenizer::create(std::move(v));
  ASSERT_FALSE(tok.is_ok());
  EXPECT_THAT(tok.status().message(), HasSubstr("tokenizer.ggml.scores: 2 entries"));
}

}  // namespace
}  // namespace edgellm
