// Decode attention over the F16 KV cache with the positions in the outer loop (ops_simd.h F16OpKernels::decode).
// The per-KV-head kernels of ops_simd.cc read one head's 128 bytes of every 1 KB cache row (Llama-3.2-1B shape) in
// 8 strided passes over K and 8 over V per layer, which ran at ~15 GB/s even with software prefetch. Here a block
// of kBlock positions is finished for every KV head of the run before the next block starts, so K and V are each
// read front to back once per layer, and the rows one block ahead are prefetched a few lines at a time. The softmax
// runs online (flash-decoding style): per block a new running max per query head rescales its sum and its
// accumulators, which live in the output rows (L1), so no scores are stored.
// Threads split the positions, not the KV heads (session 5's contiguous KV head halves ran no faster on 2 threads
// than on 1): a call covers a run of fixed chunks of positions and leaves each chunk's unnormalized state (m, l,
// accumulator rows) in the caller's scratch; DecodeMergeF16 combines the chunks in ascending order, so the bits do
// not depend on which thread computed a chunk.
// 1B shape, bench/attention_bench.cc, same process, loaded shared machine (per token, 16 layers, thread CPU time):
//   one thread   ctx 640 1.21-1.31 (session 5's kernel and prefetch) -> 1.11-1.13 ms (18 GB/s),
//                8192 12.5-13.3 -> 11.9-12.1 ms (21 GB/s); the stream read ran at 43-47 GB/s. The chunks and the
//                merge cost ~5 % at ctx 640 against one whole-context call of this kernel (1.06 vs 1.01 ms), ~0 at
//                8192. From L2 (ctx 256, 0.33 ms) the arithmetic alone is ~70 % of the DRAM time: a zmm FMA per 16
//                lanes for every key and value element and query head (4·32·64 flops per position and layer) plus
//                the transpose-reduce of the scores.
// Highway 1.0.3 expresses all of it (F16 widening, transpose-reduce, vector exp); no per-ISA intrinsics.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention_decode.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// After highway.h: per-target like this file.
#include <hwy/cache_control.h>
#include <hwy/contrib/math/math-inl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "kernels/attention_tiles-inl.h"
#include "kernels/ops_simd.h"

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
using namespace attn_tiles;  // NOLINT(google-build-using-namespace): this file's half of the tile kernels

// Positions per block: a multiple of every tile's position count (kN / H) and of kN. 32 rows of the 1B shape are
// 32 KB of K and 32 KB of V; the per-block work per query head (max, rescale, exp) is amortized over 32 positions.
constexpr int64_t kBlock = 32;  // 64: 8 % less arithmetic from L2, but 1.46 ms at context 640 from DRAM
// Query heads one pass keeps running sums for (more are done in further passes over the cache).
constexpr int64_t kMaxHeads = 128;
// How many rows ahead the rows are prefetched: one block. Same process, loaded machine, context 640 / 8192 (ms per
// token): 16 rows 1.6 / 18.8, 24 1.28 / 14.7, 32 1.14 / 12.1, 48 1.2 / 13.1, 64 (two blocks, as before) 1.2 / 12.9;
// into L2 only (prefetcht1) at 64 rows 1.27 / 13.8, at 128 1.47 / 14.6.
constexpr int64_t kAheadRows = kBlock;

// Software prefetch of the rows kAheadRows ahead, spread over the value rows of the current block: the
// lines of a block's K rows (and the same lines of V) from the row the call's first KV head starts at are one
// contiguous range, cut into one segment per KV head, requested per_call lines per value row. Whole rows are
// requested, also where the call covers only some KV heads (a hint; a pointer and a bound keep the inner loop's
// registers free: tracking rows and lines made GCC spill the accumulators). (A burst of a whole block's 1024
// prefetches at its start stalled the core until they had landed: 2.3 ms per token at context 640 against 1.4 for
// the per-KV-head kernels; without any prefetch, 3.2 ms; column order, each KV head's own slice of the rows: no
// better than the per-KV-head kernels.)
struct Ahead {
  const char* p;      // the next K line to request
  const char* end;    // the end of this segment (or of the rows the call may read)
  int64_t v_minus_k;  // bytes from a K line to the same line of V
  int64_t per_call;   // lines per Step(), 0 to skip (later head blocks and pieces of a KV head)

