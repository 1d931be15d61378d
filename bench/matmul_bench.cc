// Kernel micro-benchmark: Linear::forward (so whatever kernel the engine picks for the type and this CPU) for every
// weight type edgellm reads and every elq bit width, at the layer shapes of Llama-3.2-1B and Llama-3.1-8B, as a GEMV
// (1 token, decode) and a GEMM (64 and 512 tokens, prompt), on 1 and 2 threads.
//
// Names: Linear/<type>/<rows>x<cols>/tokens:<n>/threads:<t>, so --benchmark_filter picks a slice. Counters:
//   bytes_per_second  stored weight bytes read per second (the figure that bounds decode)
//   GOPS              2 × rows × cols × tokens per second, 1e9 (a multiply-add is 2 operations)
//   bw_frac           (GEMV only) weight bytes/s over the read bandwidth measured in this process at the same
//                     thread count (measure_read_gbs, once per thread count); meaningful only for matrices much
//                     larger than the L3: 14336x4096 and 4096x14336 (33 MB at Q4_0); the 1B shapes and 4096x4096
//                     fit a 32 MB L3 after the first call and read at cache speed (bw_frac above 1)
//   bw_GBs            (GEMV only) that measured bandwidth
// The whole grid (1200 cases, with the slow F32/F16 512-token GEMMs) takes too long for one run; slices:
//   every type, GEMV out of cache (8B FFN shapes), 1 and 2 threads (~2-3 min):
//     matmul_bench --benchmark_filter='/(14336x4096|4096x14336)/tokens:1/' --benchmark_min_time=0.1
//   every type, GEMM at 64 tokens on one 1B shape, 1 and 2 threads (~1-2 min):
//     matmul_bench --benchmark_filter='/2048x2048/tokens:64/' --benchmark_min_time=0.1
//   one type everywhere: --benchmark_filter='Linear/q4_0/'; compare two types in the same minute:
//     --benchmark_filter='Linear/(q4_0|elq4_g64)/8192x2048/tokens:1/' --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/elq.h"
#include "kernels/matmul.h"
#include "kernels/type_traits.h"
#include "bench_util.h"
#include "measure/machine.h"

namespace edgellm {
namespace {

using bench::make_weight;
using bench::random_floats;
using bench::Shape;



// Read bandwidth at `threads` threads, measured once per thread count on first use (0 if it cannot be measured).
double bandwidth_gbs(int threads) {
  static std::mutex mu;
  static std::map<int, double> cache;
  const std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(threads);
  if (it == cache.end()) {
    const Result<double> bw = measure_read_gbs(threads);
    it = cache.emplace(threads, bw.is_ok() ? *bw : 0.0).first;
  }
  return it->second;
}

void BM_LinearForward(benchmark::State& state, uint32_t type_id, Shape shape, int64_t n_tokens, int threads) {
  const TypeTraits* t = type_traits(type_id);
  if (t == nullptr || t->from_float == nullptr || t->vec_dot == nullptr) {
    state.SkipWithError("type not supported");
    return;
  }
  const double bw = n_tokens == 1 ? bandwidth_gbs(threads) : 0;  // before the weights take memory
  const std::vector<uint8_t> w = make_weight(*t, shape);
  auto lin = Linear::prepare(
      WeightView{static_cast<GgmlType>(type_id), shape.rows, shape.cols, w.data(), row_bytes(*t, shape.cols)});
  if (!lin.is_ok()) {
    state.SkipWithError(lin.status().message().c_str());
    return;
  }
  const std::vector<float> x = random_floats(n_tokens * shape.cols);
  std::vector<float> y(static_cast<size_t>(n_tokens * shape.rows));
  ThreadPool pool(threads);
  MatmulScratch scratch;
  scratch.quantized_x.resize(lin->scratch_bytes(n_tokens));
  for (auto _ : state) {
    lin->forward(x.data(), n_tokens, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(w.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
  state.counters["GOPS"] = benchmark::Counter(2.0 * static_cast<double>(shape.rows * shape.cols * n_tokens) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bpw"] = 8.0 * bytes / static_cast<double>(shape.rows * shape.cols);
  if (bw > 0) {
    state.counters["bw_GBs"] = bw;
    state.counters["bw_frac"] = benchmark::Counter(bytes * 1e-9 / bw, benchmark::Counter::kIsIterationInvariantRate);
  }
}

// Llama-3.2-1B: q/o (2048×2048), k/v (512×2048), gate/up (8192×2048), down (2048×8192).
// Llama-3.1-8B: q/o (4096×4096), k/v (1024×4096), gate/up (14336×4096), down (4096×14336).
const Shape kShapes[] = {{2048, 2048}, {512, 2048},  {8192, 2048},  {2048, 8192},
                         {4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};

std::vector<uint32_t> all_types() {
  std::vector<uint32_t> ids;
  for (GgmlType g : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                     GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                     GgmlType::Q6_K, GgmlType::TQ1_0, GgmlType::TQ2_0})
    ids.push_back(static_cast<uint32_t>(g));
  // Every elq width: g64 where the format exists, else g128; the zero-point 4-bit variant; ternary. (0 = no such
  // format; F32 is also 0, so the check is per id here, not on the list.)
  auto add = [&](uint32_t id) {
    if (id != 0) ids.push_back(id);
  };
  for (int bits = 1; bits <= 8; ++bits) {
    const uint32_t id = elq_type_id(bits, 64, false);
    add(id != 0 ? id : elq_type_id(bits, 128, false));
  }
  add(elq_type_id(4, 64, true));
  add(elq_ternary_id(128));
  return ids;
}

int register_all() {
  for (uint32_t id : all_types())
    for (const Shape& s : kShapes)
      for (int64_t tokens : {1, 64, 512})
        for (int threads : {1, 2}) {
          const std::string name = std::string("Linear/") + type_traits(id)->name + "/" + std::to_string(s.rows) + "x" +
                                   std::to_string(s.cols) + "/tokens:" + std::to_string(tokens) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_LinearForward, id, s, tokens, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime();
        }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
