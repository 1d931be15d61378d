// Every Highway target compiled into the binary and supported by this CPU, against the scalar oracles.
#include <gtest/gtest.h>
#include <hwy/highway.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/quants.h"
#include "kernels/simd_dot.h"
#include "kernels/type_traits.h"
#include "hwy_targets.h"

namespace edgellm {
namespace {

std::vector<float> random_normal(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

std::vector<uint8_t> quantize(GgmlType type, const std::vector<float>& x) {
  const TypeTraits* t = type_traits(type);
  std::vector<uint8_t> q(row_bytes(*t, static_cast<int64_t>(x.size())));
  t->from_float(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

template <class F>
void for_each_target(F&& body) {
  for_each_hwy_target(&simd_dispatched_target, std::forward<F>(body));
}

const int64_t kBlockCounts[] = {1, 3, 17, 64, 129};

// Integer block sums are exact on every path; only the float accumulation order differs.
double abs_dot_bound(const std::vector<float>& w, const std::vector<float>& x) {
  double mag = 0;
  for (size_t i = 0; i < w.size(); ++i) mag += std::fabs(static_cast<double>(w[i]) * x[i]);
  return 1e-5 * mag + 1e-6;
}

TEST(SimdDot, Q4_0MatchesScalarOnEveryTarget) {
  for_each_target([] {
    for (int64_t blocks : kBlockCounts) {
      const int64_t n = blocks * 32;
      const auto wf = random_normal(n, 1 + static_cast<uint32_t>(blocks));
      const auto xf = random_normal(n, 2 + static_cast<uint32_t>(blocks), 4.0f);
      const auto wq = quantize(GgmlType::Q4_0, wf), xq = quantize(GgmlType::Q8_0, xf);
      EXPECT_NEAR(simd_vec_dot_q4_0(n, wq.data(), xq.data()), vec_dot_q4_0(n, wq.data(), xq.data()),
                  abs_dot_bound(wf, xf))
          << "n=" << n;
    }
  });
}

TEST(SimdDot, Q8_0MatchesScalarOnEveryTarget) {
  for_each_target([] {
    for (int64_t blocks : kBlockCounts) {
      const int64_t n = blocks * 32;
      const auto wf = random_normal(n, 3 + static_cast<uint32_t>(blocks));
      const auto xf = random_normal(n, 4 + static_cast<uint32_t>(blocks), 0.1f);
      const auto wq = quantize(GgmlType::Q8_0, wf), xq = quantize(GgmlType::Q8_0, xf);
      EXPECT_NEAR(simd_vec_dot_q8_0(n, wq.data(), xq.data()), vec_dot_q8_0(n, wq.data(), xq.data()),
                  abs_dot_bound(wf, xf))
          << "n=" << n;
    }
  });
}

TEST(SimdDot, Q4_1Q5_0Q5_1MatchScalarOnEveryTarget) {
  struct Case {
    GgmlType type;
    float (*simd)(int64_t, const void*, const void*);
    float (*scalar)(int64_t, const void*, const void*);
  };
  const Case cases[] = {{GgmlType::Q4_1, simd_vec_dot_q4_1, vec_dot_q4_1},
                        {GgmlType::Q5_0, simd_vec_dot_q5_0, vec_dot_q5_0},
                        {GgmlType::Q5_1, simd_vec_dot_q5_1, vec_dot_q5_1}};
  for_each_target([&] {
    for (const Case& c : cases)
      for (int64_t blocks : kBlockCounts) {
        const int64_t n = blocks * 32;
        // An offset mean makes the minimum term of Q4_1/Q5_1 matter.
        auto wf = random_normal(n, 11 + static_cast<uint32_t>(blocks));
        for (float& f : wf) f += 0.7f;
        const auto xf = random_normal(n, 12 + static_cast<uint32_t>(blocks), 3.0f);
        const auto wq = quantize(c.type, wf), xq = quantize(GgmlType::Q8_0, xf);
        EXPECT_NEAR(c.simd(n, wq.data(), xq.data()), c.scalar(n, wq.data(), xq.data()), abs_dot_bound(wf, xf))
            << type_traits(c.type)->name << " n=" << n;
      }
  });
}

TEST(SimdDot, FloatDotsMatchScalarOnEveryTarget) {
  for_each_target([] {
    for (int64_t n : {1, 7, 32, 37, 96, 1000, 4099}) {
      const auto wf = random_normal(n, 5 + static_cast<uint32_t>(n));
      const auto xf = random_normal(n, 6 + static_cast<uint32_t>(n));
      const auto wh = quantize(GgmlType::F16, wf);
      EXPECT_NEAR(simd_vec_dot_f16(n, wh.data(), xf.data()), vec_dot_f16(n, wh.data(), xf.data()),
                  abs_dot_bound(wf, xf))
          << "n=" << n;
      EXPECT_NEAR(simd_vec_dot_f32(n, wf.data(), xf.data()), vec_dot_f32(n, wf.data(), xf.data()),
                  abs_dot_bound(wf, xf))
          << "n=" << n;
      const auto wb = quantize(GgmlType::BF16, wf);
      EXPECT_NEAR(simd_vec_dot_bf16(n, wb.data(), xf.data()), vec_dot_bf16(n, wb.data(), xf.data()),
                  abs_dot_bound(wf, xf))
          << "n=" << n;
    }
  });
}

TEST(SimdDot, FourTokenDotsMatchScalarOnEveryTarget) {
  for_each_target([] {
    for (int64_t blocks : kBlockCounts) {
      const int64_t n = blocks * 32;
      const auto wf = random_normal(n, 8 + static_cast<uint32_t>(blocks));
      const auto xf = random_normal(4 * n, 9 + static_cast<uint32_t>(blocks), 2.0f);
      const auto w4 = quantize(GgmlType::Q4_0, wf), w8 = quantize(GgmlType::Q8_0, wf);
      const auto w5 = quantize(GgmlType::Q5_0, wf);
      const auto xq = quantize(GgmlType::Q8_0, xf);
      const size_t x_row = xq.size() / 4;
      float out4[4], out5[4], out8[4];
      simd_vec_dot4_q4_0(n, w4.data(), xq.data(), x_row, out4);
      simd_vec_dot4_q5_0(n, w5.data(), xq.data(), x_row, out5);
      simd_vec_dot4_q8_0(n, w8.data(), xq.data(), x_row, out8);
      for (int t = 0; t < 4; ++t) {
        const std::vector<float> xt(xf.begin() + t * n, xf.begin() + (t + 1) * n);
        const uint8_t* xqt = xq.data() + static_cast<size_t>(t) * x_row;
        EXPECT_NEAR(out4[t], vec_dot_q4_0(n, w4.data(), xqt), abs_dot_bound(wf, xt)) << "n=" << n << " t=" << t;
        EXPECT_NEAR(out8[t], vec_dot_q8_0(n, w8.data(), xqt), abs_dot_bound(wf, xt)) << "n=" << n << " t=" << t;
        EXPECT_NEAR(out5[t], vec_dot_q5_0(n, w5.data(), xqt), abs_dot_bound(wf, xt)) << "n=" << n << " t=" << t;
      }
    }
  });
}

TEST(SimdDot, Q8_0QuantizerIsBitExactOnEveryTarget) {
  for_each_target([] {
    for (int64_t blocks : kBlockCounts) {
      const int64_t n = blocks * 32;
      auto x = random_normal(n, 7 + static_cast<uint32_t>(blocks), 2.0f);
      // One block of exact ties (d = 1) and one of zeros exercise rounding and the zero scale.
      for (int j = 0; j < 32; ++j) x[static_cast<size_t>(j)] = (j == 0) ? 127.0f : static_cast<float>(j) - 15.5f;
      if (blocks > 1) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
      std::vector<uint8_t> expect(row_bytes(*type_traits(GgmlType::Q8_0), n)), got(expect.size(), 0xAB);
      q8_0_from_float(x.data(), expect.data(), n);
      simd_quantize_q8_0(x.data(), got.data(), n);
      EXPECT_EQ(std::memcmp(expect.data(), got.data(), expect.size()), 0) << "n=" << n;
    }
  });
}

// The Highway quantizer rounds halves away from zero by truncating v + (0.5 - 2^-25): the 64 floats either side of
// every ±(k + 0.5) up to 127 (d = 1: each block starts with 127) and the same values scaled by 1/3 (d not a power of
// two, so x·(1/d) lands near the ties after its own rounding) must give roundf's bytes.
TEST(SimdDot, Q8_0QuantizerRoundsNearTiesLikeRoundf) {
  std::vector<float> x;
  for (float scale : {1.0f, 1.0f / 3.0f}) {
    for (int k = 0; k < 127; ++k) {
      for (float sign : {1.0f, -1.0f}) {
        float up = static_cast<float>(k) + 0.5f, down = up;
        for (int u = 0; u < 64; ++u) {
          if (x.size() % 32 == 0) x.push_back(127.0f * scale);
          x.push_back(sign * up * scale);
          if (x.size() % 32 == 0) x.push_back(127.0f * scale);
          x.push_back(sign * down * scale);
          up = std::nextafter(up, 200.0f);
          down = std::nextafter(down, 0.0f);
        }
      }
    }
  }
  while (x.size() % 32 != 0) x.push_back(0.25f);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> expect(row_bytes(*type_traits(GgmlType::Q8_0), n));
  q8_0_from_float(x.data(), expect.data(), n);
  for_each_target([&] {
    std::vector<uint8_t> got(expect.size(), 0xAB);
    simd_quantize_q8_0(x.data(), got.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      const size_t off = static_cast<size_t>(b) * sizeof(BlockQ8_0);
      ASSERT_EQ(std::memcmp(expect.data() + off, got.data() + off, sizeof(BlockQ8_0)), 0) << "block " << b;
    }
  });
}

TEST(SimdDot, KernelsResolvedForFastTypes) {
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                        GgmlType::F16, GgmlType::BF16, GgmlType::F32})
    EXPECT_NE(simd_kernels(type).vec_dot, nullptr) << static_cast<uint32_t>(type);
  EXPECT_NE(simd_kernels(GgmlType::Q4_0).quantize_x, nullptr);
  EXPECT_EQ(simd_kernels(GgmlType::F16).quantize_x, nullptr);
  EXPECT_EQ(simd_kernels(GgmlType::Q6_K).vec_dot, nullptr);
}

}  // namespace
}  // namespace edgellm
