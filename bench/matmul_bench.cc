// Linear::forward at Llama-3.2-1B layer shapes for the common weight types: GEMV (1 token, decode) and
// GEMM (64 tokens, prompt), on 1 and 2 threads. bytes_per_second counts weight bytes read per call,
// the figure that bounds decode speed.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

struct Shape {
  int64_t rows, cols;  // out_features × in_features
};

// Quantizes a few random rows and repeats them: realistic block statistics without minutes of setup.
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
    std::copy_n(distinct.data() + rb * static_cast<size_t>(r % kDistinctRows), rb, w.data() + rb * static_cast<size_t>(r));
  return w;
}

void BM_LinearForward(benchmark::State& state, GgmlType type, Shape shape, int64_t n_tokens, int threads) {
  const TypeTraits* t = type_traits(type);
  if (t == nullptr || t->vec_dot == nullptr) {
    state.SkipWithError("type not supported");
    return;
  }
  const std::vector<uint8_t> w = make_weight(*t, shape);
  auto lin = Linear::prepare(WeightView{type, shape.rows, shape.cols, w.data(), 0});
  if (!lin.is_ok()) {
    state.SkipWithError(lin.status().message().c_str());
    return;
  }
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_tokens * shape.cols));
  for (float& f : x) f = dist(rng);
  std::vector<float> y(static_cast<size_t>(n_tokens * shape.rows));
  ThreadPool pool(threads);
  MatmulScratch scratch;
  scratch.quantized_x.resize(lin->scratch_bytes(n_tokens));
  for (auto _ : state) {
    lin->forward(x.data(), n_tokens, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(shape.rows * shape.cols * n_tokens),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

// Attention/output projections, FFN up/gate, FFN down of Llama-3.2-1B.
const Shape kShapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}};
const GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::F16, GgmlType::Q4_K, GgmlType::Q6_K};

int register_all() {
  for (GgmlType type : kTypes)
    for (const Shape& s : kShapes)
      for (int64_t tokens : {1, 64})
        for (int threads : {1, 2}) {
          const std::string name = std::string("Linear/") + type_traits(type)->name + "/" + std::to_string(s.rows) +
                                   "x" + std::to_string(s.cols) + "/tokens:" + std::to_string(tokens) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_LinearForward, type, s, tokens, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
