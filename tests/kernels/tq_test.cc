// TQ1_0 / TQ2_0: layouts against hand-built blocks (bit-exact to ggml's definitions), quantize → dequantize,
// the lookup and Q8_K dots, and Linear (the int8 row-interleaved kernel or the ternary LUT kernel).
#include "kernels/tq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "core/thread_pool.h"
#include "kernels/elq.h"
#include "kernels/matmul.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

// Ternary values with a pattern that tells element positions apart.
std::vector<float> pattern(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = static_cast<float>(static_cast<int>(rng() % 3) - 1);
  for (int64_t b = 0; b < n; b += kTqBlock) v[static_cast<size_t>(b)] = 1.0f;  // scale 1 in every block
  return v;
}

TEST(Tq, Tq2LayoutMatchesGgml) {
  // Element 32·l + m of each 128-half sits in bits 2l of byte m (code = value + 1); d after the 64 bytes.
  std::vector<uint8_t> block(kTq2Bytes, 0);
  block[0] = 2;                                  // element 0 → +1
  block[5] = 0 << 2 | 1;                         // element 5 → 0, element 37 → −1
  block[32 + 3] = 2 << 6 | 1 << 4 | 1 << 2 | 1;  // element 128 + 96 + 3 → +1
  const uint16_t d = fp32_to_fp16(0.5f);
  std::memcpy(block.data() + 64, &d, 2);
  std::vector<float> out(kTqBlock);
  tq2_0_to_float(block.data(), out.data(), kTqBlock);
  EXPECT_EQ(out[0], 0.5f);
  EXPECT_EQ(out[5], 0.0f);
  EXPECT_EQ(out[37], -0.5f);
  EXPECT_EQ(out[128 + 96 + 3], 0.5f);
  EXPECT_EQ(out[1], -0.5f);  // code 0 elsewhere means −1
}

TEST(Tq, Tq1LayoutMatchesGgml) {
  // Byte m of the first 32 holds elements m, m+32, ..., m+128 as base-3 digits, first most significant,
  // stored as ceil(v * 256 / 243). v = (2,1,0,1,2) = 2·81 + 27 + 0 + 3 + 2 = 194.
  std::vector<uint8_t> block(kTq1Bytes, 0);
  block[7] = static_cast<uint8_t>((194 * 256 + 242) / 243);
  // qh byte 2: elements 240 + 2, 244 + 2, 248 + 2, 252 + 2 as (0, 2, 2, 1), shifted one trit: v = (0·27 + 2·9 +
  // 2·3 + 1)·3 = 75.
  block[48 + 2] = static_cast<uint8_t>((75 * 256 + 242) / 243);
  const uint16_t d = fp32_to_fp16(2.0f);
  std::memcpy(block.data() + 52, &d, 2);
  int8_t t[kTqBlock];
  EXPECT_EQ(tq1_0_decode(block.data(), t), 2.0f);
  EXPECT_EQ(t[7], 1);
  EXPECT_EQ(t[39], 0);
  EXPECT_EQ(t[71], -1);
  EXPECT_EQ(t[103], 0);
  EXPECT_EQ(t[135], 1);
  EXPECT_EQ(t[242], -1);
  EXPECT_EQ(t[246], 1);
  EXPECT_EQ(t[250], 1);
  EXPECT_EQ(t[254], 0);
  EXPECT_EQ(t[0], -1);  // byte 0 → all trits 0 → value −1
}

TEST(Tq, TernaryInputsRoundTripExactly) {
  const std::vector<float> x = pattern(3 * kTqBlock, 1);
  for (GgmlType type : {GgmlType::TQ1_0, GgmlType::TQ2_0}) {
    const TypeTraits* t = type_traits(type);
    ASSERT_NE(t, nullptr);
    std::vector<uint8_t> q(row_bytes(*t, 3 * kTqBlock));
    t->from_float(x.data(), q.data(), 3 * kTqBlock);
    std::vector<float> back(x.size());
    t->to_float(q.data(), back.data(), 3 * kTqBlock);
    EXPECT_EQ(back, x) << t->name;
  }
}

TEST(Tq, LookupDotAndLinearMatchFloatDot) {
  const int64_t rows = 19, cols = 512;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(3 * cols));
  for (float& f : w) f = dist(rng);
  for (float& f : x) f = dist(rng);
  for (GgmlType type : {GgmlType::TQ1_0, GgmlType::TQ2_0}) {
    const TypeTraits& t = *type_traits(type);
    const size_t rb = row_bytes(t, cols);
    std::vector<uint8_t> q(rb * rows);
    t.from_float(w.data(), q.data(), rows * cols);
    auto lin = Linear::prepare(WeightView{type, rows, cols, q.data(), 0});
    ASSERT_TRUE(lin.is_ok()) << lin.status().message();
    ThreadPool pool(2);
    MatmulScratch scratch;
    // Three tokens at once (the prompt path) and one at a time (decode, which computes exactly what the dot of
    // its activation type does).
    std::vector<float> y(static_cast<size_t>(3 * rows)), y1(static_cast<size_t>(3 * rows));
    lin->forward(x.data(), 3, y.data(), pool, scratch);
    for (int64_t tok = 0; tok < 3; ++tok) lin->forward(x.data() + tok * cols, 1, y1.data() + tok * rows, pool, scratch);
    std::vector<BlockElqAct> act(cols / 32);
    const TypeTraits& q8k = *type_traits(t.vec_dot_type);
    std::vector<uint8_t> xq(row_bytes(q8k, cols));
    std::vector<float> wr(cols);
    const auto lookup_dot = type == GgmlType::TQ1_0 ? vec_dot_tq1_0 : vec_dot_tq2_0;
    // Decode runs the int8 row-interleaved kernel (Q8_K activations) where this CPU has one, else the lookup.
    const bool int8_decode = repack_ops_best(type) != nullptr;
    for (int64_t tok = 0; tok < 3; ++tok) {
      elq_act_from_float(x.data() + tok * cols, act.data(), cols);
      q8k.from_float(x.data() + tok * cols, xq.data(), cols);
      for (int64_t r = 0; r < rows; ++r) {
        t.to_float(q.data() + r * rb, wr.data(), cols);
        double exact = 0;
        for (int64_t c = 0; c < cols; ++c) exact += wr[c] * x[tok * cols + c];
        const float lut = lookup_dot(cols, q.data() + r * rb, act.data());
        const float int8 = t.vec_dot(cols, q.data() + r * rb, xq.data());
        // Table quantization error only: ~step (max|4-sum|/127) × scale × sqrt(cols / 4).
        EXPECT_NEAR(lut, exact, 0.05 * std::sqrt(static_cast<double>(cols))) << t.name;
        // Q8_K rounding: ~max|x|/254 per activation, sqrt(cols) of them.
        EXPECT_NEAR(int8, exact, 0.02 * std::sqrt(static_cast<double>(cols))) << t.name;
        const float want = int8_decode ? int8 : lut;
        EXPECT_NEAR(y1[tok * rows + r], want, 1e-4f * (1.0f + std::fabs(want))) << t.name << " row " << r;
        EXPECT_NEAR(y[tok * rows + r], exact, 0.05 * std::sqrt(static_cast<double>(cols))) << t.name << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace edgellm
