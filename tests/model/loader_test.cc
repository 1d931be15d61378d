// Loading tiny models through the architecture registry: hyper-parameters, tensor checks, error messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/registry.h"
#include "model/tiny_model.h"

namespace edgellm {
namespace {

using test::TinyModel;
using test::TinySpec;
using ::testing::HasSubstr;

Result<std::unique_ptr<TransformerModel>> load(const GgufWriter& w, std::unique_ptr<GgufFile>* keep) {
  Result<std::vector<uint8_t>> bytes = w.write_bytes();
  if (!bytes) return bytes.status();
  Result<GgufFile> f = GgufFile::from_bytes(std::move(bytes).value(), "tiny");
  if (!f) return f.status();
  *keep = std::make_unique<GgufFile>(std::move(f).value());
  return load_transformer(**keep);
}

std::string load_error(const GgufWriter& w) {
  std::unique_ptr<GgufFile> keep;
  auto r = load(w, &keep);
  return r ? std::string("(loaded)") : r.status().message();
}

TEST(ModelLoader, ReadsHyperParametersOfEachArchitecture) {
  for (const char* arch : {"llama", "qwen2", "qwen3"}) {
    TinySpec s;
    s.arch = arch;
    s.tied = std::string(arch) == "qwen2";
    std::unique_ptr<GgufFile> keep;
    auto m = load(test::tiny_writer(test::make_tiny_model(s)), &keep);
    ASSERT_TRUE(m) << arch << ": " << m.status().message();
    const HParams& hp = (*m)->hp;
    EXPECT_EQ(hp.arch, arch);
    EXPECT_EQ(hp.n_vocab, 67);
    EXPECT_EQ(hp.n_embd, 64);
    EXPECT_EQ(hp.n_layer, 2);
    EXPECT_EQ(hp.n_head_kv, 2);
    EXPECT_EQ(hp.head_dim, 16);
    EXPECT_EQ(hp.rope_dim, 16);
    EXPECT_EQ(hp.rope_mode, std::string(arch) == "llama" ? RopeMode::kNormal : RopeMode::kNeox);
    EXPECT_EQ((*m)->tied_output, s.tied);
    EXPECT_EQ((*m)->layers[1].bq.size(), std::string(arch) == "qwen2" ? 64u : 0u);
    EXPECT_EQ((*m)->layers[1].k_norm.size(), std::string(arch) == "qwen3" ? 16u : 0u);
  }
}

TEST(ModelLoader, Qwen3HeadDimFromKeyLength) {
  TinySpec s;
  s.arch = "qwen3";
  s.head_dim = 24;  // 4 heads × 24 = 96 != n_embd 64, as in real Qwen3 models
  std::unique_ptr<GgufFile> keep;
  auto m = load(test::tiny_writer(test::make_tiny_model(s)), &keep);
  ASSERT_TRUE(m) << m.status().message();
  EXPECT_EQ((*m)->hp.head_dim, 24);
  EXPECT_EQ((*m)->hp.q_dim(), 96);
}

TEST(ModelLoader, MissingTensorIsNamed) {
  TinyModel m = test::make_tiny_model(TinySpec{});
  m.w.erase("blk.1.ffn_up.weight");
  EXPECT_THAT(load_error(test::tiny_writer(m)), HasSubstr("tensor blk.1.ffn_up.weight is missing"));
}

TEST(ModelLoader, WrongShapeNamesTensorAndBothShapes) {
  TinyModel m = test::make_tiny_model(TinySpec{});
  m.w["blk.0.attn_k.weight"].resize(64 * 48);  // 48 rows instead of kv_dim 32
  EXPECT_THAT(load_error(test::tiny_writer(m)),
              HasSubstr("blk.0.attn_k.weight: shape [64, 48] does not match the expected [64, 32]"));
}

TEST(ModelLoader, HeadCountMustDivideEmbedding) {
  TinySpec s;
  s.arch = "qwen2";
  GgufWriter w = test::tiny_writer(test::make_tiny_model(s));
  w.set("qwen2.attention.head_count", GgufValue::of_u32(14));
  w.set("qwen2.attention.head_count_kv", GgufValue::of_u32(14));
  EXPECT_THAT(load_error(w), HasSubstr("qwen2.attention.head_count 14 does not divide qwen2.embedding_length 64"));
}

TEST(ModelLoader, KvHeadCountMustDivideHeadCount) {
  GgufWriter w = test::tiny_writer(test::make_tiny_model(TinySpec{}));
  w.set("llama.attention.head_count_kv", GgufValue::of_u32(3));
  EXPECT_THAT(load_error(w), HasSubstr("llama.attention.head_count_kv 3 does not divide llama.attention.head_count 4"));
}

TEST(ModelLoader, MissingRequiredKeyIsNamed) {
  TinyModel m = test::make_tiny_model(TinySpec{});
  GgufWriter w = test::tiny_writer(m);
  w.set("llama.block_count", GgufValue::of_string("two"));
  EXPECT_THAT(load_error(w), HasSubstr("llama.block_count"));
}

TEST(ModelLoader, UnsupportedTensorTypeIsRefused) {
  TinySpec s;
  s.n_ff = 256;  // one iq2_xxs block per ffn_down row
  TinyModel m = test::make_tiny_model(s);
  m.w.erase("blk.0.ffn_down.weight");
  GgufWriter w = test::tiny_writer(m);
  ASSERT_TRUE(w.add_tensor("blk.0.ffn_down.weight", GgmlType::IQ2_XXS, {256, 64}, std::vector<uint8_t>(64 * 66)));
  EXPECT_THAT(load_error(w), HasSubstr("blk.0.ffn_down.weight: tensor type iq2_xxs is not supported"));
}

TEST(ModelLoader, UnknownArchitectureListsSupportedOnes) {
  GgufWriter w = test::tiny_writer(test::make_tiny_model(TinySpec{}));
  w.set("general.architecture", GgufValue::of_string("gpt2"));
  EXPECT_THAT(load_error(w), HasSubstr("architecture 'gpt2' is not supported (supported: llama, qwen2, qwen3)"));
}

TEST(ModelLoader, RopeFreqsTensorIsLoaded) {
  TinySpec s;
  s.rope_freqs = true;
  std::unique_ptr<GgufFile> keep;
  auto m = load(test::tiny_writer(test::make_tiny_model(s)), &keep);
  ASSERT_TRUE(m) << m.status().message();
  ASSERT_EQ((*m)->rope_factors.size(), 8u);
  EXPECT_FLOAT_EQ((*m)->rope_factors[0], 1.0f);
  EXPECT_GT((*m)->rope_factors[7], 3.0f);
}

TEST(ModelLoader, Llama3ScalingDerivesFactorsWithoutTensor) {
  GgufWriter w = test::tiny_writer(test::make_tiny_model(TinySpec{}));
  w.set("llama.rope.freq_base", GgufValue::of_f32(500000.0f));
  w.set("llama.rope.scaling.type", GgufValue::of_string("llama3"));
  w.set("llama.rope.scaling.factor", GgufValue::of_f32(8.0f));
  w.set("llama.rope.scaling.original_context_length", GgufValue::of_u32(8192));
  std::unique_ptr<GgufFile> keep;
  auto m = load(w, &keep);
  ASSERT_TRUE(m) << m.status().message();
  const std::vector<float>& f = (*m)->rope_factors;
  ASSERT_EQ(f.size(), 8u);
  EXPECT_FLOAT_EQ(f.front(), 1.0f);  // highest frequency: unchanged
  EXPECT_FLOAT_EQ(f.back(), 8.0f);   // lowest frequency: slowed by the full factor
  for (size_t i = 1; i < f.size(); ++i) EXPECT_GE(f[i], f[i - 1]);
}

TEST(ModelLoader, BadRopeScalingTypeIsNamed) {
  GgufWriter w = test::tiny_writer(test::make_tiny_model(TinySpec{}));
  w.set("llama.rope.scaling.type", GgufValue::of_string("yarn2"));
  EXPECT_THAT(load_error(w), HasSubstr("llama.rope.scaling.type 'yarn2' is not supported"));
}

}  // namespace
}  // namespace edgellm
