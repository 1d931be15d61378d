// Scalar reference routines of the float and 32-block types: layouts bit-exact to ggml, quantizers
// matching ggml's reference quantizers, round-trip error bounds and vec_dot against float dots.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/quants.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

std::vector<float> random_normal(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

double rms(const std::vector<float>& v) {
  double s = 0;
  for (float f : v) s += static_cast<double>(f) * f;
  return std::sqrt(s / static_cast<double>(v.size()));
}

std::vector<float> round_trip(const TypeTraits& t, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(row_bytes(t, n));
  t.from_float(x.data(), q.data(), n);
  std::vector<float> y(x.size());
  t.to_float(q.data(), y.data(), n);
  return y;
}

// Exact layout checks: blocks built by hand, values known by the GGUF definition.
TEST(QuantLayout, Q4_0HandBuiltBlock) {
  BlockQ4_0 b{};
  b.d = fp32_to_fp16(0.5f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  q4_0_to_float(&b, y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f) << j;
    EXPECT_EQ(y[j + 16], (7 - j) * 0.5f) << j;
  }
}

TEST(QuantLayout, Q4_1HandBuiltBlock) {
  BlockQ4_1 b{};
  b.d = fp32_to_fp16(0.25f);
  b.m = fp32_to_fp16(-1.0f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | (3 << 4));
  float y[32];
  q4_1_to_float(&b, y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 0.25f - 1.0f) << j;
    EXPECT_EQ(y[j + 16], 3 * 0.25f - 1.0f) << j;
  }
}

TEST(QuantLayout, Q5_0HandBuiltBlock) {
  BlockQ5_0 b{};
  b.d = fp32_to_fp16(2.0f);
  // 5th bit set for elements 1 and 17 and 31 only: qh bit j belongs to element j.
  const uint32_t qh = (1u << 1) | (1u << 17) | (1u << 31);
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(0x5 | (0xA << 4));
  float y[32];
  q5_0_to_float(&b, y, 32);
  for (int j = 0; j < 32; ++j) {
    const int low = j < 16 ? 0x5 : 0xA;
    const int hi = (j == 1 || j == 17 || j == 31) ? 16 : 0;
    EXPECT_EQ(y[j], static_cast<float>((low | hi) - 16) * 2.0f) << j;
  }
}

TEST(QuantLayout, Q5_1HandBuiltBlock) {
  BlockQ5_1 b{};
  b.d = fp32_to_fp16(0.5f);
  b.m = fp32_to_fp16(3.0f);
  const uint32_t qh = 0x80000001u;  // elements 0 and 31
  std::memcpy(b.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | (j << 4));
  float y[32];
  q5_1_to_float(&b, y, 32);
  for (int j = 0; j < 32; ++j) {
    const int q = (j & 15) | ((j == 0 || j == 31) ? 16 : 0);
    EXPECT_EQ(y[j], static_cast<float>(q) * 0.5f + 3.0f) << j;
  }
}

TEST(QuantLayout, Q8_0HandBuiltBlock) {
  BlockQ8_0 b{};
  b.d = fp32_to_fp16(0.125f);
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 128);
  float y[32];
  q8_0_to_float(&b, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], (j * 8 - 128) * 0.125f) << j;
}

// Quantizers on inputs whose ggml encoding can be worked out by hand.
TEST(QuantEncode, Q4_0MatchesGgmlReference) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // max = -16 -> d = 2, q = (x/2 + 8.5)
  BlockQ4_0 b;
  q4_0_from_float(x, &b, 32);
  EXPECT_EQ(b.d, fp32_to_fp16(2.0f));
  for (int j = 0; j < 16; ++j) {
    const int q0 = (j + 1) / 2, q1 = std::min(15, (j + 17) / 2);
    EXPECT_EQ(b.qs[j], q0 | (q1 << 4)) << j;
  }
}

TEST(QuantEncode, Q5_0MatchesGgmlReference) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // max = -16 -> d = 1, q = j
  BlockQ5_0 b;
  q5_0_from_float(x, &b, 32);
  EXPECT_EQ(b.d, fp32_to_fp16(1.0f));
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  EXPECT_EQ(qh, 0xFFFF0000u);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4)) << j;
}

TEST(QuantEncode, Q4_1AndQ5_1MatchGgmlReference) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16);
  BlockQ4_1 b4;
  q4_1_from_float(x, &b4, 32);
  EXPECT_EQ(b4.d, fp32_to_fp16(1.0f));
  EXPECT_EQ(b4.m, fp32_to_fp16(0.0f));
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b4.qs[j], j | (j << 4)) << j;

  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) - 4.0f;
  BlockQ5_1 b5;
  q5_1_from_float(x, &b5, 32);
  EXPECT_EQ(b5.d, fp32_to_fp16(1.0f));
  EXPECT_EQ(b5.m, fp32_to_fp16(-4.0f));
  uint32_t qh;
  std::memcpy(&qh, b5.qh, 4);
  EXPECT_EQ(qh, 0xFFFF0000u);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b5.qs[j], j | (j << 4)) << j;
}