  HWY_INLINE void Step() {
    for (int64_t t = 0; t < per_call && p < end; ++t, p += 64) {
      hwy::Prefetch(p);
      hwy::Prefetch(p + v_minus_k);
    }
  }
};

// Online softmax step of H query heads over their block scores sc[h·kBlock …+nb) (kBlock floats of room each): m
// (running maxima) and l (running sums of exp(s − m)) move to the new maxima; sc becomes exp(s − m), 0 past nb.
// alpha[h] is the factor head h's accumulators must be multiplied by before this block's terms are added (exactly 1
// when its max did not change). The H rescale factors take one vector exp (per-head std::exp calls were ~5 % of
// the time at 640 positions in 64-position chunks, each chunk's first block starting from m = −inf).
template <int H>
HWY_INLINE void OnlineStep(float* sc, int64_t nb, float* m, float* l, float* alpha) {
  static_assert(H <= kN, "one lane per head");
  const DF df;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float m_new[H];
  HWY_ALIGN float diff[kN] = {};
  for (int h = 0; h < H; ++h) {
    float* x = sc + h * kBlock;
    std::fill(x + nb, x + kBlock, kNegInf);  // hn::Exp gives exactly 0 below its range, −inf included
    VF vmax = hn::LoadU(df, x);
    for (int64_t i = kN; i < kBlock; i += kN) vmax = hn::Max(vmax, hn::LoadU(df, x + i));
    m_new[h] = std::max(m[h], hn::GetLane(hn::MaxOfLanes(df, vmax)));
    diff[h] = m_new[h] > m[h] ? m[h] - m_new[h] : 0.0f;  // m = −inf (a chunk's start): exp gives 0, acc are 0
  }
  HWY_ALIGN float e[kN];
  hn::Store(hn::Exp(df, hn::Load(df, diff)), df, e);
  for (int h = 0; h < H; ++h) {
    float* x = sc + h * kBlock;
    alpha[h] = m_new[h] > m[h] ? e[h] : 1.0f;
    if (m_new[h] == kNegInf) {  // every score so far −inf: nothing to weigh yet (ends as zeros, like softmax())
      std::fill(x, x + kBlock, 0.0f);
      continue;
    }
    l[h] = l[h] * alpha[h] + hn::GetLane(hn::SumOfLanes(df, ExpShiftedSums(df, x, kBlock, m_new[h])));
    m[h] = m_new[h];
  }
}

template <int C, size_t... I>
HWY_INLINE void LoadScaled(VF* acc, float* const* dst, const float* alpha, std::index_sequence<I...>) {
  const DF df;
  ((acc[I] = hn::Mul(hn::LoadU(df, dst[I]), hn::Set(df, alpha[I / C]))), ...);
}

template <size_t... I>
HWY_INLINE void StoreTo(const VF* acc, float* const* dst, std::index_sequence<I...>) {
  ((hn::StoreU(acc[I], DF(), dst[I])), ...);
}

// For H heads and the C vectors c0 … c0 + C − 1 of the head: acc = alpha_h · acc + Σ_{j<nb} p[h·kBlock + j] ·
// v[j·stride + off_c …+kN], accumulators in registers between one load and one store. A full vector's accumulator
// is the output row itself (out + h·hd + c·kN); the overlapping last vector [hd − kN, hd) of a head whose size is
// not a multiple of kN keeps its own in tail + h·kN, since its lanes repeat the previous vector's.
template <int H, int C>
HWY_INLINE void AccumulatePiece(int64_t nb, int64_t hd, const uint16_t* v, int64_t stride, const float* p,
                                const float* alpha, int64_t c0, float* out, float* tail, Ahead ahead) {
  int64_t off[C];
  float* dst[H * C];
  for (int c = 0; c < C; ++c) {
    const bool full = (c0 + c + 1) * kN <= hd;
    off[c] = full ? (c0 + c) * kN : hd - kN;
    for (int h = 0; h < H; ++h) dst[h * C + c] = full ? out + h * hd + off[c] : tail + h * kN;
  }
  VF acc[H * C];
  LoadScaled<C>(acc, dst, alpha, std::make_index_sequence<H * C>());
  for (int64_t j = 0; j < nb; ++j) {
    WeightedRow<H, C>(v + j * stride, off, p + j, kBlock, acc, std::make_index_sequence<C>());
    ahead.Step();
  }
  StoreTo(acc, dst, std::make_index_sequence<H * C>());
}

