// Decode attention over an F16 KV cache, one thread, at the Llama-3.2-1B shape (16 layers, 32 query heads, 8 KV
// heads, head_dim 64): one iteration is one token's attention in all 16 layers (scores, softmax, weighted sum of
// values for every KV head and its 4 query heads), so the time column is the per-token cost.
//
// Names:
//   Attn/<variant>/ctx:<n>   the token sees n cached positions. variant blocked = ops_simd's kernels (scores
//                            vectorized across positions by transpose-reduce, values in one pass for 4 heads);
//                            rowwise = the session-3 kernels (a horizontal sum per position and head, each value
//                            row visited once per vector of the head); attention = kernels/ops.h attention() on a
//                            1-thread pool (the path decode runs: attention_decode.cc, positions outer, all KV
//                            heads per block of rows, online softmax; positions split across the pool's threads in
//                            fixed chunks, then merged); head_split = the same kernel as session 5's attention() ran
//                            it: one whole-context call per thread over a contiguous range of KV heads (one thread:
//                            all of them, unchunked). Enough layer caches to exceed 96 MB are read one after
//                            another, so they come from DRAM as in a model's decode, not from the L3.
//   Hot/<variant>/ctx:256    one layer cache reused (L2): the arithmetic cost without the memory stream.
//   Attn2/<variant>/ctx:<n>  the same on a 2-thread pool (wall time): blocked with KV heads interleaved across the
//                            threads as decode split them before session 5, head_split its KV head halves,
//                            attention = attention()'s position split.
//   StreamRead               one thread summing 96 MB with the widest loads: the roofline of this run.
// bytes_per_second = K and V bytes read per CPU second (n · 2 KB per layer); bw_frac = that over StreamRead's.
// Rerun, comparing variants in the same minute (noisy shared machine):
//   build/bin/attention_bench --benchmark_filter='StreamRead|Attn2?/(attention|head_split)'
//     --benchmark_repetitions=3 --benchmark_min_time=0.3   (one line)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "bench_util.h"
#include "core/aligned_buffer.h"
#include "core/fp16.h"
#include "core/thread_pool.h"
#include "kernels/ops.h"
#include "kernels/ops_simd.h"

