// Two-thread decode from DRAM (issue 4): does a 2-thread GEMV lose to the 2-thread read because of the work split
// or because of the kernel? Copies of a Llama-3.2-1B layer (q, k, v, o, gate, up, down: 7 repacked matrices, 129 MB
// of Q8_0 in two copies, past the 32 MB L3) are multiplied by one token with the AVX-512 repack kernel, split three
// ways, beside a plain read of the same bytes by the same threads.
//
// Names (threads = pool size, 1 or 2):
//   Read/threads:N       each thread sums its own contiguous 1/N of the layer copies' bytes (measure read_sum).
//   <type>/balanced/threads:N  per matrix, ThreadPool::parallel_for_balanced in 256 KB chunks, as Linear does.
//   <type>/halves/threads:N    per matrix, one contiguous 1/N of the tiles per thread (parallel_for).
//   <type>/whole/threads:N     no split: thread i multiplies whole matrices i, i+N, ... (two one-thread
//                              processes would behave so; one pool job per layer copy).
//   <type>/arena/threads:N     balanced, over the same matrices packed one after another into a WeightArena (as a
//                              loaded model is: core/weight_arena.h) instead of a buffer each (the other cases:
//                              buffers under 2 MiB, the k and v projections, on 4 KiB pages).
// Counters: bytes_per_second = weight bytes per wall second (UseRealTime); busy_gbs = Σ over threads of the
// thread's bytes over its CPU seconds inside the kernel or read calls (what the threads reach together while they
// run, without the waits at the end of a job and without other processes' turns on this shared machine);
// bw_frac = busy_gbs over Read's busy_gbs of the same thread count and process.
// Rerun (one line):
//   build/bin/repack_threads_bench --benchmark_repetitions=3 --benchmark_min_time=0.3
//     --benchmark_report_aggregates_only=true
// arena against own buffers, interleaved in one process:
//   build/bin/repack_threads_bench --benchmark_filter='/(balanced|arena)/' --benchmark_repetitions=6
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/aligned_buffer.h"
#include "core/thread_pool.h"
#include "core/weight_arena.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"
#include "measure/probe_kernels.h"

