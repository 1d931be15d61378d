// elq formats: id table, GGUF geometry, bit-plane layout, round-trip RMSE per bit width, and the table-lookup
// reference dot against the exact float dot.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/elq.h"
#include "kernels/ggml_type.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

std::vector<float> random_normal(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

std::vector<uint8_t> quantize(const ElqFormat& f, const std::vector<float>& x) {
  std::vector<uint8_t> q(static_cast<size_t>(x.size() / f.group) * f.block_bytes);
  elq_quantize(f, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

float rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return static_cast<float>(std::sqrt(s / static_cast<double>(a.size())));
}

TEST(ElqFormat, IdsNamesAndGeometry) {
  EXPECT_EQ(elq_type_id(4, 64, false), 1024u + 16 + 6);
  const ElqFormat* f = elq_format(elq_type_id(4, 64, true));
  ASSERT_NE(f, nullptr);
  EXPECT_STREQ(f->name, "elq4z_g64");
  EXPECT_EQ(f->block_bytes, 4u + 32u);
  EXPECT_EQ(elq_format(elq_type_id(3, 128, false))->block_bytes, 2u + 48u);
  EXPECT_EQ(elq_format(elq_ternary_id(128))->block_bytes, 2u + 32u);
  EXPECT_EQ(elq_type_id(0, 64, false), 0u);
  EXPECT_EQ(elq_type_id(9, 64, false), 0u);
  EXPECT_EQ(elq_type_id(4, 96, false), 0u);
  EXPECT_EQ(elq_format(kElqEndId), nullptr);
  // Every id is a distinct, named GGUF type with its geometry, and parses back from its name.
  for (uint32_t id = kElqFirstId; id < kElqEndId; ++id) {
    const ElqFormat* e = elq_format(id);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->id, id);
    EXPECT_STREQ(ggml_type_name(id), e->name);
    EXPECT_EQ(ggml_type_block_size(id), e->group);
    EXPECT_EQ(ggml_type_block_bytes(id), e->block_bytes);
    EXPECT_EQ(ggml_type_from_name(e->name), static_cast<GgmlType>(id));
    const TypeTraits* t = type_traits(id);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type_size, e->block_bytes);
    EXPECT_EQ(static_cast<uint32_t>(t->vec_dot_type), kElqActId);
    ASSERT_NE(type_traits(t->vec_dot_type), nullptr);
  }
  EXPECT_EQ(ggml_type_from_name("ELQ2_G32"), static_cast<GgmlType>(elq_type_id(2, 32, false)));
  EXPECT_EQ(ggml_type_name(kElqEndId), nullptr);
}

TEST(ElqFormat, BitPlaneLayout) {
  // 3-bit symmetric, group 32: w = d * (q - 3.5). Choose x so q[i] = i % 8 exactly with d = 1.
  const ElqFormat& f = *elq_format(elq_type_id(3, 32, false));
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i % 8) - 3.5f;
  const std::vector<uint8_t> q = quantize(f, x);
  EXPECT_EQ(fp16_to_fp32(static_cast<uint16_t>(q[0] | q[1] << 8)), 1.0f);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 32; ++i) EXPECT_EQ((q[2 + k * 4 + i / 8] >> (i % 8)) & 1, ((i % 8) >> k) & 1) << k << " " << i;
  std::vector<float> back(32);
  elq_dequantize(f, q.data(), back.data(), 32);
  EXPECT_EQ(back, x);
}

// Round-trip RMSE on N(0,1) weights, bounded per width: each extra bit should roughly halve the error.
TEST(ElqFormat, RoundTripRmsePerBitWidth) {
  const std::vector<float> x = random_normal(128 * 64, 7);
  // Measured at group 128 (the worst), plus ~4%: 0.596 0.339 0.189 0.0995 0.0508 0.0256 0.0128 0.0064.
  const float bound[9] = {0, 0.62f, 0.353f, 0.196f, 0.104f, 0.053f, 0.0267f, 0.0134f, 0.0067f};
  for (int g : {32, 64, 128}) {
    float prev = 10.0f;
    for (int bits = 1; bits <= 8; ++bits) {
      for (bool zp : {false, true}) {
        const ElqFormat& f = *elq_format(elq_type_id(bits, g, zp));
        std::vector<float> back(x.size());
        elq_dequantize(f, quantize(f, x).data(), back.data(), static_cast<int64_t>(x.size()));
        const float e = rmse(x, back);
        SCOPED_TRACE(f.name);
        EXPECT_LT(e, bound[bits]);
        if (!zp) {
          EXPECT_LT(e, prev * 0.62f);
          prev = e;
        }
      }
    }
  }
  const ElqFormat& t = *elq_format(elq_ternary_id(64));
  std::vector<float> back(x.size());
  elq_dequantize(t, quantize(t, x).data(), back.data(), static_cast<int64_t>(x.size()));
  EXPECT_LT(rmse(x, back), 0.44f);  // measured 0.427
}

