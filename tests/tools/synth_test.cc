// Presets and random-weight synthesis: shapes, determinism, llama3 rope factors, type fallbacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "format/gguf.h"
#include "model/presets.h"
#include "model/synth.h"

namespace edgellm {
namespace {

TEST(Presets, ShapesAreConsistent) {
  for (const Preset& p : presets()) {
    SCOPED_TRACE(std::string(p.name));
    EXPECT_EQ(p.n_embd % p.n_head, 0);
    EXPECT_EQ(p.n_head % p.n_head_kv, 0);
    EXPECT_EQ(p.n_embd % 32, 0);
    EXPECT_EQ(p.n_ff % 32, 0);
    EXPECT_EQ(find_preset(p.name), &p);
  }
  EXPECT_EQ(find_preset("llama3.2-1b")->head_dim(), 64);
  EXPECT_EQ(find_preset("llama3.2-3b")->head_dim(), 128);
  EXPECT_FALSE(find_preset("llama3.1-8b")->tied_output);
  EXPECT_TRUE(find_preset("qwen2.5-0.5b")->qkv_bias);
  EXPECT_EQ(find_preset("nope"), nullptr);
}

TEST(Presets, Llama3RopeFactorsFollowTheConverter) {
  const Preset& p = *find_preset("llama3.2-1b");
  const std::vector<float> f = llama3_rope_factors(p);
  ASSERT_EQ(f.size(), 32u);
  EXPECT_FLOAT_EQ(f.front(), 1.0f);   // highest frequency: wavelength 2*pi < 8192/4
  EXPECT_FLOAT_EQ(f.back(), 32.0f);   // lowest frequency: wavelength > 8192
  EXPECT_TRUE(std::is_sorted(f.begin(), f.end()));
  // Some frequencies fall in the smooth band between the two wavelengths.
  EXPECT_TRUE(std::any_of(f.begin(), f.end(), [](float x) { return x > 1.0f && x < 32.0f; }));
  EXPECT_TRUE(llama3_rope_factors(*find_preset("tiny")).empty());
}

TEST(Synth, KQuantFallbackForRowsThatAreNotMultiplesOf256) {
  EXPECT_EQ(synth_weight_type(GgmlType::Q4_K, 576), GgmlType::Q5_0);
  EXPECT_EQ(synth_weight_type(GgmlType::Q5_K, 896), GgmlType::Q5_1);
  EXPECT_EQ(synth_weight_type(GgmlType::Q6_K, 576), GgmlType::Q8_0);
  EXPECT_EQ(synth_weight_type(GgmlType::Q2_K, 576), GgmlType::Q4_0);
  EXPECT_EQ(synth_weight_type(GgmlType::Q4_K, 2048), GgmlType::Q4_K);
  EXPECT_EQ(synth_weight_type(GgmlType::Q4_0, 576), GgmlType::Q4_0);
}

std::vector<uint8_t> synth_bytes(const char* preset, GgmlType type, uint64_t seed, int threads) {
  SynthOptions o;
  o.seed = seed;
  o.n_threads = threads;
  auto w = synthesize(*find_preset(preset), type, o);
  EXPECT_TRUE(w.is_ok()) << w.status().message();
  auto b = w->write_bytes();
  EXPECT_TRUE(b.is_ok());
  return std::move(*b);
}

TEST(Synth, DeterministicAcrossThreadCountsAndSeedSensitive) {
  const auto a = synth_bytes("tiny", GgmlType::Q4_0, 5, 1);
  const auto b = synth_bytes("tiny", GgmlType::Q4_0, 5, 3);
  const auto c = synth_bytes("tiny", GgmlType::Q4_0, 6, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Synth, MetadataAndTensorsAsLlamaCppExpects) {
  auto f = GgufFile::from_bytes(synth_bytes("tiny-qwen2", GgmlType::F32, 1, 2), "tiny-qwen2");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(*f->get_string("general.architecture"), "qwen2");
  EXPECT_EQ(*f->get_int("qwen2.rope.dimension_count"), 64);
  EXPECT_EQ(*f->get_int("qwen2.vocab_size"), 2048);
  EXPECT_EQ(*f->get_int("general.file_type"), 0);
  EXPECT_EQ((*f->get_string_array("tokenizer.ggml.tokens"))->at(3 + 0x41), "<0x41>");
  const GgufTensorInfo* bias = f->find_tensor("blk.3.attn_k.bias");
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(bias->dims, std::vector<int64_t>({128}));
  const GgufTensorInfo* norm = f->find_tensor("blk.0.attn_norm.weight");
  ASSERT_NE(norm, nullptr);
  const float* nv = reinterpret_cast<const float*>(norm->data);
  double mean = 0;
  for (int i = 0; i < 256; ++i) mean += nv[i] / 256.0;
  EXPECT_NEAR(mean, 1.0, 0.02);
  const GgufTensorInfo* q = f->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  const float* qv = reinterpret_cast<const float*>(q->data);
  double sq = 0;
  for (uint64_t i = 0; i < q->n_elements; ++i) sq += static_cast<double>(qv[i]) * qv[i];
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(q->n_elements)), 0.02, 0.001);
}

TEST(Synth, ErrorsAreValues) {
  SynthOptions o;
  o.n_vocab = 100;
  EXPECT_FALSE(synthesize(*find_preset("tiny"), GgmlType::Q4_0, o).is_ok());
  EXPECT_FALSE(synthesize(*find_preset("tiny"), GgmlType::IQ2_XXS, {}).is_ok());
  SynthOptions v;
  v.vocab_path = "/nonexistent/vocab.gguf";
  EXPECT_FALSE(synthesize(*find_preset("tiny"), GgmlType::Q4_0, v).is_ok());
}

}  // namespace
}  // namespace edgellm
