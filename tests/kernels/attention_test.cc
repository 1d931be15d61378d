// The grouped-attention kernels of ops_simd.h (scores over cached F16 keys, probability-weighted sum of F16 values)
// against double-precision references, on every Highway target this CPU runs, for the context lengths around the
// kernels' position blocks (1 … 33) and long ones (640, 1000), head sizes that are and are not a multiple of the
// vector (40, 64, 80, 96, 128; 8 is below one AVX-512 vector) and group sizes 1 … 8 (odd ones leave blocks of 2
// and 1 heads).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "hwy_targets.h"
#include "kernels/ops.h"
#include "kernels/ops_simd.h"

namespace edgellm {
namespace {

constexpr float kGuard = 12345.0f;  // written past every output: a kernel must never touch it
constexpr double kEps = 5.96e-8;    // unit roundoff of float

// A KV-cache-like slab: n rows `stride` halves apart, the head's hd values at the start of each row, random F16.
std::vector<uint16_t> random_rows(int64_t n, int64_t stride, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<uint16_t> r(static_cast<size_t>(n * stride));
  for (uint16_t& h : r) h = fp32_to_fp16(nd(rng));
  return r;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// Runs `body(kernels, name)` for the vectorized and the row-wise kernels of every Highway target.
template <class F>
void for_each_kernel(F&& body) {
  for_each_hwy_target(&f16_ops_dispatched_target, [&] {
    body(f16_op_kernels_for_chosen_target(), "blocked");
    body(f16_op_kernels_rowwise(), "rowwise");
  });
}

struct Case {
  int64_t n, hd, g;  // context length, head size, query heads per KV head
};

// Every head size × group size at the short contexts around the position blocks (1 … 33); the long contexts for a
// few of them, so the tests stay fast under qemu's SVE emulation in the ARM64 run.
std::vector<Case> cases() {
  std::vector<Case> c;
  for (int64_t hd : {40, 64, 80, 96, 128, 8}) {
    for (int64_t g : {1, 2, 4, 5, 7, 8}) {
      for (int64_t n : {1, 2, 3, 15, 16, 17, 31, 33}) c.push_back({n, hd, g});
    }
  }
  for (int64_t n : {640, 1000}) {
    c.push_back({n, 64, 4});
    c.push_back({n, 40, 7});
    c.push_back({n, 96, 2});
  }
  return c;
}

TEST(AttentionKernels, ScoresMatchDoubleReference) {
  for (const auto& [n, hd, g] : cases()) {
    const int64_t stride = 2 * hd + 8;  // rows of a wider cache, as the KV heads interleave
    const std::vector<uint16_t> k = random_rows(n, stride, static_cast<uint32_t>(hd + n));
    const std::vector<float> q = random_floats(static_cast<size_t>(g * hd), static_cast<uint32_t>(g * 100 + hd));
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    // Float accumulation of hd products in any order is within (hd + 2)·eps of Σ|k·q|, scaled.
    std::vector<double> want(static_cast<size_t>(g * n)), bound(want.size());
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t j = 0; j < n; ++j) {
        double dot = 0, mag = 0;
        for (int64_t i = 0; i < hd; ++i) {
          const double t = static_cast<double>(fp16_to_fp32(k[j * stride + i])) * q[h * hd + i];
          dot += t;
          mag += std::fabs(t);
        }
        want[h * n + j] = dot * scale;
        bound[h * n + j] = (static_cast<double>(hd) + 2) * kEps * mag * scale;
      }
    }
    for_each_kernel([&](const F16OpKernels& kern, const char* name) {
      std::vector<float> sc(want.size() + 1, kGuard);
      kern.scores(n, hd, k.data(), stride, q.data(), g, scale, sc.data());
      ASSERT_EQ(sc.back(), kGuard) << name << " wrote past the scores";
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(sc[i], want[i], bound[i]) << name << " hd " << hd << " g " << g << " n " << n << " at " << i;
      }
    });
  }
}

TEST(AttentionKernels, WeightedSumMatchesDoubleReference) {
  for (const auto& [n, hd, g] : cases()) {
    const int64_t stride = 2 * hd + 8;
    const std::vector<uint16_t> v = random_rows(n, stride, static_cast<uint32_t>(hd + 7 * n));
    // Probabilities as attention makes them: a softmax row per head.
    std::vector<float> p = random_floats(static_cast<size_t>(g * n), static_cast<uint32_t>(g * 1000 + n));
    for (int64_t h = 0; h < g; ++h) softmax(p.data() + h * n, n);
    // Sequential float accumulation of n terms is within (n + 1)·eps of Σ|p·v|.
    std::vector<double> want(static_cast<size_t>(g * hd)), bound(want.size());
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t i = 0; i < hd; ++i) {
        double acc = 0, mag = 0;
        for (int64_t j = 0; j < n; ++j) {
          const double t = static_cast<double>(p[h * n + j]) * fp16_to_fp32(v[j * stride + i]);
          acc += t;
          mag += std::fabs(t);
        }
        want[h * hd + i] = acc;
        bound[h * hd + i] = (static_cast<double>(n) + 1) * kEps * mag;
      }
    }
    for_each_kernel([&](const F16OpKernels& kern, const char* name) {
      std::vector<float> out(want.size() + 1, kGuard);
      kern.weighted_sum(n, hd, v.data(), stride, p.data(), g, out.data());
      ASSERT_EQ(out.back(), kGuard) << name << " wrote past the output";
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(out[i], want[i], bound[i]) << name << " hd " << hd << " g " << g << " n " << n << " at " << i;
      }
    });
  }
}

// Large scores of both signs (the softmax input is unbounded): the block kernel's transpose-reduce must not mix
// up which position or head a sum belongs to, which small random values could hide within the error bound.
TEST(AttentionKernels, ScoresKeepPositionsAndHeadsApart) {
  for_each_kernel([](const F16OpKernels& kern, const char* name) {
    const int64_t hd = 64, g = 4, n = 37;
    // Key row j is the one-hot vector e_(j mod hd) times (j + 1); query h is (h + 1) on every dimension.
    std::vector<uint16_t> k(static_cast<size_t>(n * hd), fp32_to_fp16(0.0f));
    for (int64_t j = 0; j < n; ++j) k[j * hd + j % hd] = fp32_to_fp16(static_cast<float>(j + 1));
    std::vector<float> q(static_cast<size_t>(g * hd));
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t i = 0; i < hd; ++i) q[h * hd + i] = static_cast<float>(h + 1);
    }
    std::vector<float> sc(static_cast<size_t>(g * n));
    kern.scores(n, hd, k.data(), hd, q.data(), g, 1.0f, sc.data());
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t j = 0; j < n; ++j) EXPECT_EQ(sc[h * n + j], static_cast<float>((j + 1) * (h + 1))) << name;
    }
  });
}

}  // namespace
}  // namespace edgellm
