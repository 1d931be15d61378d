// Byte-level BPE vocabularies from GGUF metadata: family defaults, special tokens,
// end-of-generation ids and the errors for bad metadata.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "format/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgellm {
namespace {

using ::testing::HasSubstr;

// "Ġ" is the byte-level spelling of a space.
GgufWriter gpt2_writer(const std::string& pre) {
  GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::of_string(pre));
  w.set("tokenizer.ggml.tokens", GgufValue::of_strings({"h", "i", "\xC4\xA0", "hi", "\xC4\xA0hi", "<|im_start|>",
                                                        "<|im_end|>", "<tool>"}));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32s({1, 1, 1, 1, 1, 3, 3, 4}));
  w.set("tokenizer.ggml.merges", GgufValue::of_strings({"h i", "\xC4\xA0 hi"}));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(6));
  w.set("tokenizer.ggml.eot_token_id", GgufValue::of_u32(6));
  return w;
}

Result<std::unique_ptr<Tokenizer>> tokenizer_from(const GgufWriter& w) {
  EL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, w.write_bytes());
  EL_ASSIGN_OR_RETURN(GgufFile file, GgufFile::from_bytes(std::move(bytes), "tiny.gguf"));
  EL_ASSIGN_OR_RETURN(Vocab v, Vocab::from_gguf(file));
  return Tokenizer::create(std::move(v));
}

TEST(BpeGguf, FamilyDefaultsAndSpecialTokens) {
  auto tok = tokenizer_from(gpt2_writer("qwen2"));
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  const Tokenizer& t = **tok;
  EXPECT_EQ(t.vocab().model, VocabModel::kBpe);
  EXPECT_FALSE(t.vocab().add_bos);  // byte-level BPE adds no BOS unless the metadata says so
  EXPECT_FALSE(t.vocab().ignore_merges);
  EXPECT_FALSE(t.strips_leading_space());
  EXPECT_EQ(t.encode("hi hi", false, false), (std::vector<int32_t>{3, 4}));
  // Control tokens are text unless parse_special; user-defined ones always match.
  EXPECT_EQ(t.encode("<|im_start|>hi<tool>", false, true), (std::vector<int32_t>{5, 3, 7}));
  std::vector<int32_t> literal = t.encode("<|im_start|>", false, false);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), 5), 0);
  EXPECT_TRUE(t.is_eog(6));
  EXPECT_FALSE(t.is_eog(5));
  EXPECT_EQ(t.decode(std::vector<int32_t>{5, 3, 4, 6}), "hi hi");
  EXPECT_EQ(t.decode(std::vector<int32_t>{5, 3, 4, 6}, /*special=*/true), "<|im_start|>hi hi<|im_end|>");
}

TEST(BpeGguf, Llama3PreTokenizerIgnoresMergesAndAddsBos) {
  GgufWriter w = gpt2_writer("llama-bpe");
  w.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(5));
  auto tok = tokenizer_from(w);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_TRUE((*tok)->vocab().ignore_merges);
  EXPECT_TRUE((*tok)->vocab().add_bos);
}

TEST(BpeGguf, MetadataErrorsNameTheKey) {
  auto unknown_pre = tokenizer_from(gpt2_writer("klingon"));
  ASSERT_FALSE(unknown_pre.is_ok());
  EXPECT_THAT(unknown_pre.status().message(), HasSubstr("tokenizer.ggml.pre: unknown pre-tokenizer \"klingon\""));

  GgufWriter bad_merge = gpt2_writer("gpt-2");
  bad_merge.set("tokenizer.ggml.merges", GgufValue::of_strings({"h i", "hi"}));
  auto m = tokenizer_from(bad_merge);
  ASSERT_FALSE(m.is_ok());
  EXPECT_THAT(m.status().message(), HasSubstr("tokenizer.ggml.merges[1]"));

  GgufWriter rwkv = gpt2_writer("gpt-2");
  rwkv.set("tokenizer.ggml.model", GgufValue::of_string("rwkv"));
  auto r = tokenizer_from(rwkv);
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"rwkv\" is not supported"));
}

TEST(BpeGguf, MissingPreMeansDefault) {
  GgufWriter w = gpt2_writer("gpt-2");
  w.set("tokenizer.ggml.pre", GgufValue::of_string(""));
  auto tok = tokenizer_from(w);
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ((*tok)->vocab().pre, "default");
  EXPECT_EQ((*tok)->encode("hi hi", false, false), (std::vector<int32_t>{3, 4}));
}

}  // namespace
}  // namespace edgellm
