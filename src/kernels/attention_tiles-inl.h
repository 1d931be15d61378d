// Per-target building blocks of the attention kernels over the F16 KV cache, shared by ops_simd.cc (one KV head
// at a time, the prefill path) and attention_decode.cc (positions outer, online softmax, the decode path). Included
// inside each file's foreach_target pass (after hwy/highway.h), hence the toggle guard instead of #pragma once.
// Only for fixed-width targets (x86, NEON, EMU128): the lane count is a compile-time constant, so vectors can sit in
// small arrays. Every index into them is a template constant (fold expressions over index_sequence, no loops): GCC
// keeps such arrays in registers, but spills them to the stack around any loop that indexes them, even an unrolled
// one.
#if defined(EDGELLM_KERNELS_ATTENTION_TILES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELLM_KERNELS_ATTENTION_TILES_INL_H_
#undef EDGELLM_KERNELS_ATTENTION_TILES_INL_H_
#else
#define EDGELLM_KERNELS_ATTENTION_TILES_INL_H_
#endif

#include <hwy/highway.h>
// After highway.h: per-target like this file.
#include <hwy/contrib/math/math-inl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {

// x[i] = exp(x[i] − mx) for i < n (n a multiple of d's lane count), with Highway's vector exp; returns the vector
// of partial sums. The softmax numerators of SoftmaxF32 and of the decode kernel's online step.
template <class D>
HWY_INLINE hwy::HWY_NAMESPACE::VFromD<D> ExpShiftedSums(D d, float* x, int64_t n, float mx) {
  namespace hn = hwy::HWY_NAMESPACE;
  const auto vm = hn::Set(d, mx);
  auto vsum = hn::Zero(d);
  for (int64_t i = 0; i < n; i += static_cast<int64_t>(hn::Lanes(d))) {
    const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, x + i), vm));
    hn::StoreU(e, d, x + i);
    vsum = hn::Add(vsum, e);
  }
  return vsum;
}

#if !HWY_HAVE_SCALABLE && HWY_TARGET != HWY_SCALAR
namespace attn_tiles {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::VFromD<DF>;
constexpr int kN = static_cast<int>(hn::MaxLanes(DF()));
// Accumulator vectors a kernel may keep live: 32 architectural registers on AVX-512 and NEON, 16 elsewhere.
constexpr int kAccBudget = (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || HWY_TARGET == HWY_NEON) ? 16 : 8;

template <size_t... I>
HWY_INLINE void ZeroAll(VF* v, std::index_sequence<I...>) {
  ((v[I] = hn::Zero(DF())), ...);
}

// One level of the transpose-reduce: v[i] = even lanes + odd lanes of (v[2i], v[2i+1]), vector 2i's pair sums in
// the lower half and 2i+1's in the upper one, so the order of the inputs survives every level.
template <size_t... I>
HWY_INLINE void PairSums(VF* v, std::index_sequence<I...>) {
  const DF d;
  ((v[I] = hn::Add(hn::ConcatEven(d, v[2 * I + 1], v[2 * I]), hn::ConcatOdd(d, v[2 * I + 1], v[2 * I]))), ...);
}

// Transpose-reduce of W vectors: afterwards lane l of v[0] is the sum of all lanes of the old v[l] (W = kN).
// log2(kN) levels, kN − 1 pair steps of 3 instructions: ~3 per sum instead of ~10 for a SumOfLanes each.
template <int W>
HWY_INLINE void ReduceTransposed(VF* v) {
  if constexpr (W > 1) {
    PairSums(v, std::make_index_sequence<W / 2>());
    ReduceTransposed<W / 2>(v);
  }
}

// acc[h·P] += kv · q_h for heads h < H (query vectors qstride floats apart).
template <int P, size_t... H>
HWY_INLINE void FmaHeads(VF kv, const float* q, int64_t qstride, VF* acc, std::index_sequence<H...>) {
  const DF df;
  ((acc[H * P] = hn::MulAdd(kv, hn::LoadU(df, q + H * qstride), acc[H * P])), ...);
}

// For positions p < P: acc[h·P + p] += k[min(p, last)·stride + off …+kN] · q_h. Positions past `last` (the tail
// of the context) repeat the last row, so every load stays inside the cache; their sums are never stored.
template <int H, size_t... P>
HWY_INLINE void ScoresChunk(const uint16_t* k, int64_t stride, int64_t last, int64_t off, const float* q,
                            int64_t qstride, VF* acc, std::index_sequence<P...>) {
  const DF df;
  const hn::Rebind<hwy::float16_t, DF> dh;
  constexpr int kP = kN / H;
  (FmaHeads<kP>(hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(
                                                    k + std::min<int64_t>(P, last) * stride + off))),
                q, qstride, acc + P, std::make_index_sequence<H>()),
   ...);
}