// One block of nb positions (key and value rows starting at k and v) for H query heads of one KV head: scores,
// online softmax step, accumulation. m, l, out and tail are the heads' running state (H entries, rows, tails);
// the rows from k and v on are the `ahead` rows left in the cache (the next block's are prefetched).
template <int H>
void BlockHeads(int64_t nb, int64_t hd, const uint16_t* k, const uint16_t* v, int64_t stride, const float* q,
                const float* qlast, VF vscale, float* m, float* l, float* out, float* tail, const Ahead& ahead) {
  constexpr int P = kN / H;
  HWY_ALIGN float sc[H * kBlock];
  for (int64_t j = 0; j < nb; j += P) {
    ScoresTile<H>(hd, k + j * stride, stride, q, qlast, vscale, static_cast<int>(std::min<int64_t>(P, nb - j)), sc + j,
                  kBlock);
  }
  float alpha[H];
  OnlineStep<H>(sc, nb, m, l, alpha);
  Ahead skip = ahead;
  skip.per_call = 0;
  const int64_t chunks = (hd + kN - 1) / kN;
  for (int64_t c = 0; c < chunks;) {
    if (chunks - c >= 4 && H * 4 <= kAccBudget) {
      AccumulatePiece<H, 4>(nb, hd, v, stride, sc, alpha, c, out, tail, c == 0 ? ahead : skip);
      c += 4;
    } else if (chunks - c >= 2 && H * 2 <= kAccBudget) {
      AccumulatePiece<H, 2>(nb, hd, v, stride, sc, alpha, c, out, tail, c == 0 ? ahead : skip);
      c += 2;
    } else {
      AccumulatePiece<H, 1>(nb, hd, v, stride, sc, alpha, c, out, tail, c == 0 ? ahead : skip);
      c += 1;
    }
  }
}

// Running state of the query heads of one pass, and where a chunk's results go.
struct RunState {
  HWY_ALIGN float qlast[kMaxHeads * kN];
  HWY_ALIGN float tail[kMaxHeads * kN];
  float m[kMaxHeads], l[kMaxHeads];
};

// Ends a chunk of the run: its state becomes part_ml's pairs and the accumulator rows at acc are completed with the
// tails (partials), or the rows are normalized into their final values (a whole-context call, acc = out).
void FinishChunk(const DecodeAttnSlice& s, RunState& st, float* acc, float* ml) {
  const DF df;
  const int64_t hd = s.hd, heads = s.n_kv * s.g;
  for (int64_t h = 0; h < heads; ++h) {
    float* o = acc + h * hd;
    const float* t = st.tail + h * kN;
    if (ml != nullptr) {
      // The tail's lanes that overlap the last full vector hold the same sums: storing it whole is exact.
      if (hd % kN != 0) hn::StoreU(hn::LoadU(df, t), df, o + hd - kN);
      ml[2 * h] = st.m[h];
      ml[2 * h + 1] = st.l[h];
      continue;
    }
    // l = 0 only when every score was −inf: zeros, as softmax() gives such a row.
    const VF inv = hn::Set(df, st.l[h] > 0 ? 1.0f / st.l[h] : 0.0f);
    for (int64_t i = 0; i + kN <= hd; i += kN) hn::StoreU(hn::Mul(hn::LoadU(df, o + i), inv), df, o + i);
    if (hd % kN != 0) hn::StoreU(hn::Mul(hn::LoadU(df, t), inv), df, o + hd - kN);
  }
}