namespace edgellm {
namespace {

constexpr int kLayers = 16, kHeads = 32, kKvHeads = 8, kHeadDim = 64;
constexpr int kGroup = kHeads / kKvHeads, kKvDim = kKvHeads * kHeadDim;

enum class Variant { kBlocked, kRowwise, kAttention, kHeadSplit };

// Layer caches (K then V, each ctx rows of kKvDim halves) of N(0, 1) values, enough of them to exceed 96 MB.
struct Caches {
  Caches(int64_t ctx, bool hot)
      : ctx(ctx),
        layer_halves(2 * ctx * kKvDim),
        count(hot ? 1 : std::max<int64_t>(kLayers, static_cast<int64_t>(bench::kDramBytes) / (layer_halves * 2) + 1)),
        buf(static_cast<size_t>(count * layer_halves) * sizeof(uint16_t)) {
    const std::vector<float> f = bench::random_floats(4099, 3);  // a prime-length pattern, so rows differ
    std::vector<uint16_t> h(f.size());
    for (size_t i = 0; i < f.size(); ++i) h[i] = fp32_to_fp16(f[i]);
    auto* p = reinterpret_cast<uint16_t*>(buf.data());
    for (int64_t i = 0; i < count * layer_halves; ++i) p[i] = h[static_cast<size_t>(i) % h.size()];
  }
  const uint16_t* k(int64_t layer) const {
    return reinterpret_cast<const uint16_t*>(buf.data()) + layer * layer_halves;
  }
  const uint16_t* v(int64_t layer) const { return k(layer) + ctx * kKvDim; }
  int64_t ctx, layer_halves, count;
  AlignedBuffer buf;
};

// One token's attention in one layer with the given kernels, as the per-KV-head path runs it on thread ith of nth
// (KV heads interleaved across threads; scores: kGroup × n floats of this thread's own).
void attend(const F16OpKernels& kern, const uint16_t* k, const uint16_t* v, int64_t n, const float* q, float* scores,
            float* out, int ith = 0, int nth = 1) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  for (int kvh = ith; kvh < kKvHeads; kvh += nth) {
    const int64_t head0 = static_cast<int64_t>(kvh) * kGroup * kHeadDim;
    kern.scores(n, kHeadDim, k + kvh * kHeadDim, kKvDim, q + head0, kGroup, scale, scores);
    for (int h = 0; h < kGroup; ++h) kern.softmax(scores + h * n, n);
    kern.weighted_sum(n, kHeadDim, v + kvh * kHeadDim, kKvDim, scores, kGroup, out + head0);
  }
}

// One token's attention in one layer as session 5's attention() ran decode: the decode kernel over one whole-context
// slice per thread, thread ith of nth taking a contiguous range of KV heads (its part of every cache row).
void attend_head_split(const F16OpKernels& kern, const uint16_t* k, const uint16_t* v, int64_t n, const float* q,
                       float* out, int ith, int nth) {
  const int kv0 = kKvHeads * ith / nth, kv1 = kKvHeads * (ith + 1) / nth;
  DecodeAttnSlice s;
  s.n = n;
  s.hd = kHeadDim;
  s.g = kGroup;
  s.n_kv = kv1 - kv0;
  s.k = k + kv0 * kHeadDim;
  s.v = v + kv0 * kHeadDim;
  s.stride = kKvDim;
  s.q = q + kv0 * kGroup * kHeadDim;
  s.scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  s.out = out + kv0 * kGroup * kHeadDim;
  if (s.n_kv > 0) kern.decode(s);
}

// threads > 1: the time column is wall time (UseRealTime), the pool's threads spinning between layers as in decode.
void BM_Attn(benchmark::State& state, Variant variant, bool hot, int threads) {
  const int64_t ctx = state.range(0);
  const Caches caches(ctx, hot);
  const F16OpKernels kern = variant == Variant::kRowwise ? f16_op_kernels_rowwise() : f16_op_kernels();
  const std::vector<float> q = bench::random_floats(kHeads * kHeadDim, 5);
  std::vector<float> out(kHeads * kHeadDim),
      scores(static_cast<size_t>(std::max<int64_t>(
          threads * kGroup * ctx, attention_scratch_floats(kHeads, kKvHeads, kHeadDim, ctx, threads))));
  ThreadPool pool(threads);
  AttentionArgs a;
  a.q = q.data();
  a.out = out.data();
  a.n_tokens = 1;
  a.pos0 = static_cast<int>(ctx - 1);
  a.n_head = kHeads;
  a.n_head_kv = kKvHeads;
  a.head_dim = kHeadDim;
  a.scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  a.scratch = scores.data();
  a.scratch_stride = kGroup * ctx;
  int64_t next = 0;
  for (auto _ : state) {
    for (int l = 0; l < kLayers; ++l, next = (next + 1) % caches.count) {
      if (variant == Variant::kHeadSplit) {
        pool.run([&](int ith, int nth) {
          attend_head_split(kern, caches.k(next), caches.v(next), ctx, q.data(), out.data(), ith, nth);
        });
      } else if (variant == Variant::kAttention) {
        a.k = caches.k(next);
        a.v = caches.v(next);
        attention(a, pool);
      } else if (threads == 1) {
        attend(kern, caches.k(next), caches.v(next), ctx, q.data(), scores.data(), out.data());
      } else {
        pool.run([&](int ith, int nth) {
          attend(kern, caches.k(next), caches.v(next), ctx, q.data(), scores.data() + ith * kGroup * ctx, out.data(),
                 ith, nth);
        });
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  bench::set_bytes(state, static_cast<size_t>(kLayers * caches.layer_halves) * sizeof(uint16_t));
}

BENCHMARK(bench::stream_read)->Name("StreamRead")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Attn, hot_rowwise, Variant::kRowwise, true, 1)
    ->Name("Hot/rowwise")
    ->ArgName("ctx")
    ->Arg(256)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Attn, hot_blocked, Variant::kBlocked, true, 1)
    ->Name("Hot/blocked")
    ->ArgName("ctx")
    ->Arg(256)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Attn, hot_attention, Variant::kAttention, true, 1)
    ->Name("Hot/attention")
    ->ArgName("ctx")
    ->Arg(256)
    ->Unit(benchmark::kMillisecond);
// The 1B decode contexts every out-of-cache variant runs at.
void contexts(benchmark::internal::Benchmark* b) {
  b->ArgName("ctx")->Arg(128)->Arg(512)->Arg(640)->Arg(2048)->Arg(8192)->Unit(benchmark::kMillisecond);
}
BENCHMARK_CAPTURE(BM_Attn, rowwise, Variant::kRowwise, false, 1)->Name("Attn/rowwise")->Apply(contexts);
BENCHMARK_CAPTURE(BM_Attn, blocked, Variant::kBlocked, false, 1)->Name("Attn/blocked")->Apply(contexts);
BENCHMARK_CAPTURE(BM_Attn, attention, Variant::kAttention, false, 1)->Name("Attn/attention")->Apply(contexts);
BENCHMARK_CAPTURE(BM_Attn, head_split, Variant::kHeadSplit, false, 1)->Name("Attn/head_split")->Apply(contexts);
// Two threads: the per-KV-head kernels with KV heads interleaved (the split decode used before attention_decode.cc)
// against attention() (contiguous KV head halves).
BENCHMARK_CAPTURE(BM_Attn, blocked_t2, Variant::kBlocked, false, 2)
    ->Name("Attn2/blocked")
    ->Apply(contexts)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Attn, attention_t2, Variant::kAttention, false, 2)
    ->Name("Attn2/attention")
    ->Apply(contexts)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Attn, head_split_t2, Variant::kHeadSplit, false, 2)
    ->Name("Attn2/head_split")
    ->Apply(contexts)
    ->UseRealTime();

}  // namespace
}  // namespace edgellm