TEST(QuantEncode, Q8_0RoundsHalvesAwayFromZero) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = 0.5f + static_cast<float>(j) - 16.0f;  // ties at d = 1
  x[0] = -127.0f;                                                              // amax = 127 -> d = 1
  BlockQ8_0 b;
  q8_0_from_float(x, &b, 32);
  EXPECT_EQ(b.d, fp32_to_fp16(1.0f));
  EXPECT_EQ(b.qs[0], -127);
  for (int j = 1; j < 32; ++j) EXPECT_EQ(b.qs[j], static_cast<int>(std::round(x[j]))) << j;
  EXPECT_EQ(b.qs[16], 1);   // 0.5 -> 1
  EXPECT_EQ(b.qs[15], -1);  // -0.5 -> -1
}

TEST(QuantEncode, AllZeroBlocksEncodeAsZero) {
  std::vector<float> zeros(64, 0.0f);
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0}) {
    const TypeTraits* t = type_traits(type);
    ASSERT_NE(t, nullptr);
    for (float f : round_trip(*t, zeros)) EXPECT_EQ(f, 0.0f) << t->name;
  }
}

struct RoundTripCase {
  GgmlType type;
  double max_rel_rmse;  // round-trip RMSE / RMS of the input, on N(0, 1) data
};

class QuantRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(QuantRoundTrip, ErrorWithinBound) {
  const TypeTraits* t = type_traits(GetParam().type);
  ASSERT_NE(t, nullptr);
  for (int64_t blocks : {1, 3, 17, 101}) {
    const int64_t n = blocks * 32;
    const std::vector<float> x = random_normal(n, static_cast<uint32_t>(blocks), 0.7f);
    const std::vector<float> y = round_trip(*t, x);
    std::vector<float> err(x.size());
    for (size_t i = 0; i < x.size(); ++i) err[i] = y[i] - x[i];
    EXPECT_LT(rms(err), GetParam().max_rel_rmse * rms(x)) << t->name << " n=" << n;
    EXPECT_GT(rms(err), 0.0) << t->name << " should be lossy on random data";
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantRoundTrip,
                         ::testing::Values(RoundTripCase{GgmlType::Q4_0, 0.11}, RoundTripCase{GgmlType::Q4_1, 0.09},
                                           RoundTripCase{GgmlType::Q5_0, 0.055},
                                           RoundTripCase{GgmlType::Q5_1, 0.045},
                                           RoundTripCase{GgmlType::Q8_0, 0.0065}, RoundTripCase{GgmlType::F16, 0.0005},
                                           RoundTripCase{GgmlType::BF16, 0.004}),
                         [](const auto& info) { return std::string(type_traits(info.param.type)->name); });

TEST(QuantFloat, F32RoundTripIsExact) {
  const std::vector<float> x = random_normal(37, 5);
  EXPECT_EQ(round_trip(*type_traits(GgmlType::F32), x), x);
}

// vec_dot(w, x) must equal the float dot of the dequantized operands up to float summation error.
class QuantVecDot : public ::testing::TestWithParam<GgmlType> {};

TEST_P(QuantVecDot, MatchesDequantizedFloatDot) {
  const TypeTraits* t = type_traits(GetParam());
  ASSERT_NE(t, nullptr);
  const TypeTraits* a = type_traits(t->vec_dot_type);
  ASSERT_NE(a, nullptr);
  for (int64_t blocks : {1, 3, 17, 64}) {
    const int64_t n = blocks * 32 + (t->block_size == 1 ? 5 : 0);
    const std::vector<float> wf = random_normal(n, 100 + static_cast<uint32_t>(blocks));
    const std::vector<float> xf = random_normal(n, 200 + static_cast<uint32_t>(blocks), 3.0f);
    std::vector<uint8_t> wq(row_bytes(*t, n)), xq(row_bytes(*a, n));
    t->from_float(wf.data(), wq.data(), n);
    a->from_float(xf.data(), xq.data(), n);
    std::vector<float> wd(static_cast<size_t>(n)), xd(static_cast<size_t>(n));
    t->to_float(wq.data(), wd.data(), n);
    a->to_float(xq.data(), xd.data(), n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      ref += static_cast<double>(wd[i]) * xd[i];
      mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
    }
    EXPECT_NEAR(t->vec_dot(n, wq.data(), xq.data()), ref, 2e-6 * mag + 1e-6) << t->name << " n=" << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantVecDot,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0,
                                           GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0),
                         [](const auto& info) { return std::string(type_traits(info.param)->name); });

}  // namespace
}  // namespace edgellm
