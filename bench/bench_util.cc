#include "bench_util.h"

#include <time.h>

#include <algorithm>
#include <random>

#include "core/aligned_buffer.h"
#include "measure/probe_kernels.h"

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

namespace {
double g_stream_gbs = 0;  // stream_read's last rate
}  // namespace

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void stream_read(benchmark::State& state) {
  AlignedBuffer buf(kDramBytes);
  for (size_t i = 0; i < buf.size(); i += 4096) buf.data()[i] = static_cast<uint8_t>(i >> 12);
  const double start = thread_cpu_seconds();
  for (auto _ : state) benchmark::DoNotOptimize(read_sum(buf.data(), buf.size()));
  const double took = thread_cpu_seconds() - start;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(buf.size()));
  if (took > 0) g_stream_gbs = static_cast<double>(buf.size()) * static_cast<double>(state.iterations()) / took / 1e9;
}

void set_bytes(benchmark::State& state, size_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  if (g_stream_gbs > 0)
    state.counters["bw_frac"] = benchmark::Counter(static_cast<double>(bytes) / (g_stream_gbs * 1e9),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace edgellm::bench
