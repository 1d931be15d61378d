// Tests for the k-quant reference kernels (Q2_K ... Q6_K, Q8_K): hand-built blocks pin ggml's bit
// layouts, random round trips bound the quantizers' error, vec_dot is checked against the float dot of
// the dequantized rows, and extreme inputs must never produce NaN/inf.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/quants.h"

namespace edgellm {
namespace {

using Bytes = std::vector<uint8_t>;

std::vector<float> gaussian(int64_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

template <typename Block>
std::vector<float> dequant(const Block& b, void (*to_float)(const void*, float*, int64_t)) {
  std::vector<float> y(kQK_K);
  to_float(&b, y.data(), kQK_K);
  return y;
}

// ---------------------------------------------------------------------------------------------
// (a) Hand-built blocks: expected values worked out from the format definitions.

TEST(KQuantLayout, Q2K) {
  BlockQ2_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(0.25f);
  b.scales[2] = 0x31;   // sc 1, m 3
  b.scales[4] = 0x02;   // sc 2, m 0
  b.scales[6] = 0xF3;   // sc 3, m 15
  b.scales[14] = 0x11;  // sc 1, m 1
  b.qs[0] = 0xE4;       // bit pairs 0,1,2,3 -> elements 0, 32, 64, 96
  b.qs[37] = 0x80;      // bits 6-7 = 2 -> element 128 + 96 + 5 = 229
  std::vector<float> want(kQK_K, 0.0f);
  for (int e = 32; e < 48; ++e) want[e] = -0.75f;    // 0.5·1·0 - 0.25·3
  for (int e = 96; e < 112; ++e) want[e] = -3.75f;   // 0.5·3·0 - 0.25·15
  for (int e = 224; e < 240; ++e) want[e] = -0.25f;  // 0.5·1·0 - 0.25·1
  want[32] = -0.25f;                                 // 0.5·1·1 - 0.75
  want[64] = 2.0f;                                   // 0.5·2·2
  want[96] = 0.75f;                                  // 0.5·3·3 - 3.75
  want[229] = 0.75f;                                 // 0.5·1·2 - 0.25
  EXPECT_EQ(dequant(b, q2_k_to_float), want);
}

TEST(KQuantLayout, Q3K) {
  BlockQ3_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = fp32_to_fp16(0.5f);
  // Scales stored +32: every scale 0 (0b10'0000) except s0 = +1, s9 = -3, s15 = +31.
  const uint8_t scales[12] = {0x01, 0xD0, 0, 0, 0, 0, 0, 0xF0, 0xAA, 0x9A, 0xAA, 0xEA};
  std::memcpy(b.scales, scales, 12);
  // With qs and hmask clear every level is 0 - 4 = -4.
  b.hmask[0] = 0x01;   // element 0: high bit set
  b.qs[0] = 0x03;      // element 0: low bits 3 -> q = 3
  b.hmask[16] = 0x10;  // element 144 (bit 144/32 = 4 of hmask[16])
  b.qs[48] = 0x02;     // element 144 low bits: qs[32 + 16], shift 0 -> q = 2
  b.hmask[31] = 0x80;  // element 255
  b.qs[63] = 0x40;     // element 255: bits 6-7 of qs[32 + 31] -> q = 1
  std::vector<float> want(kQK_K, 0.0f);
  for (int e = 0; e < 16; ++e) want[e] = -2.0f;      // 0.5·1·-4
  for (int e = 144; e < 160; ++e) want[e] = 6.0f;    // 0.5·-3·-4
  for (int e = 240; e < 256; ++e) want[e] = -62.0f;  // 0.5·31·-4
  want[0] = 1.5f;                                    // 0.5·1·3
  want[144] = -3.0f;                                 // 0.5·-3·2
  want[255] = 15.5f;                                 // 0.5·31·1
  EXPECT_EQ(dequant(b, q3_k_to_float), want);
}

// Scales shared by the Q4_K and Q5_K cases: sc0 = 2, m0 = 1, sc5 = 33, m5 = 18, the rest 0.
constexpr uint8_t kK4Scales[12] = {0x02, 0x80, 0, 0, 0x01, 0x40, 0, 0, 0, 0x21, 0, 0};

TEST(KQuantLayout, Q4K) {
  BlockQ4_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(1.0f);
  std::memcpy(b.scales, kK4Scales, 12);
  b.qs[0] = 0xF7;   // element 0 = 7 (group 0), element 32 = 15 (group 1, scale 0)
  b.qs[67] = 0xA0;  // element 128 + 32 + 3 = 163 = 10 (group 5)
  std::vector<float> want(kQK_K, 0.0f);
  for (int e = 0; e < 32; ++e) want[e] = -1.0f;      // 0.5·2·0 - 1·1
  for (int e = 160; e < 192; ++e) want[e] = -18.0f;  // 0.5·33·0 - 1·18
  want[0] = 6.0f;                                    // 1·7 - 1
  want[163] = 147.0f;                                // 16.5·10 - 18
  EXPECT_EQ(dequant(b, q4_k_to_float), want);
}

TEST(KQuantLayout, Q5K) {
  BlockQ5_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = fp32_to_fp16(0.5f);
  b.dmin = fp32_to_fp16(1.0f);
  std::memcpy(b.scales, kK4Scales, 12);
  b.qs[0] = 0xF7;
  b.qs[67] = 0xA0;
  b.qh[0] = 0x01;  // element 0 gets +16
  b.qh[1] = 0x02;  // element 33 gets +16 (group 1, scale 0: still 0)
  b.qh[3] = 0x20;  // element 163 gets +16
  b.qh[4] = 0x20;  // element 164 gets +16
  std::vector<float> want(kQK_K, 0.0f);
  for (int e = 0; e < 32; ++e) want[e] = -1.0f;
  for (int e = 160; e < 192; ++e) want[e] = -18.0f;
  want[0] = 22.0f;     // 1·23 - 1
  want[163] = 411.0f;  // 16.5·26 - 18
  want[164] = 246.0f;  // 16.5·16 - 18
  EXPECT_EQ(dequant(b, q5_k_to_float), want);
}

TEST(KQuantLayout, Q6K) {
  BlockQ6_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = fp32_to_fp16(0.25f);
  b.scales[0] = 4;
  b.scales[5] = -2;
  b.scales[15] = 127;
  // With ql and qh clear every level is 0 - 32 = -32.
  b.ql[0] = 0x05;    // element 0 low nibble 5 (element 64 high nibble 0)
  b.qh[0] = 0x02;    // element 0 top bits 2 -> q = 37 - 32 = 5
  b.ql[16] = 0x30;   // element 80: high nibble of ql[16]
  b.qh[16] = 0x30;   // element 80: bits 4-5 -> q = 51 - 32 = 19
  b.ql[127] = 0xF0;  // element 255: high nibble of ql[64 + 32 + 31]
  b.qh[63] = 0xC0;   // element 255: bits 6-7 of qh[32 + 31] -> q = 63 - 32 = 31
  std::vector<float> want(kQK_K, 0.0f);
  for (int e = 0; e < 16; ++e) want[e] = -32.0f;       // 0.25·4·-32
  for (int e = 80; e < 96; ++e) want[e] = 16.0f;       // 0.25·-2·-32
  for (int e = 240; e < 256; ++e) want[e] = -1016.0f;  // 0.25·127·-32
  want[0] = 5.0f;
  want[80] = -9.5f;
  want[255] = 984.25f;
  EXPECT_EQ(dequant(b, q6_k_to_float), want);
}

TEST(KQuantLayout, Q8K) {
  BlockQ8_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = 0.5f;
  b.qs[3] = -7;
  b.qs[255] = 127;
  std::vector<float> want(kQK_K, 0.0f);
  want[3] = -3.5f;
  want[255] = 63.5f;
  EXPECT_EQ(dequant(b, q8_k_to_float), want);
}

TEST(KQuantLayout, Q8KQuantizerMapsSignedMaxToMinus127) {
  std::vector<float> x = gaussian(2 * kQK_K, 7);
  x[10] = -9.0f;   // block 0 extreme, negative
  x[300] = 11.0f;  // block 1 extreme, positive
  std::vector<BlockQ8_K> q(2);
  q8_k_from_float(x.data(), q.data(), 2 * kQK_K);
  EXPECT_FLOAT_EQ(q[0].d, -9.0f / -127.0f);
  EXPECT_FLOAT_EQ(q[1].d, 11.0f / -127.0f);
  EXPECT_EQ(q[0].qs[10], -127);
  EXPECT_EQ(q[1].qs[300 - kQK_K], -127);
  for (const BlockQ8_K& b : q) {
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
      EXPECT_EQ(b.bsums[g], sum) << "group " << g;
    }
  }
  for (int j = 0; j < 2 * kQK_K; ++j) {
    const BlockQ8_K& b = q[j / kQK_K];
    EXPECT_NEAR(b.qs[j % kQK_K] * b.d, x[j], 0.5f * std::fabs(b.d) + 1e-6f) << j;
  }
}

// ---------------------------------------------------------------------------------------------
// Every k-quant type as a row, for the round-trip, vec_dot and extreme-input tests.

struct KType {
  const char* name;
  size_t block_bytes;
  void (*to_float)(const void*, float*, int64_t);
  void (*from_float)(const float*, void*, int64_t);
  float (*vec_dot)(int64_t, const void*, const void*);  // nullptr for Q8_K
  double max_rel_rmse;                                  // bound on Gaussian data, a bit above measured
  size_t d_offset;                                      // byte offset of the fp16 d (and dmin after it if any)
  bool has_dmin;
};

const KType kTypes[] = {
    {"Q2_K", sizeof(BlockQ2_K), q2_k_to_float, q2_k_from_float, vec_dot_q2_k, 0.29, offsetof(BlockQ2_K, d), true},
    {"Q3_K", sizeof(BlockQ3_K), q3_k_to_float, q3_k_from_float, vec_dot_q3_k, 0.155, offsetof(BlockQ3_K, d), false},
    {"Q4_K", sizeof(BlockQ4_K), q4_k_to_float, q4_k_from_float, vec_dot_q4_k, 0.08, offsetof(BlockQ4_K, d), true},
    {"Q5_K", sizeof(BlockQ5_K), q5_k_to_float, q5_k_from_float, vec_dot_q5_k, 0.04, offsetof(BlockQ5_K, d), true},
    {"Q6_K", sizeof(BlockQ6_K), q6_k_to_float, q6_k_from_float, vec_dot_q6_k, 0.02, offsetof(BlockQ6_K, d), false},
    {"Q8_K", sizeof(BlockQ8_K), q8_k_to_float, q8_k_from_float, nullptr, 0.008, 0, false},
};

class KQuant : public ::testing::TestWithParam<KType> {
 protected:
  Bytes quantize(const std::vector<float>& x) const {
    Bytes q(x.size() / kQK_K * GetParam().block_bytes);
    GetParam().from_float(x.data(), q.data(), static_cast<int64_t>(x.size()));
    return q;
  }
  std::vector<float> dequantize(const Bytes& q) const {
    std::vector<float> y(q.size() / GetParam().block_bytes * kQK_K);
    GetParam().to_float(q.data(), y.data(), static_cast<int64_t>(y.size()));
    return y;
  }
};

double rel_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
    ref += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(err / ref);
}

// (b) Random round trip: the error relative to the input rms stays under the type's bound.
TEST_P(KQuant, GaussianRoundTripError) {
  const KType& t = GetParam();
  for (const float sigma : {1.0f, 0.02f, 300.0f}) {
    const std::vector<float> x = gaussian(kQK_K * 24, 42, sigma);
    const double e = rel_rmse(x, dequantize(quantize(x)));
    std::printf("[ %s ] sigma %g: relative RMSE %.4f\n", t.name, sigma, e);
    EXPECT_LT(e, t.max_rel_rmse) << t.name << " sigma " << sigma;
  }
}

// A row with a per-block offset (all-positive sub-blocks) must be fitted as well as a centred one.
TEST_P(KQuant, ShiftedRoundTripError) {
  const KType& t = GetParam();
  std::vector<float> x = gaussian(kQK_K * 8, 5);
  for (size_t i = 0; i < x.size(); ++i) x[i] += 2.0f + 0.5f * static_cast<float>(i / kQK_K);
  const double e = rel_rmse(x, dequantize(quantize(x)));
  std::printf("[ %s ] shifted: relative RMSE %.4f\n", t.name, e);
  EXPECT_LT(e, t.max_rel_rmse) << t.name;
}

// (c) vec_dot equals the double-precision dot of the dequantized rows, to float rounding.
void expect_dot_matches(const KType& t, const Bytes& w, const Bytes& xq, int64_t n) {
  std::vector<float> wf(static_cast<size_t>(n)), xf(static_cast<size_t>(n));
  t.to_float(w.data(), wf.data(), n);
  q8_k_to_float(xq.data(), xf.data(), n);
  double ref = 0.0, mag = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    ref += static_cast<double>(wf[i]) * xf[i];
    mag += std::fabs(static_cast<double>(wf[i]) * xf[i]);
  }
  const double got = t.vec_dot(n, w.data(), xq.data());
  EXPECT_NEAR(got, ref, 2e-5 * mag + 1e-30) << t.name << " n=" << n;
}

