// Highway kernels for kernels/ops_simd.h: F16 rows are widened with the target's conversion instruction
// (F16C on AVX2/AVX3) so attention over the KV cache does not pay for software half conversion. The attention
// scores are vectorized across positions (a transpose-reduce per block instead of a horizontal sum per position
// and head) and the values are read in one pass for up to 4 query heads; both prefetch the strided cache rows.
// 1B shape, context 640, one thread (bench/attention_bench.cc): 3.8-4.1 ms -> 1.3-1.4 ms per token from DRAM,
// 0.45 -> 0.22 ms at context 256 from L2. Decode (one token) now runs attention_decode.cc's positions-outer kernel;
// these serve prefill and the targets and head sizes it declines. The tile building blocks both use are in
// attention_tiles-inl.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/ops_simd.cc"
#include "kernels/ops_simd.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// After highway.h: per-target like this file.
#include <hwy/cache_control.h>
#include <hwy/contrib/math/math-inl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/fp16.h"
// After highway.h, per target like this file.
#include "kernels/attention_tiles-inl.h"

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float DotF16F32(int64_t n, const uint16_t* k, const float* q) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const auto* kh = reinterpret_cast<const hwy::float16_t*>(k);
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    acc0 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, kh + i)), hn::LoadU(df, q + i), acc0);
    acc1 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, kh + i + N)), hn::LoadU(df, q + i + N), acc1);
  }
  for (; i + N <= n; i += N) acc0 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, kh + i)), hn::LoadU(df, q + i), acc0);
  float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(acc0, acc1)));
  for (; i < n; ++i) sum += fp16_to_fp32(k[i]) * q[i];
  return sum;
}

void AxpyF16(int64_t n, float a, const uint16_t* v, float* y) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const auto* vh = reinterpret_cast<const hwy::float16_t*>(v);
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto va = hn::Set(df, a);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::MulAdd(va, hn::PromoteTo(df, hn::LoadU(dh, vh + i)), hn::LoadU(df, y + i)), df, y + i);
  }
  for (; i < n; ++i) y[i] += a * fp16_to_fp32(v[i]);
}

// Grouped-query attention reads each cached key and value row once for all g query heads that share it (the cache
// does not fit in L2 at long contexts, so reading it once per query head cost 4x the memory traffic for Llama 3's
// 4-head groups). Query heads are handled in blocks of up to 4 (accumulators stay in registers).
constexpr int kHeadBlock = 4;

// scores[h·n + j] = scale · Σ_i k[j·stride + i]·q[h·hd + i] for j < n, h < g: one position at a time, a horizontal
// sum per (position, head). The path of scalable targets (SVE) and of head sizes below one vector; the baseline of
// bench/attention_bench.cc.
void ScoresF16Rowwise(int64_t n, int64_t hd, const uint16_t* k, int64_t stride, const float* q, int64_t g, float scale,
                      float* scores) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df)), full = hd / N * N;
  for (int64_t h0 = 0; h0 < g; h0 += kHeadBlock) {
    const int64_t nh = std::min<int64_t>(kHeadBlock, g - h0);
    const float* qb = q + h0 * hd;
    float* sb = scores + h0 * n;
    for (int64_t j = 0; j < n; ++j) {
      const uint16_t* kr = k + j * stride;
      const auto* kh = reinterpret_cast<const hwy::float16_t*>(kr);
      auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
      for (int64_t i = 0; i < full; i += N) {
        const auto kv = hn::PromoteTo(df, hn::LoadU(dh, kh + i));
        a0 = hn::MulAdd(kv, hn::LoadU(df, qb + i), a0);
        if (nh > 1) a1 = hn::MulAdd(kv, hn::LoadU(df, qb + hd + i), a1);
        if (nh > 2) a2 = hn::MulAdd(kv, hn::LoadU(df, qb + 2 * hd + i), a2);
        if (nh > 3) a3 = hn::MulAdd(kv, hn::LoadU(df, qb + 3 * hd + i), a3);
      }
      float s[kHeadBlock] = {hn::GetLane(hn::SumOfLanes(df, a0)), 0, 0, 0};
      if (nh > 1) s[1] = hn::GetLane(hn::SumOfLanes(df, a1));
      if (nh > 2) s[2] = hn::GetLane(hn::SumOfLanes(df, a2));
      if (nh > 3) s[3] = hn::GetLane(hn::SumOfLanes(df, a3));
      for (int64_t i = full; i < hd; ++i) {
        const float kf = fp16_to_fp32(kr[i]);
        for (int64_t h = 0; h < nh; ++h) s[h] += kf * qb[h * hd + i];
      }
      for (int64_t h = 0; h < nh; ++h) sb[h * n + j] = s[h] * scale;
    }
  }
}

