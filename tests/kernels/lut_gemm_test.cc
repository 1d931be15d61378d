// The LUT-layout prompt GEMM: the VNNI kernel against the plain C++ reference (same integer sums), and the
// reference against the exact float product of the dequantized weights (bounded by the int8 rounding of the
// activations), for every elq width, ternary and TQ1_0/TQ2_0, on odd shapes and token counts.
#include "kernels/lut_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/elq.h"
#include "kernels/ggml_type.h"
#include "kernels/matmul.h"
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

std::vector<uint32_t> types_under_test() {
  std::vector<uint32_t> ids;
  for (int bits = 1; bits <= 8; ++bits)
    for (bool zp : {false, true}) ids.push_back(elq_type_id(bits, 64, zp));
  for (int g : {32, 128})
    for (int bits : {2, 3, 4}) ids.push_back(elq_type_id(bits, g, bits != 2));
  for (int g : {32, 64, 128}) ids.push_back(elq_ternary_id(g));
  ids.push_back(static_cast<uint32_t>(GgmlType::TQ1_0));
  ids.push_back(static_cast<uint32_t>(GgmlType::TQ2_0));
  return ids;
}

struct Problem {
  std::vector<uint8_t> q;     // quantized rows
  std::vector<float> w, x;    // dequantized weights, float activations
  std::vector<uint8_t> acts;  // GEMM activation rows
  int64_t rows, cols, tokens;
};

Problem make(uint32_t id, int64_t rows, int64_t cols, int64_t tokens) {
  const TypeTraits& t = *type_traits(id);
  Problem p{{}, random_normal(rows * cols, id * 7 + static_cast<uint32_t>(rows)), random_normal(tokens * cols, 11),
            {}, rows, cols, tokens};
  const size_t rb = row_bytes(t, cols);
  p.q.resize(rb * static_cast<size_t>(rows));
  t.from_float(p.w.data(), p.q.data(), rows * cols);
  t.to_float(p.q.data(), p.w.data(), rows * cols);
  const size_t ar = lut_gemm_act_row_bytes(cols);
  p.acts.resize(ar * static_cast<size_t>(tokens));
  for (int64_t k = 0; k < tokens; ++k) lut_gemm_acts_from_float(p.x.data() + k * cols, cols, p.acts.data() + k * ar);
  return p;
}

// |exact − computed| for int8 activations: each x_i is off by at most half its block's step.
float act_rounding_bound(const Problem& p, int64_t r, int64_t k) {
  float bound = 0.0f;
  for (int64_t b = 0; b < p.cols / 32; ++b) {
    float amax = 0.0f, wabs = 0.0f;
    for (int64_t i = b * 32; i < b * 32 + 32; ++i) {
      amax = std::max(amax, std::fabs(p.x[k * p.cols + i]));
      wabs += std::fabs(p.w[r * p.cols + i]);
    }
    bound += wabs * amax / 127.0f * 0.5f;
  }
  return bound * 1.01f + 1e-4f;
}

float exact_dot(const Problem& p, int64_t r, int64_t k) {
  double s = 0.0;
  for (int64_t i = 0; i < p.cols; ++i) s += static_cast<double>(p.w[r * p.cols + i]) * p.x[k * p.cols + i];
  return static_cast<float>(s);
}

struct Case {
  int64_t rows, cols, tokens;
};
const Case kCases[] = {{1, 256, 1}, {3, 512, 2}, {17, 256, 5}, {33, 1280, 17}, {16, 2304, 9}};

TEST(LutGemm, ReferenceWithinActivationRoundingOfExactProduct) {
  for (uint32_t id : types_under_test()) {
    for (const Case& c : kCases) {
      const Problem p = make(id, c.rows, c.cols, c.tokens);
      Result<LutPacked> packed = lut_pack(id, c.rows, c.cols, p.q.data(), 0 + p.q.size() / c.rows);
      ASSERT_TRUE(packed.is_ok()) << packed.status().message();
      std::vector<float> y(static_cast<size_t>(c.rows * c.tokens));
      lut_gemm_reference(*packed, 0, packed->tiles, p.acts.data(), c.tokens, y.data(), c.rows);
      for (int64_t k = 0; k < c.tokens; ++k)
        for (int64_t r = 0; r < c.rows; ++r)
          ASSERT_NEAR(y[k * c.rows + r], exact_dot(p, r, k), act_rounding_bound(p, r, k))
              << type_traits(id)->name << " rows=" << c.rows << " cols=" << c.cols << " token " << k << " row " << r;
    }
  }
}

