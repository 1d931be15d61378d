// Summary statistics for repeated measurements (tokens/s over repetitions, per-token latencies).
#pragma once

#include <cstddef>
#include <vector>

namespace edgellm {

struct Summary {
  size_t n = 0;  // number of finite values summarized
  double mean = 0;
  double sd = 0;  // sample standard deviation (divides by n-1); 0 when n < 2
  double min = 0, max = 0;
  double p50 = 0, p90 = 0, p99 = 0;
};

// Percentile p (0..100) of values already sorted ascending, by linear interpolation between the two
// closest ranks, numpy's default: rank = p/100 * (n-1), result = v[floor] + frac * (v[ceil] - v[floor]).
// p is clamped to [0, 100]; an empty input gives 0.
double percentile_sorted(const std::vector<double>& sorted, double p);

// Mean, sd, min, max and p50/p90/p99 (percentile_sorted) of `values`. Non-finite values (NaN, inf)
// are dropped, so one failed sample does not poison the summary; an empty input gives all zeros, n = 0.
Summary summarize(std::vector<double> values);

}  // namespace edgellm