// out[h·hd + i] = Σ_j p[h·n + j]·v[j·stride + i] for i < hd, h < g (out is overwritten): one vector of the head
// at a time over all positions (each value row is visited hd / N times). Fallback and baseline like ScoresF16Rowwise.
void WeightedSumF16Rowwise(int64_t n, int64_t hd, const uint16_t* v, int64_t stride, const float* p, int64_t g,
                           float* out) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df)), full = hd / N * N;
  for (int64_t h0 = 0; h0 < g; h0 += kHeadBlock) {
    const int64_t nh = std::min<int64_t>(kHeadBlock, g - h0);
    const float* pb = p + h0 * n;
    float* ob = out + h0 * hd;
    for (int64_t i = 0; i < full; i += N) {
      auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
      for (int64_t j = 0; j < n; ++j) {
        const auto vv = hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(v + j * stride + i)));
        a0 = hn::MulAdd(hn::Set(df, pb[j]), vv, a0);
        if (nh > 1) a1 = hn::MulAdd(hn::Set(df, pb[n + j]), vv, a1);
        if (nh > 2) a2 = hn::MulAdd(hn::Set(df, pb[2 * n + j]), vv, a2);
        if (nh > 3) a3 = hn::MulAdd(hn::Set(df, pb[3 * n + j]), vv, a3);
      }
      hn::StoreU(a0, df, ob + i);
      if (nh > 1) hn::StoreU(a1, df, ob + hd + i);
      if (nh > 2) hn::StoreU(a2, df, ob + 2 * hd + i);
      if (nh > 3) hn::StoreU(a3, df, ob + 3 * hd + i);
    }
    for (int64_t i = full; i < hd; ++i) {
      for (int64_t h = 0; h < nh; ++h) {
        float acc = 0;
        for (int64_t j = 0; j < n; ++j) acc += pb[h * n + j] * fp16_to_fp32(v[j * stride + i]);
        ob[h * hd + i] = acc;
      }
    }
  }
}

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
using namespace attn_tiles;  // NOLINT(google-build-using-namespace): this file's half of the tile kernels

// Software prefetch distance into the cache, in positions: rows of one KV head are stride apart (1 KB for the 1B
// shape), a pattern the hardware prefetchers follow poorly; 32 rows ahead measured 3.9 -> 1.3-1.5 ms per token at
// context 640 (8 and 16 rows: 2.0 and 1.6 ms; 64: no better), bench/attention_bench.cc.
constexpr int64_t kPrefetchRows = 32;

// Prefetches the hd halves of row `row` of a KV head (lines of 64 bytes) if it exists.
HWY_INLINE void PrefetchRow(const uint16_t* base, int64_t row, int64_t n, int64_t stride, int64_t hd) {
  if (row >= n) return;
  const char* p = reinterpret_cast<const char*>(base + row * stride);
  for (int64_t b = 0; b < hd * 2; b += 64) hwy::Prefetch(p + b);
}

