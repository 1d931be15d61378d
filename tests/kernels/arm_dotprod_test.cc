// The ARM sdot vec_dot kernels against the scalar traits vec_dot, on random rows of odd shapes. They run
// on ARM64 CPUs with the dot-product extension (and under qemu-aarch64, whose default CPU has it:
// scripts/test-arm64.sh); elsewhere only the check that no kernel is offered is compiled.
#include "kernels/arm_dotprod.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

const GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K};

bool expect_dotprod() {
#if defined(__aarch64__)
  return cpu_features().dotprod;
#else
  return false;
#endif
}

TEST(ArmDotprod, OfferedExactlyWhereSdotRuns) {
  for (GgmlType type : kTypes) {
    EXPECT_EQ(arm_dotprod_vec_dot(type) != nullptr, expect_dotprod()) << type_traits(type)->name;
  }
  EXPECT_EQ(arm_dotprod_vec_dot(GgmlType::F32), nullptr);
  EXPECT_EQ(arm_dotprod_vec_dot(GgmlType::Q5_K), nullptr);
}

#if defined(__aarch64__)

// Rows (M) and blocks per row (K / block size): odd counts, so the two-block unrolled loops end on a single block.
const int64_t kRows[] = {1, 3, 17};
const int64_t kBlocks[] = {1, 3, 17, 33};

std::vector<float> random_normal(int64_t n, std::mt19937& rng, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

std::vector<uint8_t> quantize(const TypeTraits& t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, static_cast<int64_t>(x.size())));
  t.from_float(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

TEST(ArmDotprod, MatchesScalarVecDotOnRandomRows) {
  if (!expect_dotprod()) GTEST_SKIP() << "this ARM CPU has no dot-product extension";
  std::mt19937 rng(20261124);
  for (GgmlType type : kTypes) {
    const TypeTraits& wt = *type_traits(type);
    const TypeTraits& xt = *type_traits(wt.vec_dot_type);
    const VecDotFn fast = arm_dotprod_vec_dot(type);
    ASSERT_NE(fast, nullptr) << wt.name;
    for (int64_t blocks : kBlocks) {
      const int64_t k = blocks * wt.block_size;
      const auto xf = random_normal(k, rng, 3.0f);
      const auto xq = quantize(xt, xf);
      for (int64_t rows : kRows) {
        for (int64_t r = 0; r < rows; ++r) {
          const auto wf = random_normal(k, rng, 0.5f);
          const auto wq = quantize(wt, wf);
          // Block sums are exact integers on both paths; only float accumulation order may differ.
          double mag = 0;
          for (int64_t j = 0; j < k; ++j) mag += std::fabs(static_cast<double>(wf[j]) * xf[j]);
          const float want = wt.vec_dot(k, wq.data(), xq.data());
          const float got = fast(k, wq.data(), xq.data());
          ASSERT_NEAR(got, want, 1e-5 * mag + 1e-6) << wt.name << " K=" << k << " M=" << rows << " row " << r;
          ASSERT_NE(want, 0.0f) << "degenerate input";
        }
      }
    }
  }
}

// Extreme levels: every weight and activation at the ends of its range, where a wrong sign extension or
// an overflowing intermediate would show.
TEST(ArmDotprod, MatchesScalarAtExtremeLevels) {
  if (!expect_dotprod()) GTEST_SKIP() << "this ARM CPU has no dot-product extension";
  for (GgmlType type : kTypes) {
    const TypeTraits& wt = *type_traits(type);
    const TypeTraits& xt = *type_traits(wt.vec_dot_type);
    const int64_t k = 3 * wt.block_size;
    for (float sign : {1.0f, -1.0f}) {
      std::vector<float> wf(static_cast<size_t>(k)), xf(static_cast<size_t>(k));
      for (int64_t j = 0; j < k; ++j) {
        wf[j] = (j % 2 ? -sign : sign) * 100.0f;
        xf[j] = (j % 2 ? -1.0f : 1.0f) * 50.0f;
      }
      const auto wq = quantize(wt, wf), xq = quantize(xt, xf);
      const float want = wt.vec_dot(k, wq.data(), xq.data());
      EXPECT_NEAR(arm_dotprod_vec_dot(type)(k, wq.data(), xq.data()), want, 1e-5f * std::fabs(want))
          << wt.name << " sign " << sign;
      EXPECT_GT(std::fabs(want), 0.5f * k * 100.0f * 50.0f) << wt.name;
    }
  }
}

#endif  // __aarch64__

}  // namespace
}  // namespace edgellm