// DecodeAttnSlice for KV heads whose n_kv · g query heads fit kMaxHeads: one pass over the rows, the state reset at
// every chunk boundary.
void DecodeRun(const DecodeAttnSlice& s) {
  const int64_t hd = s.hd, g = s.g, heads = s.n_kv * s.g;
  const int64_t chunk = s.chunk > 0 ? s.chunk : s.n;
  RunState st;
  for (int64_t h = 0; h < heads; ++h) QueryTails<1>(s.q + h * hd, hd, st.qlast + h * kN);
  const VF vscale = hn::Set(DF(), s.scale);
  // The rows before the prefetch stream's start are requested at once: nothing else could run meanwhile.
  for (int64_t r = 0; r < std::min(s.n, kAheadRows); ++r) {
    for (int64_t b = 0; b < s.n_kv * hd * 2; b += 64) {
      hwy::Prefetch(reinterpret_cast<const char*>(s.k + r * s.stride) + b);
      hwy::Prefetch(reinterpret_cast<const char*>(s.v + r * s.stride) + b);
    }
  }
  // Lines of one K row; each KV head's value rows request per_call of them per row (kBlock rows per block).
  const int64_t row_lines = (s.stride * 2 + 63) / 64, per_call = (row_lines + s.n_kv - 1) / s.n_kv;
  const char* k_end = reinterpret_cast<const char*>(s.k + s.n * s.stride);
  const int64_t v_minus_k = reinterpret_cast<const char*>(s.v) - reinterpret_cast<const char*>(s.k);
  for (int64_t j0 = 0, ci = 0; j0 < s.n; j0 += chunk, ++ci) {
    float* acc = s.chunk > 0 ? s.part_acc + ci * s.part_stride : s.out;
    std::fill(st.tail, st.tail + heads * kN, 0.0f);
    std::fill(st.m, st.m + heads, -std::numeric_limits<float>::infinity());
    std::fill(st.l, st.l + heads, 0.0f);
    std::fill(acc, acc + heads * hd, 0.0f);
    const int64_t j1 = std::min(s.n, j0 + chunk);
    for (int64_t j = j0; j < j1; j += kBlock) {
      const int64_t nb = std::min(kBlock, j1 - j);
      const uint16_t* kb = s.k + j * s.stride;
      const uint16_t* vb = s.v + j * s.stride;
      // The prefetch stream runs on past the chunk: the next chunk of the call continues from these rows.
      const char* seg0 = reinterpret_cast<const char*>(kb + kAheadRows * s.stride);
      const Ahead skip{seg0, seg0, v_minus_k, 0};
      for (int64_t c = 0; c < s.n_kv; ++c) {
        const char* from = seg0 + c * kBlock * per_call * 64;
        const Ahead ahead{from, std::min(k_end, from + kBlock * per_call * 64), v_minus_k, per_call};
        // Query heads of this KV head in blocks of 4, 2, 1 (qlast of a block: its heads' tails, kN apart).
        for (int64_t h = c * g; h < (c + 1) * g;) {
          const int64_t left = (c + 1) * g - h;
          const uint16_t* kc = kb + c * hd;
          const uint16_t* vc = vb + c * hd;
          float* oh = acc + h * hd;
          const Ahead& a = h == c * g ? ahead : skip;
          if (left >= 4) {
            BlockHeads<4>(nb, hd, kc, vc, s.stride, s.q + h * hd, st.qlast + h * kN, vscale, st.m + h, st.l + h, oh,
                          st.tail + h * kN, a);
            h += 4;
          } else if (left >= 2) {
            BlockHeads<2>(nb, hd, kc, vc, s.stride, s.q + h * hd, st.qlast + h * kN, vscale, st.m + h, st.l + h, oh,
                          st.tail + h * kN, a);
            h += 2;
          } else {
            BlockHeads<1>(nb, hd, kc, vc, s.stride, s.q + h * hd, st.qlast + h * kN, vscale, st.m + h, st.l + h, oh,
                          st.tail + h * kN, a);
            h += 1;
          }
        }
      }
    }
    FinishChunk(s, st, acc, s.chunk > 0 ? s.part_ml + ci * s.part_stride : nullptr);
  }
}
#endif  // fixed-width target