namespace edgellm {
namespace {

using bench::Shape;

enum class Split { kBalanced, kHalves, kWhole, kArena };

// The layer copies of one type, repacked once per process, and one token's expanded activations per width.
struct Layers {
  const RepackOps* ops = nullptr;
  std::vector<RepackedWeight> mats;
  size_t bytes = 0;  // GGUF weight bytes of all copies
  std::map<int64_t, AlignedBuffer> acts;
  size_t max_rows = 0;
};

// arena: the matrices come from one WeightArena in order (the blocks outlive it), else a buffer each.
const Layers& layers(GgmlType type, bool arena = false) {
  static std::map<std::pair<GgmlType, bool>, Layers> cache;
  Layers& l = cache[{type, arena}];
  if (l.ops != nullptr || repack_ops(type, RepackIsa::kAvx512Vnni) == nullptr) return l;
  const TypeTraits& t = *type_traits(type);
  const TypeTraits& a = *type_traits(t.vec_dot_type);
  l.ops = repack_ops(type, RepackIsa::kAvx512Vnni);
  const Shape shapes[] = {{2048, 2048}, {512, 2048}, {512, 2048}, {2048, 2048}, {8192, 2048}, {8192, 2048}, {2048, 8192}};
  WeightArena weights;
  while (l.bytes < bench::kDramBytes) {
    for (const Shape& s : shapes) {
      const std::vector<uint8_t> w = bench::make_weight(t, s);
      Result<RepackedWeight> p =
          repack_weight(*l.ops, w.data(), s.rows, s.cols, row_bytes(t, s.cols), arena ? &weights : nullptr);
      if (!p.is_ok()) return l;
      l.mats.push_back(std::move(p.value()));
      l.bytes += w.size();
      l.max_rows = std::max(l.max_rows, static_cast<size_t>(s.rows));
    }
  }
  for (int64_t cols : {int64_t{2048}, int64_t{8192}}) {
    const std::vector<float> x = bench::random_floats(cols);
    std::vector<uint8_t> xq(row_bytes(a, cols));
    a.from_float(x.data(), xq.data(), cols);
    AlignedBuffer e(l.ops->act_row_bytes(cols));
    l.ops->expand_acts(xq.data(), cols, e.data());
    l.acts.emplace(cols, std::move(e));
  }
  return l;
}

// Per-thread CPU seconds spent inside the timed calls, each on its own cache line.
struct alignas(64) Busy {
  double seconds = 0;
  double bytes = 0;
};

void report(benchmark::State& state, size_t bytes_per_iteration, const std::vector<Busy>& busy, const char* key) {
  static std::map<int, double> read_busy_gbs;  // per thread count, from the Read benchmark of this process
  const double total = static_cast<double>(bytes_per_iteration) * static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(total));
  double gbs = 0;
  for (const Busy& b : busy) {
    if (b.seconds <= 0) return;
    gbs += b.bytes / b.seconds / 1e9;
  }
  state.counters["busy_gbs"] = gbs;
  const int n = static_cast<int>(busy.size());
  if (std::string(key) == "read") read_busy_gbs[n] = gbs;
  if (std::string(key) != "read" && read_busy_gbs.count(n) != 0) state.counters["bw_frac"] = gbs / read_busy_gbs[n];
}

void BM_Read(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Layers& l = layers(GgmlType::Q8_0);
  if (l.ops == nullptr) return state.SkipWithError("no AVX-512 VNNI repack kernel on this CPU");
  ThreadPool pool(n);
  std::vector<Busy> busy(static_cast<size_t>(n));
  std::atomic<uint64_t> sink{0};
  for (auto _ : state) {
    pool.run([&](int ith, int nth) {
      const double t0 = bench::thread_cpu_seconds();
      uint64_t s = 0;
      // Thread ith reads its contiguous share of the matrices (whole tiles buffers, in order).
      const size_t per = (l.mats.size() + static_cast<size_t>(nth) - 1) / static_cast<size_t>(nth);
      const size_t b = per * static_cast<size_t>(ith), e = std::min(l.mats.size(), b + per);
      double bytes = 0;
      for (size_t i = b; i < e; ++i) {
        s += read_sum(l.mats[i].data.data(), l.mats[i].data.size());
        bytes += static_cast<double>(l.mats[i].data.size());
      }
      sink.fetch_add(s, std::memory_order_relaxed);
      busy[static_cast<size_t>(ith)].seconds += bench::thread_cpu_seconds() - t0;
      busy[static_cast<size_t>(ith)].bytes += bytes;
    });
  }
  benchmark::DoNotOptimize(sink.load());
  size_t bytes = 0;
  for (const RepackedWeight& w : l.mats) bytes += w.data.size();
  report(state, bytes, busy, "read");
}

void BM_Gemv(benchmark::State& state, GgmlType type, Split split) {
  const int n = static_cast<int>(state.range(0));
  const Layers& l = layers(type, split == Split::kArena);
  if (l.ops == nullptr) return state.SkipWithError("no AVX-512 VNNI repack kernel on this CPU");
  ThreadPool pool(n);
  std::vector<Busy> busy(static_cast<size_t>(n));
  std::vector<float> y(l.max_rows * static_cast<size_t>(n));
  auto gemv = [&](const RepackedWeight& w, int64_t b, int64_t e, int ith) {
    const double t0 = bench::thread_cpu_seconds();
    const AlignedBuffer& a = l.acts.at(w.cols);
    l.ops->gemv(w, b, e, a.data(), a.size(), 1, y.data() + l.max_rows * static_cast<size_t>(ith), w.rows);
    busy[static_cast<size_t>(ith)].seconds += bench::thread_cpu_seconds() - t0;
    busy[static_cast<size_t>(ith)].bytes += static_cast<double>(e - b) * static_cast<double>(w.tile_bytes);
  };
  for (auto _ : state) {
    if (split == Split::kWhole) {
      pool.run([&](int ith, int nth) {
        for (size_t i = static_cast<size_t>(ith); i < l.mats.size(); i += static_cast<size_t>(nth))
          gemv(l.mats[i], 0, l.mats[i].tiles, ith);
      });
      continue;
    }
    for (const RepackedWeight& w : l.mats) {
      const auto fn = [&](int64_t b, int64_t e, int ith) { gemv(w, b, e, ith); };
      if (split == Split::kBalanced || split == Split::kArena) {
        const int64_t grain = std::max<int64_t>(1, static_cast<int64_t>((size_t{256} << 10) / w.tile_bytes));
        pool.parallel_for_balanced(w.tiles, grain, fn);
      } else {
        pool.parallel_for(w.tiles, fn);
      }
    }
  }
  benchmark::DoNotOptimize(y.data());
  report(state, l.bytes, busy, "gemv");
}

int register_all() {
  benchmark::RegisterBenchmark("Read", BM_Read)->ArgName("threads")->DenseRange(1, 2)->UseRealTime()->Unit(
      benchmark::kMillisecond);
  const std::pair<Split, const char*> splits[] = {
      {Split::kBalanced, "balanced"}, {Split::kHalves, "halves"}, {Split::kWhole, "whole"}, {Split::kArena, "arena"}};
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0})
    for (const auto& [split, name] : splits)
      benchmark::RegisterBenchmark((std::string(type_traits(type)->name) + "/" + name).c_str(), BM_Gemv, type, split)
          ->ArgName("threads")
          ->DenseRange(1, 2)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace edgellm
