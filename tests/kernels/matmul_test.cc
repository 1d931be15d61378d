// Linear::prepare/forward/scratch_bytes and dequantize_row against a naive float matmul.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
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

// A weight matrix stored in `type`, plus its dequantized floats (the exact values the kernel sees).
struct TestWeight {
  std::vector<uint8_t> data;
  std::vector<float> dequant;
  WeightView view;
};

TestWeight make_weight(GgmlType type, int64_t rows, int64_t cols, uint32_t seed, size_t pad = 0) {
  const TypeTraits* t = type_traits(type);
  const size_t rb = row_bytes(*t, cols), stride = rb + pad;
  TestWeight w;
  w.data.assign(stride * static_cast<size_t>(rows), 0xEE);
  w.dequant.resize(static_cast<size_t>(rows * cols));
  const std::vector<float> f = random_normal(rows * cols, seed, 0.05f);
  for (int64_t r = 0; r < rows; ++r) {
    t->from_float(f.data() + r * cols, w.data.data() + static_cast<size_t>(r) * stride, cols);
    t->to_float(w.data.data() + static_cast<size_t>(r) * stride, w.dequant.data() + r * cols, cols);
  }
  w.view = WeightView{type, rows, cols, w.data.data(), pad != 0 ? stride : 0};
  return w;
}

// y = x · Wᵀ in double, with x first passed through the activation type (as the kernel does).
std::vector<float> reference(const TestWeight& w, const std::vector<float>& x, int64_t n_tokens, double* mag) {
  const int64_t rows = w.view.rows, cols = w.view.cols;
  const TypeTraits* act = type_traits(type_traits(w.view.type)->vec_dot_type);
  std::vector<float> xa(x.size());
  std::vector<uint8_t> tmp(row_bytes(*act, cols));
  for (int64_t t = 0; t < n_tokens; ++t) {
    act->from_float(x.data() + t * cols, tmp.data(), cols);
    act->to_float(tmp.data(), xa.data() + t * cols, cols);
  }
  std::vector<float> y(static_cast<size_t>(n_tokens * rows));
  *mag = 0;
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double p = static_cast<double>(w.dequant[r * cols + c]) * xa[t * cols + c];
        s += p;
        *mag = std::max(*mag, std::fabs(p));
      }
      y[t * rows + r] = static_cast<float>(s);
    }
  return y;
}

struct ForwardCase {
  GgmlType type;
  int64_t rows, cols;
};

class LinearForward : public ::testing::TestWithParam<ForwardCase> {};

TEST_P(LinearForward, MatchesNaiveMatmul) {
  const ForwardCase c = GetParam();
  const TestWeight w = make_weight(c.type, c.rows, c.cols, 11, c.rows % 2 == 1 ? 8 : 0);
  auto lin = Linear::prepare(w.view);
  ASSERT_TRUE(lin.is_ok()) << lin.status().message();
  EXPECT_EQ(lin->in_features(), c.cols);
  EXPECT_EQ(lin->out_features(), c.rows);
  for (int threads = 1; threads <= 3; ++threads) {
    ThreadPool pool(threads);
    MatmulScratch scratch;
    for (int64_t n_tokens : {1, 2, 3, 17}) {
      const std::vector<float> x = random_normal(n_tokens * c.cols, 100 + static_cast<uint32_t>(n_tokens), 2.0f);
      double mag = 0;
      const std::vector<float> expect = reference(w, x, n_tokens, &mag);
      std::vector<float> y(expect.size(), NAN);
      lin->forward(x.data(), n_tokens, y.data(), pool, scratch);
      // Per-block integer sums are exact; the float sum over cols is in a different order than double.
      const double tol = 4e-6 * mag * static_cast<double>(c.cols) + 1e-6;
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], expect[i], tol) << "threads=" << threads << " tokens=" << n_tokens << " i=" << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Types, LinearForward,
    ::testing::Values(ForwardCase{GgmlType::Q4_0, 37, 96}, ForwardCase{GgmlType::Q4_0, 70, 544},
                      ForwardCase{GgmlType::Q8_0, 41, 160}, ForwardCase{GgmlType::Q4_1, 19, 96},
                      ForwardCase{GgmlType::Q5_0, 23, 64}, ForwardCase{GgmlType::Q5_1, 9, 32},
                      ForwardCase{GgmlType::Q8_0, 50, 1088}, ForwardCase{GgmlType::Q5_0, 33, 1056},
                      ForwardCase{GgmlType::F16, 33, 75}, ForwardCase{GgmlType::F32, 21, 131},
                      ForwardCase{GgmlType::BF16, 5, 40}, ForwardCase{GgmlType::Q4_K, 13, 512},
                      ForwardCase{GgmlType::Q6_K, 7, 256}, ForwardCase{GgmlType::Q5_K, 11, 512}),
    [](const auto& info) {
      return std::string(type_traits(info.param.type)->name) + "_" + std::to_string(info.param.rows) + "x" +
             std::to_string(info.param.cols);
    });