// The weight types only: Q8_K is the activation side of every dot.
class KQuantDot : public KQuant {};

TEST_P(KQuantDot, VecDotMatchesDequantizedDot) {
  const KType& t = GetParam();
  for (const int k : {1, 3, 7}) {
    const int64_t n = kQK_K * k;
    const std::vector<float> wf = gaussian(n, 100 + k);
    const std::vector<float> xf = gaussian(n, 200 + k, 3.0f);
    Bytes xq(static_cast<size_t>(k) * sizeof(BlockQ8_K));
    q8_k_from_float(xf.data(), xq.data(), n);
    expect_dot_matches(t, quantize(wf), xq, n);
  }
}

// Random bytes reach scale and level combinations the quantizer rarely writes (negative Q3_K/Q6_K
// scales, -128, every min); only d/dmin are set to sane halves.
TEST_P(KQuantDot, VecDotOnRandomBlocks) {
  const KType& t = GetParam();
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> scale(-0.1f, 0.1f);
  for (const int k : {1, 3, 7}) {
    const int64_t n = kQK_K * k;
    Bytes w(static_cast<size_t>(k) * t.block_bytes);
    for (uint8_t& byte : w) byte = static_cast<uint8_t>(rng());
    for (int b = 0; b < k; ++b) {
      uint16_t h[2] = {fp32_to_fp16(scale(rng)), fp32_to_fp16(std::fabs(scale(rng)))};
      std::memcpy(w.data() + b * t.block_bytes + t.d_offset, h, t.has_dmin ? 4 : 2);
    }
    const std::vector<float> xf = gaussian(n, 300 + k);
    Bytes xq(static_cast<size_t>(k) * sizeof(BlockQ8_K));
    q8_k_from_float(xf.data(), xq.data(), n);
    expect_dot_matches(t, w, xq, n);
  }
}

