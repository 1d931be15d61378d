// Table-lookup GEMV (elq formats, and TQ1_0/TQ2_0 on the ternary kernel) against llama.cpp-style types of similar size,
// through Linear::forward at Llama-3.2-1B layer shapes, 1 token (decode) and 16 tokens, 1 and 2 threads.
// bytes_per_second counts the stored weight bytes per call (the GGUF size, which bounds decode speed), so types compare
// at equal footing.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/elq.h"
#include "kernels/matmul.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

struct Shape {
  int64_t rows, cols;
};

// A few distinct quantized rows repeated: realistic block statistics without a long setup.
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

void BM_Gemv(benchmark::State& state, uint32_t type_id, Shape shape, int64_t n_tokens, int threads) {
  const TypeTraits* t = type_traits(type_id);
  const std::vector<uint8_t> w = make_weight(*t, shape);
  auto lin = Linear::prepare(WeightView{static_cast<GgmlType>(type_id), shape.rows, shape.cols, w.data(), 0});
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
  state.counters["bpw"] = 8.0 * static_cast<double>(w.size()) / static_cast<double>(shape.rows * shape.cols);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(shape.rows * shape.cols * n_tokens),
                         benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

const Shape kShapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}};

int register_all() {
  const uint32_t types[] = {static_cast<uint32_t>(GgmlType::Q4_0),
                            static_cast<uint32_t>(GgmlType::Q2_K),
                            elq_type_id(4, 64, false),
                            elq_type_id(4, 64, true),
                            elq_type_id(3, 64, false),
                            elq_type_id(2, 64, false),
                            elq_type_id(2, 128, false),
                            elq_ternary_id(128),
                            elq_type_id(1, 128, false),
                            static_cast<uint32_t>(GgmlType::TQ2_0),
                            static_cast<uint32_t>(GgmlType::TQ1_0)};
  for (uint32_t id : types)
    for (const Shape& s : kShapes)
      for (int64_t tokens : {1, 16})
        for (int threads : {1, 2}) {
          const std::string name = std::string("Gemv/") + type_traits(id)->name + "/" + std::to_string(s.rows) + "x" +
                                   std::to_string(s.cols) + "/tokens:" + std::to_string(tokens) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_Gemv, id, s, tokens, threads)->UseRealTime();
        }
  return 0;
}

const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