TEST(LinearForward, ScratchSizedUpFrontIsNotReallocated) {
  const TestWeight w = make_weight(GgmlType::Q4_0, 8, 64, 3);
  auto lin = Linear::prepare(w.view);
  ASSERT_TRUE(lin.is_ok());
  // At least the 5 Q8_0 rows; more when the prompt GEMM's expanded activations follow them.
  EXPECT_GE(lin->scratch_bytes(5), 5u * 2u * 34u);
  // At least the Q8_0 row; more when the decode GEMV's expanded row follows it.
  EXPECT_GE(lin->scratch_bytes(1), 2u * 34u);
  // Sized for the pool's thread count: the repacked prompt GEMM needs one unpacked tile per thread.
  ThreadPool pool(2);
  MatmulScratch scratch;
  scratch.quantized_x.resize(lin->scratch_bytes(5, pool.size()));
  const uint8_t* before = scratch.quantized_x.data();
  const std::vector<float> x = random_normal(5 * 64, 4);
  std::vector<float> y(5 * 8);
  lin->forward(x.data(), 5, y.data(), pool, scratch);
  lin->forward(x.data(), 2, y.data(), pool, scratch);
  lin->forward(x.data(), 1, y.data(), pool, scratch);
  EXPECT_EQ(scratch.quantized_x.data(), before);
}

TEST(LinearForward, FloatWeightsNeedNoScratch) {
  const TestWeight w = make_weight(GgmlType::F16, 4, 10, 5);
  auto lin = Linear::prepare(w.view);
  ASSERT_TRUE(lin.is_ok());
  EXPECT_EQ(lin->scratch_bytes(64), 0u);
}

TEST(LinearPrepare, RejectsBadViews) {
  const TestWeight w = make_weight(GgmlType::Q4_0, 4, 64, 6);
  WeightView v = w.view;
  v.cols = 48;  // not a multiple of 32
  auto r = Linear::prepare(v);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("multiple"), std::string::npos) << r.status().message();

  v = w.view;
  v.data = nullptr;
  EXPECT_FALSE(Linear::prepare(v).is_ok());

  v = w.view;
  v.type = GgmlType::IQ2_XXS;
  r = Linear::prepare(v);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("iq2_xxs"), std::string::npos) << r.status().message();

  v.type = static_cast<GgmlType>(4242u);
  r = Linear::prepare(v);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("4242"), std::string::npos) << r.status().message();

  v = w.view;
  v.type = GgmlType::Q8_K;  // an activation type, never a weight
  EXPECT_FALSE(Linear::prepare(v).is_ok());

  v = w.view;
  v.rows = 0;
  EXPECT_FALSE(Linear::prepare(v).is_ok());

  v = w.view;
  v.row_stride = 17;  // shorter than a 36-byte row
  EXPECT_FALSE(Linear::prepare(v).is_ok());

  const TestWeight f = make_weight(GgmlType::F32, 3, 8, 7, 8);
  v = f.view;
  v.row_stride = 34;  // floats would be read misaligned
  r = Linear::prepare(v);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("aligned"), std::string::npos) << r.status().message();
}

TEST(DequantizeRow, ReadsStridedRows) {
  const TestWeight w = make_weight(GgmlType::Q5_1, 5, 64, 8, 10);
  std::vector<float> row(64);
  for (int64_t r = 0; r < 5; ++r) {
    dequantize_row(w.view, r, row.data());
    for (int64_t c = 0; c < 64; ++c) ASSERT_EQ(row[c], w.dequant[r * 64 + c]) << r << "," << c;
  }
  dequantize_row(w.view, 5, row.data());  // out of range reads as zeros, not out of bounds
  for (float f : row) EXPECT_EQ(f, 0.0f);
}

}  // namespace
}  // namespace edgellm