// (d) Extreme inputs: never NaN/inf; zeros stay zeros, constants stay close.
void expect_finite(const std::vector<float>& y, const std::string& what) {
  for (size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(std::isfinite(y[i])) << what << " element " << i;
}

TEST_P(KQuant, AllZerosGiveZeros) {
  const std::vector<float> x(kQK_K * 2, 0.0f);
  const std::vector<float> y = dequantize(quantize(x));
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

TEST_P(KQuant, ConstantsStayClose) {
  // A tiny constant needs a super-scale in fp16's subnormal range, where only a few bits are left.
  const struct { float c, rel_tol; } cases[] = {{3.0f, 0.01f}, {-0.25f, 0.01f}, {1234.5f, 0.01f}, {-1.0e-3f, 0.05f}};
  for (const auto& k : cases) {
    const std::vector<float> x(kQK_K, k.c);
    const std::vector<float> y = dequantize(quantize(x));
    expect_finite(y, "constant");
    for (float v : y) EXPECT_NEAR(v, k.c, k.rel_tol * std::fabs(k.c)) << GetParam().name << " constant " << k.c;
  }
}

TEST_P(KQuant, HugeAndTinyMagnitudesStayFinite) {
  for (const float sigma : {1e-30f, 1e-7f, 1e6f, 1e30f}) {
    const std::vector<float> x = gaussian(kQK_K * 2, 11, sigma);
    const Bytes q = quantize(x);
    const std::vector<float> y = dequantize(q);
    expect_finite(y, std::string(GetParam().name) + " sigma " + std::to_string(sigma));
    if (GetParam().vec_dot != nullptr) {
      // A unit-sized activation: the exact dot with a 1e30 row is itself beyond float range.
      const std::vector<float> a = gaussian(kQK_K * 2, 12);
      Bytes xq(2 * sizeof(BlockQ8_K));
      q8_k_from_float(a.data(), xq.data(), kQK_K * 2);
      EXPECT_TRUE(std::isfinite(GetParam().vec_dot(kQK_K * 2, q.data(), xq.data()))) << sigma;
    }
  }
}

TEST_P(KQuant, OneOutlierKeepsTheRestUsable) {
  std::vector<float> x = gaussian(kQK_K, 13);
  x[77] = 200.0f;
  const std::vector<float> y = dequantize(quantize(x));
  expect_finite(y, "outlier");
  EXPECT_NEAR(y[77], 200.0f, 0.1 * 200.0f) << GetParam().name;
  std::vector<float> spike(kQK_K, 0.0f);
  spike[200] = -5.0f;
  const std::vector<float> z = dequantize(quantize(spike));
  expect_finite(z, "spike");
  EXPECT_NEAR(z[200], -5.0f, 0.1f * 5.0f) << GetParam().name;
  for (int i = 0; i < kQK_K; ++i) {
    if (i != 200) {
      EXPECT_NEAR(z[i], 0.0f, 0.002f * 5.0f) << GetParam().name << " element " << i;
    }
  }
}

// NaN/inf in one block must not crash the quantizer or leak into the neighbouring block.
TEST_P(KQuant, NonFiniteInputStaysInItsBlock) {
  std::vector<float> x = gaussian(kQK_K * 2, 17);
  x[5] = std::nanf("");
  x[9] = INFINITY;
  x[100] = -INFINITY;
  const std::vector<float> both = dequantize(quantize(x));
  const std::vector<float> second(x.begin() + kQK_K, x.end());
  const std::vector<float> alone = dequantize(quantize(second));
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), both.begin() + kQK_K)) << GetParam().name;
}

std::string type_name(const ::testing::TestParamInfo<KType>& p) { return p.param.name; }
INSTANTIATE_TEST_SUITE_P(AllKQuants, KQuant, ::testing::ValuesIn(kTypes), type_name);
INSTANTIATE_TEST_SUITE_P(WeightKQuants, KQuantDot, ::testing::ValuesIn(std::begin(kTypes), std::end(kTypes) - 1),
                         type_name);

}  // namespace
}  // namespace edgellm
