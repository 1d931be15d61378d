// Decode GEMV micro-benchmark (1 token): the old Highway per-row dot products against the x86 int8 GEMV
// kernels (kernels/x86_gemv.h), for the 32-block types and F16/BF16, at Llama-3.2-1B layer shapes plus its
// 128256-token output matrix.
//
// Names:
//   Kernel/<type>/<rows>x<cols>/<variant>   one thread, CPU time (steadier than wall time on a busy machine),
//                                           kernel called directly; variant hwy = the per-row
//                                           Highway (or scalar) vec_dot Linear used before, avx512vnni /
//                                           avxvnni / avx2 = x86_gemv variants (skipped if the CPU lacks them)
//   Linear/<type>/<rows>x<cols>/threads:<t> Linear::forward, i.e. whatever prepare() picks, on t threads
// Counters: bytes_per_second = weight bytes read per second; bw_frac = that over the read bandwidth measured in
// this process at the same thread count (matrices larger than the L3 only are bandwidth bound; 2048x2048 Q4_0 is
// 2.4 MB and sits in cache).
// Rerun, comparing variants in the same minute (noisy shared machine):
//   build/bin/decode_bench --benchmark_filter='Kernel/q4_0/' --benchmark_repetitions=3 --benchmark_min_time=0.2
//   build/bin/decode_bench --benchmark_filter='Linear/.*/(8192x2048|128256x2048)/' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/simd_dot.h"
#include "kernels/type_traits.h"
#include "bench_util.h"
#include "kernels/x86_gemv.h"
#include "measure/machine.h"

namespace edgellm {
namespace {

using bench::make_weight;
using bench::random_floats;
using bench::Shape;




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

void set_counters(benchmark::State& state, size_t bytes, int threads) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  const double bw = bandwidth_gbs(threads);
  if (bw > 0)
    state.counters["bw_frac"] =
        benchmark::Counter(static_cast<double>(bytes) / (bw * 1e9), benchmark::Counter::kIsIterationInvariantRate);
}

// variant < 0: the per-row vec_dot Linear used before the x86 GEMV; otherwise a GemvIsa.
void BM_Kernel(benchmark::State& state, GgmlType type, Shape s, int variant) {
  const TypeTraits* t = type_traits(type);
  const TypeTraits* act = type_traits(t->vec_dot_type);
  GemvKernel k;
  if (variant >= 0) {
    k = x86_gemv_kernel(type, static_cast<GemvIsa>(variant));
    if (k.fn == nullptr) return state.SkipWithError("variant not supported on this CPU");
  }
  bandwidth_gbs(1);
  const std::vector<uint8_t> w = make_weight(*t, s);
  const std::vector<float> x = random_floats(s.cols);
  std::vector<uint8_t> xq(act->type == GgmlType::F32 ? 0 : row_bytes(*act, s.cols));
  if (!xq.empty()) act->from_float(x.data(), xq.data(), s.cols);
  const void* xin = xq.empty() ? static_cast<const void*>(x.data()) : xq.data();
  AlignedBuffer acts(gemv_act_row_bytes(s.cols));
  std::vector<float> y(static_cast<size_t>(s.rows));
  const size_t rb = row_bytes(*t, s.cols);
  const SimdKernels simd = simd_kernels(type);
  const VecDotFn dot = simd.vec_dot != nullptr ? simd.vec_dot : t->vec_dot;
  for (auto _ : state) {
    if (variant < 0) {
      for (int64_t r = 0; r < s.rows; ++r) y[r] = dot(s.cols, w.data() + rb * static_cast<size_t>(r), xin);
    } else {
      gemv_expand_acts(xq.data(), s.cols, k.offset, acts.data());
      GemvTask task;
      task.w = w.data();
      task.w_stride = rb;
      task.cols = s.cols;
      task.acts = acts.data();
      task.y = y.data();
      task.y_stride = s.rows;
      task.row_end = s.rows;
      k.fn(task);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, rb * static_cast<size_t>(s.rows), 1);
}

void BM_Linear(benchmark::State& state, GgmlType type, Shape s, int threads) {
  const TypeTraits* t = type_traits(type);
  bandwidth_gbs(threads);
  const std::vector<uint8_t> w = make_weight(*t, s);
  const std::vector<float> x = random_floats(s.cols);
  auto lin = Linear::prepare(WeightView{type, s.rows, s.cols, w.data(), 0});
  if (!lin.is_ok()) return state.SkipWithError(lin.status().message().c_str());
  ThreadPool pool(threads);
  MatmulScratch scratch;
  std::vector<float> y(static_cast<size_t>(s.rows));
  for (auto _ : state) {
    lin->forward(x.data(), 1, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, row_bytes(*t, s.cols) * static_cast<size_t>(s.rows), threads);
}

const char* variant_name(int v) {
  switch (v) {
    case 0:
      return "avx512vnni";
    case 1:
      return "avxvnni";
    case 2:
      return "avx2";
    default:
      return "hwy";
  }
}

int register_all() {
  static_assert(static_cast<int>(GemvIsa::kAvx512Vnni) == 0 && static_cast<int>(GemvIsa::kAvx2) == 2);
  const GgmlType types[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                            GgmlType::Q8_0, GgmlType::F16,  GgmlType::BF16};
  const Shape shapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}, {128256, 2048}};
  for (GgmlType type : types) {
    const TypeTraits* t = type_traits(type);
    for (const Shape& s : shapes) {
      const std::string shape = std::to_string(s.rows) + "x" + std::to_string(s.cols);
      for (int v = -1; v < 3; ++v) {
        if (v >= 0 && !t->is_quantized) break;
        benchmark::RegisterBenchmark(("Kernel/" + std::string(t->name) + "/" + shape + "/" + variant_name(v)).c_str(),
                                     BM_Kernel, type, s, v)
            ->Unit(benchmark::kMicrosecond);
      }
      for (int threads : {1, 2})
        benchmark::RegisterBenchmark(
            ("Linear/" + std::string(t->name) + "/" + shape + "/threads:" + std::to_string(threads)).c_str(), BM_Linear,
            type, s, threads)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace edgellm