// qlast[h·kN + l] = q[h·hd + hd − kN + l] for the lanes the head's full vectors do not cover, else 0: the query
// side of the one overlapping vector [hd − kN, hd) that finishes a head whose size is not a multiple of kN.
template <int H>
HWY_INLINE void QueryTails(const float* q, int64_t hd, float* qlast) {
  const int64_t full = hd / kN * kN;
  for (int h = 0; h < H; ++h) {
    for (int l = 0; l < kN; ++l) qlast[h * kN + l] = hd - kN + l >= full ? q[h * hd + hd - kN + l] : 0.0f;
  }
}

// Scores of the np ≤ kN / H positions whose key rows start at k (stride halves apart) for H heads (queries hd
// apart, qlast from QueryTails), scaled, stored to sc[h·ld + p]. hd ≥ kN.
template <int H>
HWY_INLINE void ScoresTile(int64_t hd, const uint16_t* k, int64_t stride, const float* q, const float* qlast, VF vscale,
                           int np, float* sc, int64_t ld) {
  constexpr int P = kN / H;
  const DF df;
  VF acc[kN];
  ZeroAll(acc, std::make_index_sequence<kN>());
  // One loop for the full vectors and the overlapping last one (a branch after it also cost a spill).
  for (int64_t i = 0; i < hd; i += kN) {
    const bool full = i + kN <= hd;
    ScoresChunk<H>(k, stride, np - 1, full ? i : hd - kN, full ? q + i : qlast, full ? hd : kN, acc,
                   std::make_index_sequence<P>());
  }
  ReduceTransposed<kN>(acc);
  const VF r = hn::Mul(acc[0], vscale);
  if (H == 1 && np == P) {
    hn::StoreU(r, df, sc);
    return;
  }
  HWY_ALIGN float t[kN];
  hn::Store(r, df, t);
  if (np == P) {  // a constant size: one small vector move per head instead of a copy loop
    for (int h = 0; h < H; ++h) std::memcpy(sc + h * ld, t + h * P, sizeof(float) * P);
    return;
  }
  for (int h = 0; h < H; ++h) std::copy(t + h * P, t + h * P + np, sc + h * ld);
}

// acc[h·C] += p_h · vv for heads h < H (probabilities ld floats apart).
template <int C, size_t... H>
HWY_INLINE void AxpyHeads(VF vv, const float* p, int64_t ld, VF* acc, std::index_sequence<H...>) {
  const DF df;
  ((acc[H * C] = hn::MulAdd(hn::Set(df, p[H * ld]), vv, acc[H * C])), ...);
}

// acc[h·C + c] += p_h · v[vr + off_c …+kN] for the C vectors of one value row, H heads.
template <int H, int C, size_t... I>
HWY_INLINE void WeightedRow(const uint16_t* vr, const int64_t* off, const float* p, int64_t ld, VF* acc,
                            std::index_sequence<I...>) {
  const DF df;
  const hn::Rebind<hwy::float16_t, DF> dh;
  (AxpyHeads<C>(hn::PromoteTo(df, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(vr + off[I]))), p, ld, acc + I,
                std::make_index_sequence<H>()),
   ...);
}

}  // namespace attn_tiles
#endif  // fixed-width target

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#endif  // toggle guard