bool DecodeAttentionF16(const DecodeAttnSlice& s) {
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
  if (s.hd < kN || s.g > kMaxHeads) return false;
  // Runs of KV heads whose query heads fit the running state; the 1B shape's 32 heads take one pass.
  const int64_t per_pass = std::max<int64_t>(1, kMaxHeads / s.g);
  for (int64_t c = 0; c < s.n_kv; c += per_pass) {
    DecodeAttnSlice r = s;
    r.n_kv = std::min(per_pass, s.n_kv - c);
    r.k = s.k + c * s.hd;
    r.v = s.v + c * s.hd;
    r.q = s.q + c * s.g * s.hd;
    r.out = s.out + c * s.g * s.hd;
    if (s.chunk > 0) {
      r.part_acc = s.part_acc + c * s.g * s.hd;
      r.part_ml = s.part_ml + 2 * c * s.g;
    }
    DecodeRun(r);
  }
  return true;
#else
  (void)s;
  return false;
#endif
}

void DecodeMergeF16(const DecodeAttnSlice& s, int64_t h0, int64_t h1) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d)), hd = s.hd, vec_end = hd / lanes * lanes;
  const int64_t parts = (s.n + s.chunk - 1) / s.chunk;
  // Chunk weights per batch, a multiple of every target's lane count (at most 64: SVE's 2048-bit vectors).
  constexpr int64_t kW = 64;
  HWY_ALIGN float w[kW];
  for (int64_t h = h0; h < h1; ++h) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < parts; ++i) mx = std::max(mx, s.part_ml[i * s.part_stride + 2 * h]);
    float* o = s.out + h * hd;
    if (mx == -std::numeric_limits<float>::infinity()) {  // every score −inf: zeros, as softmax() gives
      std::fill(o, o + hd, 0.0f);
      continue;
    }
    float l = 0;
    for (int64_t i0 = 0; i0 < parts; i0 += kW) {
      // w = exp(m_i − mx): 0 for a chunk whose scores were all −inf (its rows are 0 too); one vector exp per batch.
      const int64_t nw = std::min(kW, parts - i0);
      for (int64_t i = 0; i < kW; ++i) {
        w[i] = i < nw ? s.part_ml[(i0 + i) * s.part_stride + 2 * h] : -std::numeric_limits<float>::infinity();
      }
      for (int64_t i = 0; i < nw; i += lanes) {
        hn::Store(hn::Exp(d, hn::Sub(hn::Load(d, w + i), hn::Set(d, mx))), d, w + i);
      }
      for (int64_t i = i0; i < i0 + nw; ++i) {
        const float* a = s.part_acc + i * s.part_stride + h * hd;
        const float wi = w[i - i0];
        l += wi * s.part_ml[i * s.part_stride + 2 * h + 1];
        const auto vw = hn::Set(d, wi);
        for (int64_t x = 0; x < vec_end; x += lanes) {
          const auto t = hn::LoadU(d, a + x);
          hn::StoreU(i == 0 ? hn::Mul(t, vw) : hn::MulAdd(t, vw, hn::LoadU(d, o + x)), d, o + x);
        }
        for (int64_t x = vec_end; x < hd; ++x) o[x] = i == 0 ? a[x] * wi : o[x] + a[x] * wi;
      }
    }
    const float inv = 1.0f / l;  // l ≥ ~1: the chunk holding the largest score adds exp(0) times its sum (≥ ~1)
    const auto vinv = hn::Set(d, inv);
    for (int64_t x = 0; x < vec_end; x += lanes) hn::StoreU(hn::Mul(hn::LoadU(d, o + x), vinv), d, o + x);
    for (int64_t x = vec_end; x < hd; ++x) o[x] *= inv;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(DecodeAttentionF16);

bool (*decode_attention_for_chosen_target())(const DecodeAttnSlice&) {
  return &HWY_DYNAMIC_DISPATCH(DecodeAttentionF16);
}

HWY_EXPORT(DecodeMergeF16);

void (*decode_merge_for_chosen_target())(const DecodeAttnSlice&, int64_t, int64_t) {
  return &HWY_DYNAMIC_DISPATCH(DecodeMergeF16);
}

}  // namespace edgellm
#endif  // HWY_ONCE
