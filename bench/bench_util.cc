#include "bench_util.h"

#include <algorithm>
#include <random>

namespace edgellm::bench {

std::vector<uint8_t> make_weight(const TypeTraits& t, const Shape& s) {
  constexpr int64_t kDistinctRows = 16;
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  const size_t rb = row_bytes(t, s.cols);
  std::vector<uint8_t> distinct(rb * kDistinctRows);
  std::vector<float> row(static_cast<size_t>(s.cols));
  for (int64_t r = 0; r < kDistinctRows; ++r) {
    for (float& f : row) f = dist(rng);
    t.from_float(row.data(), distinct.data() + rb * static_cast<size_t>(r), s.cols);
  }
  std::vector<uint8_t> w(rb * static_cast<size_t>(s.rows));
  for (int64_t r = 0; r < s.rows; ++r)
    std::copy_n(distinct.data() + rb * static_cast<size_t>(r % kDistinctRows), rb,
                w.data() + rb * static_cast<size_t>(r));
  return w;
}

std::vector<float> random_floats(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& f : x) f = dist(rng);
  return x;
}

}  // namespace edgellm::bench
