// Decode attention over the F16 KV cache with the positions in the outer loop (ops_simd.h F16OpKernels::decode).
// The per-KV-head kernels of ops_simd.cc read one head's 128 bytes of every 1 KB cache row (Llama-3.2-1B shape) in
// 8 strided passes over K and 8 over V per layer, which ran at ~15 GB/s even with software prefetch. Here a block
// of kBlock positions is finished for every KV head of the run before the next block starts, so K and V are each
// read front to back once per layer (a thread of a 2-way split reads its half of every row: 512-byte runs), and the
// rows two blocks ahead are prefetched a few lines at a time. The softmax runs online (flash-decoding style): per
// block a new running max per query head rescales its sum and its accumulators, which live in the output rows
// (L1), so no scores are stored.
// 1B shape, bench/attention_bench.cc, same process, quiet machine (per token, 16 layers; old = per-KV-head path):
//   one thread   ctx 128 0.33 -> 0.39 ms, 512 1.08 -> 0.97, 640 1.35 -> 1.05 (19 GB/s), 2048 4.2 -> 3.0,
//                8192 16.7 -> 12.6 (20 GB/s; the stream read runs at 44 GB/s);
//   from L2      ctx 256 0.27 -> 0.33 ms: per block the max, the rescale and the accumulator reloads cost more
//                arithmetic than the old path's stored scores, which is what bounds 2 threads:
//   two threads  ctx 128 0.18 -> 0.23 ms, 640 0.72 -> 0.76, 2048 2.24 -> 2.2, 8192 9.4 -> 8.4.
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
constexpr int64_t kBlock = 32;
// Query heads one pass keeps running sums for (more are done in further passes over the cache).
constexpr int64_t kMaxHeads = 128;
// How many blocks ahead the rows are prefetched.
constexpr int64_t kAheadBlocks = 2;

// Software prefetch of the rows kAheadBlocks blocks ahead, spread over the value rows of the current block in row
// order: the run's part of those rows is a sequence of lines (run_lines per row), KV head c's value rows request
// lines c·kBlock·per_call … onwards, per_call = ⌈run_lines / n_kv⌉ of K and as many of V per row. (A burst of a
// whole block's 1024 prefetches at its start stalled the core until they had landed: 2.3 ms per token at context
// 640 against 1.4 for the per-KV-head kernels; without any prefetch, 3.2 ms; column order, each KV head's own
// slice of the rows: no better than the per-KV-head kernels.)
struct Ahead {
  const char* k;  // the current block's first row of the run
  const char* v;
  int64_t stride;     // bytes from row to row
  int64_t rows;       // rows left in the cache from the current block on
  int64_t run_lines;  // 64-byte lines of a row's run
  int64_t per_call;   // lines per Step(), 0 to skip (later head blocks and pieces of a KV head)
  int64_t row, col;   // the next line to request: row (from the current block's first), line in the run

  HWY_INLINE void Step() {
    for (int64_t t = 0; t < per_call && row < rows; ++t) {
      hwy::Prefetch(k + row * stride + col * 64);
      hwy::Prefetch(v + row * stride + col * 64);
      if (++col == run_lines) {
        col = 0;
        ++row;
      }
    }
  }
};

