#include "measure/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace edgellm {
namespace {

TEST(Summarize, OneToTenMatchesNumpyLinearPercentiles) {
  // numpy.percentile([1..10], [50, 90, 99]) == [5.5, 9.1, 9.91]; sd with ddof=1 == sqrt(82.5 / 9).
  Summary s = summarize({7, 3, 10, 1, 5, 2, 9, 4, 8, 6});
  EXPECT_EQ(s.n, 10u);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_NEAR(s.sd, std::sqrt(82.5 / 9.0), 1e-12);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_NEAR(s.p50, 5.5, 1e-12);
  EXPECT_NEAR(s.p90, 9.1, 1e-12);
  EXPECT_NEAR(s.p99, 9.91, 1e-12);
}

TEST(Summarize, SkewedLatencies) {
  // numpy.percentile([10, 10, 10, 10, 100], 90) == 64 (rank 3.6 between 10 and 100).
  Summary s = summarize({10, 10, 100, 10, 10});
  EXPECT_NEAR(s.p50, 10, 1e-12);
  EXPECT_NEAR(s.p90, 64, 1e-12);
  EXPECT_NEAR(s.p99, 96.4, 1e-12);
  EXPECT_DOUBLE_EQ(s.mean, 28);
}

TEST(Summarize, SingleEmptyAndNonFinite) {
  Summary one = summarize({42});
  EXPECT_EQ(one.n, 1u);
  EXPECT_EQ(one.sd, 0);
  EXPECT_EQ(one.p99, 42);
  Summary none = summarize({});
  EXPECT_EQ(none.n, 0u);
  EXPECT_EQ(none.mean, 0);
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  Summary filtered = summarize({1, nan, 3, inf});
  EXPECT_EQ(filtered.n, 2u);
  EXPECT_DOUBLE_EQ(filtered.mean, 2);
  EXPECT_DOUBLE_EQ(filtered.max, 3);
}

TEST(PercentileSorted, ClampsAndEndpoints) {
  std::vector<double> v{1, 2, 4};
  EXPECT_EQ(percentile_sorted(v, 0), 1);
  EXPECT_EQ(percentile_sorted(v, 100), 4);
  EXPECT_EQ(percentile_sorted(v, 150), 4);
  EXPECT_EQ(percentile_sorted(v, -5), 1);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 75), 3);
  EXPECT_EQ(percentile_sorted({}, 50), 0);
}

}  // namespace
}  // namespace edgellm