TEST(ElqFormat, TernaryValuesAreScaleTimesMinusOneZeroOne) {
  const ElqFormat& t = *elq_format(elq_ternary_id(32));
  std::vector<float> x = {2.0f, -2.0f, 0.1f, 1.9f};
  x.resize(32, 0.0f);
  std::vector<float> back(32);
  elq_dequantize(t, quantize(t, x).data(), back.data(), 32);
  EXPECT_NEAR(back[0], 2.0f, 0.1f);
  EXPECT_NEAR(back[1], -2.0f, 0.1f);
  EXPECT_EQ(back[2], 0.0f);
  EXPECT_EQ(back[1], -back[0]);
  EXPECT_EQ(back[3], back[0]);
}

TEST(ElqFormat, ZeroAndConstantGroups) {
  for (uint32_t id : {elq_type_id(4, 64, false), elq_type_id(4, 64, true), elq_ternary_id(64)}) {
    const ElqFormat& f = *elq_format(id);
    std::vector<float> zeros(64, 0.0f), back(64, 1.0f);
    elq_dequantize(f, quantize(f, zeros).data(), back.data(), 64);
    for (float v : back) EXPECT_EQ(v, 0.0f) << f.name;
  }
  const ElqFormat& z = *elq_format(elq_type_id(2, 32, true));
  std::vector<float> c(32, 0.75f), back(32);
  elq_dequantize(z, quantize(z, c).data(), back.data(), 32);
  for (float v : back) EXPECT_EQ(v, 0.75f);
}

TEST(ElqFormat, ActivationTablesReconstructInputs) {
  const std::vector<float> x = random_normal(96, 3);
  std::vector<BlockElqAct> act(3);
  elq_act_from_float(x.data(), act.data(), 96);
  std::vector<float> back(96);
  elq_act_to_float(act.data(), back.data(), 96);
  for (int b = 0; b < 3; ++b) {
    for (int j = 0; j < 8; ++j)
      for (int idx = 0; idx < 16; ++idx) ASSERT_EQ(act[b].tables[j][idx], -act[b].tables[j][15 - idx]);
    float s = 0;
    for (int i = 0; i < 32; ++i) {
      s += x[b * 32 + i];
      // Table steps are scale = max|4-sum| / 127, so each x comes back within one step.
      EXPECT_NEAR(back[b * 32 + i], x[b * 32 + i], act[b].scale);
    }
    EXPECT_NEAR(act[b].sum, s, 1e-4f);
  }
}

// The lookup dot stays within the table quantization error of the exact dot, for every kind of format.
TEST(ElqFormat, LutDotMatchesFloatDot) {
  for (int64_t n : {128, 384, 2048}) {
    const std::vector<float> w = random_normal(n, 11), x = random_normal(n, 12);
    std::vector<BlockElqAct> act(static_cast<size_t>(n / 32));
    elq_act_from_float(x.data(), act.data(), n);
    for (uint32_t id = kElqFirstId; id < kElqEndId; ++id) {
      const ElqFormat& f = *elq_format(id);
      if (n % f.group != 0) continue;
      const std::vector<uint8_t> q = quantize(f, w);
      const float exact = elq_vec_dot_f32(f, n, q.data(), x.data());
      const float lut = elq_vec_dot_lut(f, n, q.data(), act.data());
      const float via_traits = type_traits(id)->vec_dot(n, q.data(), act.data());
      EXPECT_EQ(lut, via_traits);
      // Error ~ table step (max|4-sum|/127 ~ 0.05) × |w| × sqrt(n / 4) lookups.
      EXPECT_NEAR(lut, exact, 0.02f * std::sqrt(static_cast<float>(n)) + 0.01f * std::fabs(exact))
          << f.name << " n=" << n;
    }
  }
}

TEST(ElqFormat, NonFiniteInputsBecomeZero) {
  std::vector<float> x(64, 0.5f);
  x[3] = NAN, x[10] = INFINITY, x[20] = -INFINITY;
  for (uint32_t id : {elq_type_id(4, 64, false), elq_type_id(3, 64, true), elq_ternary_id(64)}) {
    const ElqFormat& f = *elq_format(id);
    std::vector<float> back(64);
    elq_dequantize(f, quantize(f, x).data(), back.data(), 64);
    for (float v : back) EXPECT_TRUE(std::isfinite(v)) << f.name;
    EXPECT_NEAR(back[0], 0.5f, 0.1f) << f.name;
  }
  std::vector<BlockElqAct> act(2);
  elq_act_from_float(x.data(), act.data(), 64);
  EXPECT_TRUE(std::isfinite(act[0].scale) && std::isfinite(act[0].sum));
  EXPECT_EQ(act[0].sum, 0.5f * 29);
}

}  // namespace
}  // namespace edgellm