// Online softmax step of one query head over its block scores sc[0 … nb) (kBlock floats of room): m (running max)
// and l (running sum of exp(s − m)) move to the new max; sc becomes exp(s − m), 0 past nb. Returns the factor the
// head's accumulators must be multiplied by before this block's terms are added (1 when the max did not change).
HWY_INLINE float OnlineStep(float* sc, int64_t nb, float& m, float& l) {
  const DF df;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  std::fill(sc + nb, sc + kBlock, kNegInf);  // hn::Exp gives exactly 0 below its range, −inf included
  VF vmax = hn::LoadU(df, sc);
  for (int64_t i = kN; i < kBlock; i += kN) vmax = hn::Max(vmax, hn::LoadU(df, sc + i));
  const float m_new = std::max(m, hn::GetLane(hn::MaxOfLanes(df, vmax)));
  if (m_new == kNegInf) {  // every score so far −inf: nothing to weigh yet (ends as zeros, like softmax())
    std::fill(sc, sc + kBlock, 0.0f);
    return 1.0f;
  }
  const float alpha = m_new > m ? std::exp(m - m_new) : 1.0f;  // m = −inf at the start: 0, accumulators are 0
  l = l * alpha + hn::GetLane(hn::SumOfLanes(df, ExpShiftedSums(df, sc, kBlock, m_new)));
  m = m_new;
  return alpha;
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
  for (int h = 0; h < H; ++h) alpha[h] = OnlineStep(sc + h * kBlock, nb, m[h], l[h]);
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

// DecodeAttnSlice for KV heads whose n_kv · g query heads fit kMaxHeads: one pass over the rows.
void DecodeRun(const DecodeAttnSlice& s) {
  const int64_t hd = s.hd, g = s.g, heads = s.n_kv * s.g;
  HWY_ALIGN float qlast[kMaxHeads * kN];
  HWY_ALIGN float tail[kMaxHeads * kN];
  float m[kMaxHeads], l[kMaxHeads];
  for (int64_t h = 0; h < heads; ++h) QueryTails<1>(s.q + h * hd, hd, qlast + h * kN);
  std::fill(tail, tail + heads * kN, 0.0f);
  std::fill(m, m + heads, -std::numeric_limits<float>::infinity());
  std::fill(l, l + heads, 0.0f);
  std::fill(s.out, s.out + heads * hd, 0.0f);
  const VF vscale = hn::Set(DF(), s.scale);
  // The rows before the prefetch stream's start are requested at once: nothing else could run meanwhile.
  for (int64_t r = 0; r < std::min(s.n, kAheadBlocks * kBlock); ++r) {
    for (int64_t b = 0; b < s.n_kv * hd * 2; b += 64) {
      hwy::Prefetch(reinterpret_cast<const char*>(s.k + r * s.stride) + b);
      hwy::Prefetch(reinterpret_cast<const char*>(s.v + r * s.stride) + b);
    }
  }
  for (int64_t j = 0; j < s.n; j += kBlock) {
    const int64_t nb = std::min(kBlock, s.n - j);
    const uint16_t* kb = s.k + j * s.stride;
    const uint16_t* vb = s.v + j * s.stride;
    const int64_t run_lines = (s.n_kv * hd * 2 + 63) / 64, per_call = (run_lines + s.n_kv - 1) / s.n_kv;
    Ahead skip{reinterpret_cast<const char*>(kb),
               reinterpret_cast<const char*>(vb),
               s.stride * 2,
               s.n - j,
               run_lines,
               0,
               0,
               0};
    for (int64_t c = 0; c < s.n_kv; ++c) {
      Ahead ahead = skip;
      const int64_t line0 = c * kBlock * per_call;
      ahead.per_call = per_call;
      ahead.row = kAheadBlocks * kBlock + line0 / run_lines;
      ahead.col = line0 % run_lines;
      // Query heads of this KV head in blocks of 4, 2, 1 (qlast of a block: its heads' tails, kN apart).
      for (int64_t h = c * g; h < (c + 1) * g;) {
        const int64_t left = (c + 1) * g - h;
        const uint16_t* kc = kb + c * hd;
        const uint16_t* vc = vb + c * hd;
        float* oh = s.out + h * hd;
        if (left >= 4) {
          BlockHeads<4>(nb, hd, kc, vc, s.stride, s.q + h * hd, qlast + h * kN, vscale, m + h, l + h, oh, tail + h * kN,
                        h == c * g ? ahead : skip);
          h += 4;
        } else if (left >= 2) {
          BlockHeads<2>(nb, hd, kc, vc, s.stride, s.q + h * hd, qlast + h * kN, vscale, m + h, l + h, oh, tail + h * kN,
                        h == c * g ? ahead : skip);
          h += 2;
        } else {
          BlockHeads<1>(nb, hd, kc, vc, s.stride, s.q + h * hd, qlast + h * kN, vscale, m + h, l + h, oh, tail + h * kN,
                        h == c * g ? ahead : skip);
          h += 1;
        }
      }
    }
  }
  const DF df;
  for (int64_t h = 0; h < heads; ++h) {
    float* o = s.out + h * hd;
    // l = 0 only when every score was −inf: zeros, as softmax() gives such a row.
    const VF inv = hn::Set(df, l[h] > 0 ? 1.0f / l[h] : 0.0f);
    for (int64_t i = 0; i + kN <= hd; i += kN) hn::StoreU(hn::Mul(hn::LoadU(df, o + i), inv), df, o + i);
    if (hd % kN != 0) {
      hn::StoreU(hn::Mul(hn::LoadU(df, tail + h * kN), inv), df, o + hd - kN);
    }
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
    DecodeRun(r);
  }
  return true;
#else
  (void)s;
  return false;
#endif
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

}  // namespace edgellm
#endif  // HWY_ONCE