template <int H>
void ScoresHeads(int64_t n, int64_t hd, const uint16_t* k, int64_t stride, const float* q, float scale, float* sc) {
  constexpr int P = kN / H;
  HWY_ALIGN float qlast[H * kN];
  QueryTails<H>(q, hd, qlast);
  const VF vscale = hn::Set(DF(), scale);
  for (int64_t j = 0; j < n; j += P) {
    ScoresTile<H>(hd, k + j * stride, stride, q, qlast, vscale, static_cast<int>(std::min<int64_t>(P, n - j)), sc + j,
                  n);
    for (int p = 0; p < P; ++p) PrefetchRow(k, j + kPrefetchRows + p, n, stride, hd);
  }
}

template <int C, size_t... I>
HWY_INLINE void StoreAll(const VF* acc, float* out, const int64_t* off, int64_t hd, std::index_sequence<I...>) {
  ((hn::StoreU(acc[I], DF(), out + static_cast<int64_t>(I / C) * hd + off[I % C])), ...);
}

// out[h·hd + off_c + i] = Σ_j p[h·n + j] · v[j·stride + off_c + i] for the C vectors c0 … c0 + C − 1 of the head
// (off_c = min(c·kN, hd − kN): the last one overlaps its neighbour and rewrites the same sums), H heads, one pass
// over the value rows with all H·C accumulators in registers.
template <int H, int C>
void WeightedPiece(int64_t n, int64_t hd, const uint16_t* v, int64_t stride, const float* p, int64_t c0, float* out) {
  int64_t off[C];
  for (int c = 0; c < C; ++c) off[c] = std::min<int64_t>((c0 + c) * kN, hd - kN);
  VF acc[H * C];
  ZeroAll(acc, std::make_index_sequence<H * C>());
  for (int64_t j = 0; j < n; ++j) {
    if (c0 == 0) PrefetchRow(v, j + kPrefetchRows, n, stride, hd);  // later pieces find the rows in L2
    WeightedRow<H, C>(v + j * stride, off, p + j, n, acc, std::make_index_sequence<C>());
  }
  StoreAll<C>(acc, out, off, hd, std::make_index_sequence<H * C>());
}

template <int H>
void WeightedHeads(int64_t n, int64_t hd, const uint16_t* v, int64_t stride, const float* p, float* out) {
  const int64_t chunks = (hd + kN - 1) / kN;
  for (int64_t c = 0; c < chunks;) {
    if (chunks - c >= 4 && H * 4 <= kAccBudget) {
      WeightedPiece<H, 4>(n, hd, v, stride, p, c, out);
      c += 4;
    } else if (chunks - c >= 2 && H * 2 <= kAccBudget) {
      WeightedPiece<H, 2>(n, hd, v, stride, p, c, out);
      c += 2;
    } else {
      WeightedPiece<H, 1>(n, hd, v, stride, p, c, out);
      c += 1;
    }
  }
}
#endif  // fixed-width target

// ScoresF16Rowwise's contract, vectorized across positions: blocks of kN / H positions × H heads (H = 4, 2 or 1)
// fill kN accumulators that one transpose-reduce turns into kN scores.
void ScoresF16(int64_t n, int64_t hd, const uint16_t* k, int64_t stride, const float* q, int64_t g, float scale,
               float* scores) {
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
  if (hd >= kN) {
    for (int64_t h = 0; h < g;) {
      const int64_t left = g - h;
      const float* qh = q + h * hd;
      float* sh = scores + h * n;
      if (left >= 4) {
        ScoresHeads<4>(n, hd, k, stride, qh, scale, sh);
        h += 4;
      } else if (left >= 2) {
        ScoresHeads<2>(n, hd, k, stride, qh, scale, sh);
        h += 2;
      } else {
        ScoresHeads<1>(n, hd, k, stride, qh, scale, sh);
        h += 1;
      }
    }
    return;
  }
#endif
  ScoresF16Rowwise(n, hd, k, stride, q, g, scale, scores);
}