TEST(LutGemm, VnniKernelMatchesReference) {
  if (lut_gemm_kernel() == nullptr) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  const LutGemmFn gemm = lut_gemm_kernel_unchecked();
  for (uint32_t id : types_under_test()) {
    for (const Case& c : kCases) {
      const Problem p = make(id, c.rows, c.cols, c.tokens);
      Result<LutPacked> packed = lut_pack(id, c.rows, c.cols, p.q.data(), p.q.size() / c.rows);
      ASSERT_TRUE(packed.is_ok()) << packed.status().message();
      // Sentinels beyond the last row catch writes past the matrix.
      const int64_t y_stride = c.rows + 3;
      std::vector<float> ref(static_cast<size_t>(y_stride * c.tokens)), y(ref.size(), -777.0f);
      lut_gemm_reference(*packed, 0, packed->tiles, p.acts.data(), c.tokens, ref.data(), y_stride);
      // Two calls over split tile ranges, as the threads run it.
      const int64_t mid = packed->tiles / 2;
      gemm(*packed, 0, mid, p.acts.data(), c.tokens, y.data(), y_stride);
      gemm(*packed, mid, packed->tiles, p.acts.data(), c.tokens, y.data(), y_stride);
      for (int64_t k = 0; k < c.tokens; ++k) {
        for (int64_t r = 0; r < c.rows; ++r) {
          const float want = ref[k * y_stride + r];
          // Same integer sums per 32 columns; only the float accumulation order differs.
          ASSERT_NEAR(y[k * y_stride + r], want, 1e-4f * (1.0f + std::fabs(want)) + 2e-6f * static_cast<float>(c.cols))
              << type_traits(id)->name << " rows=" << c.rows << " cols=" << c.cols << " token " << k << " row " << r;
        }
        for (int64_t r = c.rows; r < y_stride; ++r) ASSERT_EQ(y[k * y_stride + r], -777.0f);
      }
    }
  }
}

// Linear switches to the GEMM from kLutGemmMinTokens tokens on; its results stay within the activation
// rounding of the exact product, on 1 and 2 threads.
TEST(LutGemm, LinearPromptMatchesExactProduct) {
  for (uint32_t id : {elq_type_id(3, 64, false), elq_ternary_id(128), static_cast<uint32_t>(GgmlType::TQ2_0)}) {
    const int64_t tokens = kLutGemmMinTokens + 3;
    const Problem p = make(id, 37, 512, tokens);
    Result<Linear> lin = Linear::prepare(WeightView{static_cast<GgmlType>(id), p.rows, p.cols, p.q.data(), 0});
    ASSERT_TRUE(lin.is_ok()) << lin.status().message();
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      MatmulScratch scratch;
      std::vector<float> y(static_cast<size_t>(tokens * p.rows));
      lin->forward(p.x.data(), tokens, y.data(), pool, scratch);
      for (int64_t k = 0; k < tokens; ++k)
        for (int64_t r = 0; r < p.rows; ++r)
          ASSERT_NEAR(y[k * p.rows + r], exact_dot(p, r, k), 2.0f * act_rounding_bound(p, r, k) + 1e-3f)
              << type_traits(id)->name << " token " << k << " row " << r;
    }
  }
}

TEST(LutGemm, ActivationRowsHoldScalesAndSums) {
  std::vector<float> x(64, 0.0f);
  x[0] = 2.0f;
  x[1] = -1.0f;
  x[40] = std::nanf("");
  x[41] = 0.5f;
  std::vector<uint8_t> row(lut_gemm_act_row_bytes(64));
  EXPECT_EQ(row.size() % 64, 0u);
  lut_gemm_acts_from_float(x.data(), 64, row.data());
  const auto* q = reinterpret_cast<const int8_t*>(row.data());
  const auto* d = reinterpret_cast<const float*>(row.data() + 64);
  const auto* s = reinterpret_cast<const int32_t*>(d + 2);
  EXPECT_EQ(q[0], 127);
  EXPECT_EQ(q[1], -64);
  EXPECT_FLOAT_EQ(d[0], 2.0f / 127.0f);
  EXPECT_EQ(s[0], 63);
  EXPECT_EQ(q[40], 0);  // NaN reads as 0
  EXPECT_EQ(q[41], 127);
  EXPECT_EQ(s[1], 127);
}

}  // namespace
}  // namespace edgellm