// WeightedSumF16Rowwise's contract with positions in the outer loop: each value row is read once per block of up
// to 4 heads and converted once per vector for all of them.
void WeightedSumF16(int64_t n, int64_t hd, const uint16_t* v, int64_t stride, const float* p, int64_t g, float* out) {
#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
  if (hd >= kN) {
    for (int64_t h = 0; h < g;) {
      const int64_t left = g - h;
      if (left >= 4) {
        WeightedHeads<4>(n, hd, v, stride, p + h * n, out + h * hd);
        h += 4;
      } else if (left >= 2) {
        WeightedHeads<2>(n, hd, v, stride, p + h * n, out + h * hd);
        h += 2;
      } else {
        WeightedHeads<1>(n, hd, v, stride, p + h * n, out + h * hd);
        h += 1;
      }
    }
    return;
  }
#endif
  WeightedSumF16Rowwise(n, hd, v, stride, p, g, out);
}

// x = softmax(x) in place, with Highway's vector exp (max error 1 ULP, hwy/contrib/math): the attention
// softmax runs n_head × context exps per layer and token, which scalar expf made ~10 % of decode at 512 tokens.
void SoftmaxF32(float* x, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df)), full = n / N * N;
  auto vmax = hn::Set(df, -std::numeric_limits<float>::infinity());
  for (int64_t i = 0; i < full; i += N) vmax = hn::Max(vmax, hn::LoadU(df, x + i));
  float mx = hn::GetLane(hn::MaxOfLanes(df, vmax));
  for (int64_t i = full; i < n; ++i) mx = std::max(mx, x[i]);
  if (mx == -std::numeric_limits<float>::infinity()) {
    std::fill(x, x + n, 0.0f);  // every entry masked: a uniform zero row is the safe answer
    return;
  }
  float sum = hn::GetLane(hn::SumOfLanes(df, ExpShiftedSums(df, x, full, mx)));
  for (int64_t i = full; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  const auto inv = hn::Set(df, 1.0f / sum);
  for (int64_t i = 0; i < full; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, x + i), inv), df, x + i);
  for (int64_t i = full; i < n; ++i) x[i] *= 1.0f / sum;
}

// The target this file's dispatch currently runs (tests force each one in turn).
int64_t F16OpsTarget() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(DotF16F32);
HWY_EXPORT(AxpyF16);
HWY_EXPORT(ScoresF16);
HWY_EXPORT(WeightedSumF16);
HWY_EXPORT(ScoresF16Rowwise);
HWY_EXPORT(WeightedSumF16Rowwise);
HWY_EXPORT(SoftmaxF32);
HWY_EXPORT(F16OpsTarget);

F16OpKernels f16_op_kernels_for_chosen_target() {
  return F16OpKernels{&HWY_DYNAMIC_DISPATCH(DotF16F32),  &HWY_DYNAMIC_DISPATCH(AxpyF16),
                      &HWY_DYNAMIC_DISPATCH(ScoresF16),  &HWY_DYNAMIC_DISPATCH(WeightedSumF16),
                      &HWY_DYNAMIC_DISPATCH(SoftmaxF32), decode_attention_for_chosen_target(),
                      decode_merge_for_chosen_target()};
}

F16OpKernels f16_op_kernels_rowwise() {
  F16OpKernels k = f16_op_kernels_for_chosen_target();
  k.scores = &HWY_DYNAMIC_DISPATCH(ScoresF16Rowwise);
  k.weighted_sum = &HWY_DYNAMIC_DISPATCH(WeightedSumF16Rowwise);
  return k;
}

int64_t f16_ops_dispatched_target() { return HWY_DYNAMIC_DISPATCH(F16OpsTarget)(); }

const F16OpKernels& f16_op_kernels() {
  static const F16OpKernels k = [] {
    // The dispatch tables start out pointing at a target-choosing trampoline; choose before taking pointers.
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
    return f16_op_kernels_for_chosen_target();
  }();
  return k;
}

}  // namespace edgellm
#endif  // HWY_ONCE
