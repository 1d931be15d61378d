// Highway kernels for kernels/simd_kquant.h. hwy 1.0.3 has no int8 dot product, so the weight levels
// and the Q8_K activations are widened to int16 and multiplied with ReorderWidenMulAccumulate (pmaddwd:
// pairs summed into int32). The group scale is folded into the int16 weight before the multiply
// (|level·scale| <= 4096 fits int16), so one int32 accumulator serves the whole super-block instead of
// one per group: per block |Σ| <= 256·4096·128 < 2^31.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd_kquant.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/quants.h"
#include "kernels/simd_kquant.h"
#include "kernels/x86_kquant.h"

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Vectors of up to 32 int16: one 512-bit register on AVX3, so a 32-element group is one step there.
using D16 = hn::CappedTag<int16_t, 32>;
using D32 = hn::Repartition<int32_t, D16>;
using DF = hn::Rebind<float, D32>;

// Lanes(d16) consecutive uint8 / int8 values widened to int16.
HWY_INLINE hn::Vec<D16> LoadU8(D16 d16, const uint8_t* p) {
  return hn::PromoteTo(d16, hn::LoadU(hn::Rebind<uint8_t, D16>(), p));
}
HWY_INLINE hn::Vec<D16> LoadI8(D16 d16, const int8_t* p) {
  return hn::PromoteTo(d16, hn::LoadU(hn::Rebind<int8_t, D16>(), p));
}

// acc += Σ pairs of w·x (int16 × int16 → int32). `odd` is ReorderWidenMulAccumulate's second sum.
HWY_INLINE hn::Vec<D32> MulAcc(hn::Vec<D16> w, hn::Vec<D16> x, hn::Vec<D32> acc, hn::Vec<D32>& odd) {
  return hn::ReorderWidenMulAccumulate(D32(), w, x, acc, odd);
}

// Scales of the 16-element groups for Lanes(d16) elements starting at a multiple of Lanes(d16) within
// group sc[0]: with 32 lanes the vector spans groups sc[0] and sc[1], with at most 16 it lies in sc[0].
HWY_INLINE hn::Vec<D16> GroupScales16(D16 d16, const int8_t* sc) {
#if HWY_TARGET != HWY_SCALAR  // one-lane vectors have no halves to combine
  // MaxLanes is only an upper bound on scalable (SVE) targets: check the run-time vector length too.
  if constexpr (hn::MaxLanes(D16()) >= 32) {
    if (hn::Lanes(d16) >= 32) {
      const hn::Half<D16> dh;
      return hn::Combine(d16, hn::Set(dh, sc[1]), hn::Set(dh, sc[0]));
    }
  }
#endif
  return hn::Set(d16, sc[0]);
}

// Q4_K and Q5_K: 4 chunks of 64 elements; chunk c's low nibbles qs[32c + l] are element 64c + l (group
// 2c), its high nibbles element 64c + 32 + l (group 2c + 1). For Q5_K bit 2c / 2c + 1 of qh[l] adds 16.
// Returns Σ sc·q·x of one block as int32 lanes; *sum_m gets the min term Σ m·bsums.
template <bool kHasHighBit>
HWY_INLINE hn::Vec<D32> BlockDotQ45(const uint8_t* scales, const uint8_t* qs, const uint8_t* qh, const BlockQ8_K& b,
                                    int32_t* sum_m) {
  const D16 d16;
  const D32 d32;
  const size_t N = hn::Lanes(d16);
  uint8_t sc[8], m[8];
  kquant::unpack_scale_min_k4(scales, sc, m);
  const auto mask4 = hn::Set(d16, 0x0F);
  auto acc = hn::Zero(d32), odd = hn::Zero(d32);
  for (int c = 0; c < 4; ++c) {
    const auto s_lo = hn::Set(d16, sc[2 * c]), s_hi = hn::Set(d16, sc[2 * c + 1]);
    for (size_t k = 0; k < 32; k += N) {
      const auto raw = LoadU8(d16, qs + 32 * c + k);
      auto lo = hn::And(raw, mask4);
      auto hi = hn::ShiftRight<4>(raw);
      if constexpr (kHasHighBit) {
        const auto h = hn::ShiftRightSame(LoadU8(d16, qh + k), 2 * c);
        lo = hn::Or(lo, hn::ShiftLeft<4>(hn::And(h, hn::Set(d16, 1))));
        hi = hn::Or(hi, hn::ShiftLeft<3>(hn::And(h, hn::Set(d16, 2))));
      }
      acc = MulAcc(hn::Mul(lo, s_lo), LoadI8(d16, b.qs + 64 * c + k), acc, odd);
      acc = MulAcc(hn::Mul(hi, s_hi), LoadI8(d16, b.qs + 64 * c + 32 + k), acc, odd);
    }
  }
  int32_t sm = 0;
  for (int g = 0; g < 8; ++g) sm += m[g] * (b.bsums[2 * g] + b.bsums[2 * g + 1]);
  *sum_m = sm;
  return hn::Add(acc, odd);
}

// d_x·(d·Σ sc·q·x - dmin·Σ m·bsums) over the blocks; the scale term accumulates in float lanes, with
// one horizontal sum per row.
template <bool kHasHighBit, class Block>
HWY_INLINE float DotQ45(int64_t n, const Block* a, const BlockQ8_K* b) {
  const DF df;
  auto accf = hn::Zero(df);
  float mins = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* qh = nullptr;
    if constexpr (kHasHighBit) qh = a[i].qh;
    int32_t sum_m;
    const auto q = BlockDotQ45<kHasHighBit>(a[i].scales, a[i].qs, qh, b[i], &sum_m);
    accf = hn::MulAdd(hn::ConvertTo(df, q), hn::Set(df, b[i].d * fp16_to_fp32(a[i].d)), accf);
    mins += b[i].d * fp16_to_fp32(a[i].dmin) * static_cast<float>(sum_m);
  }
  return hn::GetLane(hn::SumOfLanes(df, accf)) - mins;
}

float VecDotQ4_K(int64_t n, const void* w, const void* x) {
  return DotQ45<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(x));
}

float VecDotQ5_K(int64_t n, const void* w, const void* x) {
  return DotQ45<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(x));
}

// Q6_K: two halves of 128; for l < 32, ql[64h + l] holds elements 128h + l (low nibble) and 128h + 64 + l
// (high nibble), ql[64h + 32 + l] elements 128h + 32 + l and 128h + 96 + l, and bits 0-1, 2-3, 4-5, 6-7
// of qh[32h + l] are the top bits of elements 128h + l, + 32, + 64, + 96. Levels are q - 32.
float VecDotQ6_K(int64_t n, const void* w, const void* x) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  const D16 d16;
  const D32 d32;
  const DF df;
  const size_t N = hn::Lanes(d16);
  const auto mask4 = hn::Set(d16, 0x0F), mask_hi = hn::Set(d16, 0x30), bias = hn::Set(d16, 32);
  auto accf = hn::Zero(df);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    auto acc = hn::Zero(d32), odd = hn::Zero(d32);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = a[i].ql + 64 * h;
      const uint8_t* qh = a[i].qh + 32 * h;
      const int8_t* sc = a[i].scales + 8 * h;  // groups of this half: element 128h + 32j + k is group 8h + 2j + k/16
      const int8_t* xq = b[i].qs + 128 * h;
      for (size_t k = 0; k < 32; k += N) {
        const auto l0 = LoadU8(d16, ql + k), l1 = LoadU8(d16, ql + 32 + k), hb = LoadU8(d16, qh + k);
        const auto q0 = hn::Sub(hn::Or(hn::And(l0, mask4), hn::And(hn::ShiftLeft<4>(hb), mask_hi)), bias);
        const auto q1 = hn::Sub(hn::Or(hn::And(l1, mask4), hn::And(hn::ShiftLeft<2>(hb), mask_hi)), bias);
        const auto q2 = hn::Sub(hn::Or(hn::ShiftRight<4>(l0), hn::And(hb, mask_hi)), bias);
        const auto q3 = hn::Sub(hn::Or(hn::ShiftRight<4>(l1), hn::And(hn::ShiftRight<2>(hb), mask_hi)), bias);
        const size_t g = k / 16;
        acc = MulAcc(hn::Mul(q0, GroupScales16(d16, sc + g)), LoadI8(d16, xq + k), acc, odd);
        acc = MulAcc(hn::Mul(q1, GroupScales16(d16, sc + 2 + g)), LoadI8(d16, xq + 32 + k), acc, odd);
        acc = MulAcc(hn::Mul(q2, GroupScales16(d16, sc + 4 + g)), LoadI8(d16, xq + 64 + k), acc, odd);
        acc = MulAcc(hn::Mul(q3, GroupScales16(d16, sc + 6 + g)), LoadI8(d16, xq + 96 + k), acc, odd);
      }
    }
    // Float accumulation across blocks stays in vector lanes; one horizontal sum per row.
    accf = hn::MulAdd(hn::ConvertTo(df, hn::Add(acc, odd)), hn::Set(df, b[i].d * fp16_to_fp32(a[i].d)), accf);
  }
  return hn::GetLane(hn::SumOfLanes(df, accf));
}

// Q2_K: two halves of 128; bits 2j..2j+1 of qs[32h + l] are element 128h + 32j + l (group 8h + 2j + l/16),
// the 4-bit scale / min of group g the low / high nibble of scales[g].
float VecDotQ2_K(int64_t n, const void* w, const void* x) {
  const BlockQ2_K* a = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  const D16 d16;
  const D32 d32;
  const size_t N = hn::Lanes(d16);
  const auto mask2 = hn::Set(d16, 3);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t sc[16];
    int32_t sum_m = 0;
    for (int g = 0; g < 16; ++g) {
      sc[g] = static_cast<int8_t>(a[i].scales[g] & 0x0F);
      sum_m += (a[i].scales[g] >> 4) * b[i].bsums[g];
    }
    auto acc = hn::Zero(d32), odd = hn::Zero(d32);
    for (int h = 0; h < 2; ++h) {
      const int8_t* xq = b[i].qs + 128 * h;
      const int8_t* sh = sc + 8 * h;
      for (size_t k = 0; k < 32; k += N) {
        const auto raw = LoadU8(d16, a[i].qs + 32 * h + k);
        const size_t g = k / 16;
        const auto q0 = hn::And(raw, mask2), q1 = hn::And(hn::ShiftRight<2>(raw), mask2);
        const auto q2 = hn::And(hn::ShiftRight<4>(raw), mask2), q3 = hn::ShiftRight<6>(raw);
        acc = MulAcc(hn::Mul(q0, GroupScales16(d16, sh + g)), LoadI8(d16, xq + k), acc, odd);
        acc = MulAcc(hn::Mul(q1, GroupScales16(d16, sh + 2 + g)), LoadI8(d16, xq + 32 + k), acc, odd);
        acc = MulAcc(hn::Mul(q2, GroupScales16(d16, sh + 4 + g)), LoadI8(d16, xq + 64 + k), acc, odd);
        acc = MulAcc(hn::Mul(q3, GroupScales16(d16, sh + 6 + g)), LoadI8(d16, xq + 96 + k), acc, odd);
      }
    }
    const int32_t sum_q = hn::GetLane(hn::SumOfLanes(d32, hn::Add(acc, odd)));
    const float dall = b[i].d * fp16_to_fp32(a[i].d);
    const float dmin = b[i].d * fp16_to_fp32(a[i].dmin);
    sum += dall * static_cast<float>(sum_q) - dmin * static_cast<float>(sum_m);
  }
  return sum;
}

// Level q - 4 + 4·high of Q3_K element 128h + 32·kJ + l: low bits kJ-th pair of raw = qs[32h + l], high bit
// bit kJ of hm_h = hmask[l] >> 4h.
template <int kJ>
HWY_INLINE hn::Vec<D16> Q3Level(hn::Vec<D16> raw, hn::Vec<D16> hm_h) {
  const D16 d16;
  const auto low = hn::And(hn::ShiftRight<2 * kJ>(raw), hn::Set(d16, 3));
  const auto high = hn::ShiftLeft<2>(hn::And(hn::ShiftRight<kJ>(hm_h), hn::Set(d16, 1)));
  return hn::Sub(hn::Or(low, high), hn::Set(d16, 4));
}

// Q3_K: the 2-bit layout of Q2_K plus a third bit (bit 4h + j of hmask[l]; clear means subtract 4) and
// signed 6-bit group scales; |level·scale| <= 4·32.
float VecDotQ3_K(int64_t n, const void* w, const void* x) {
  const BlockQ3_K* a = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  const D16 d16;
  const D32 d32;
  const DF df;
  const size_t N = hn::Lanes(d16);
  auto accf = hn::Zero(df);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t sc[16];
    kquant::unpack_q3_scales(a[i].scales, sc);
    auto acc = hn::Zero(d32), odd = hn::Zero(d32);
    for (int h = 0; h < 2; ++h) {
      const int8_t* xq = b[i].qs + 128 * h;
      const int8_t* sh = sc + 8 * h;
      for (size_t k = 0; k < 32; k += N) {
        const auto raw = LoadU8(d16, a[i].qs + 32 * h + k);
        const auto hm_h = hn::ShiftRightSame(LoadU8(d16, a[i].hmask + k), 4 * h);
        const size_t g = k / 16;
        acc = MulAcc(hn::Mul(Q3Level<0>(raw, hm_h), GroupScales16(d16, sh + g)), LoadI8(d16, xq + k), acc, odd);
        acc = MulAcc(hn::Mul(Q3Level<1>(raw, hm_h), GroupScales16(d16, sh + 2 + g)), LoadI8(d16, xq + 32 + k), acc,
                     odd);
        acc = MulAcc(hn::Mul(Q3Level<2>(raw, hm_h), GroupScales16(d16, sh + 4 + g)), LoadI8(d16, xq + 64 + k), acc,
                     odd);
        acc = MulAcc(hn::Mul(Q3Level<3>(raw, hm_h), GroupScales16(d16, sh + 6 + g)), LoadI8(d16, xq + 96 + k), acc,
                     odd);
      }
    }
    accf = hn::MulAdd(hn::ConvertTo(df, hn::Add(acc, odd)), hn::Set(df, b[i].d * fp16_to_fp32(a[i].d)), accf);
  }
  return hn::GetLane(hn::SumOfLanes(df, accf));
}

#if HWY_TARGET != HWY_SCALAR
// The 16 bsums of a quantized block: byte sums of 8 (SumsOf8: psadbw on x86) of qs + 128 read as unsigned, then
// pairs added minus 16·128. One pass over the 256 bytes in L1 instead of a horizontal int32 sum per 16 values.
HWY_INLINE void BlockSums16(const int8_t* qs, int16_t* bsums) {
  const hn::CappedTag<uint8_t, 64> d8;
  const hn::Repartition<uint64_t, decltype(d8)> d64;
  const size_t N = hn::Lanes(d8);
  HWY_ALIGN uint64_t sums8[kQK_K / 8];
  const auto bias = hn::Set(d8, 0x80);
  for (size_t k = 0; k < static_cast<size_t>(kQK_K); k += N) {
    const auto v = hn::Xor(hn::LoadU(d8, reinterpret_cast<const uint8_t*>(qs) + k), bias);
    hn::Store(hn::SumsOf8(v), d64, sums8 + k / 8);
  }
  for (int g = 0; g < kQK_K / 16; ++g)
    bsums[g] = static_cast<int16_t>(static_cast<int>(sums8[2 * g] + sums8[2 * g + 1]) - 16 * 128);
}
#endif

// Q8_K activations, bit-exact to q8_k_from_float (kernels/q8_k.cc): the same bit-pattern max of |x|, the
// same first extreme value mapped to -127, the same float product iscale·x rounded half to even (Round: one
// instruction on x86 and ARM, and no add the compiler could fuse with the product into an FMA, which would round
// the exact product instead). |iscale·x| <= 127·(1 + 2^-23), so the result is in [-127, 127] unclamped. Blocks
// with inf/NaN or a subnormal extreme go to the scalar routine, and so does the SCALAR target, whose Round
// (hwy 1.0.3) adds 0.5 in float and misrounds just below halves.
void QuantizeQ8_K(const float* src, void* dst, int64_t n) {
#if HWY_TARGET == HWY_SCALAR
  q8_k_from_float(src, dst, n);
#else
  BlockQ8_K* out = static_cast<BlockQ8_K*>(dst);
  const hn::CappedTag<float, 16> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<int8_t, decltype(df)> d8;
  const size_t N = hn::Lanes(df);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    auto vmax0 = hn::Zero(du), vmax1 = hn::Zero(du);
    for (size_t k = 0; k < kQK_K; k += 2 * N) {
      vmax0 = hn::Max(vmax0, hn::And(hn::BitCast(du, hn::LoadU(df, x + k)), hn::Set(du, 0x7fffffffu)));
      vmax1 = hn::Max(vmax1, hn::And(hn::BitCast(du, hn::LoadU(df, x + k + N)), hn::Set(du, 0x7fffffffu)));
    }
    const uint32_t max_bits = hn::GetLane(hn::MaxOfLanes(du, hn::Max(vmax0, vmax1)));
    float amax;
    std::memcpy(&amax, &max_bits, sizeof(amax));
    if (amax == 0.0f) {
      out[i].d = 0.0f;
      std::memset(out[i].qs, 0, sizeof(out[i].qs));
      std::memset(out[i].bsums, 0, sizeof(out[i].bsums));
      continue;
    }
    float max = 0.0f;
    for (size_t k = 0; k < kQK_K; k += N) {
      const intptr_t pos = hn::FindFirstTrue(df, hn::Eq(hn::Abs(hn::LoadU(df, x + k)), hn::Set(df, amax)));
      if (pos >= 0) {
        max = x[k + static_cast<size_t>(pos)];
        break;
      }
    }
    const float iscale = -127.0f / max;
    if (!std::isfinite(amax) || !std::isfinite(iscale)) {
      q8_k_from_float(x, out + i, kQK_K);
      continue;
    }
    const auto vscale = hn::Set(df, iscale);
    for (size_t k = 0; k < kQK_K; k += N) {
      const auto q = hn::ConvertTo(di, hn::Round(hn::Mul(vscale, hn::LoadU(df, x + k))));
      hn::StoreU(hn::DemoteTo(d8, q), d8, out[i].qs + k);
    }
    BlockSums16(out[i].qs, out[i].bsums);
    out[i].d = 1.0f / iscale;
  }
#endif
}

int64_t KquantDispatchedTarget() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(VecDotQ2_K);
HWY_EXPORT(VecDotQ3_K);
HWY_EXPORT(VecDotQ4_K);
HWY_EXPORT(VecDotQ5_K);
HWY_EXPORT(VecDotQ6_K);
HWY_EXPORT(QuantizeQ8_K);
HWY_EXPORT(KquantDispatchedTarget);

float simd_vec_dot_q2_k(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ2_K)(n, w, x); }
float simd_vec_dot_q3_k(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ3_K)(n, w, x); }
float simd_vec_dot_q4_k(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ4_K)(n, w, x); }
float simd_vec_dot_q5_k(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ5_K)(n, w, x); }
float simd_vec_dot_q6_k(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ6_K)(n, w, x); }
void simd_quantize_q8_k(const float* src, void* dst, int64_t n) { HWY_DYNAMIC_DISPATCH(QuantizeQ8_K)(src, dst, n); }
int64_t simd_kquant_dispatched_target() { return HWY_DYNAMIC_DISPATCH(KquantDispatchedTarget)(); }

QuantizeRowFn simd_kquant_quantize_q8_k() {
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  return &HWY_DYNAMIC_DISPATCH(QuantizeQ8_K);
}

VecDotFn simd_kquant_vec_dot(GgmlType weight_type) {
  // Hand-written int8 dot products first (x86_kquant.h): widening to int16 costs twice the instructions.
  for (KquantIsa isa : {KquantIsa::kAvx512Vnni, KquantIsa::kAvx2}) {
    if (!x86_kquant_supported(isa)) continue;
    if (VecDotFn fn = x86_kquant_vec_dot(weight_type, isa)) return fn;
  }
  // The dispatch tables start out pointing at a target-choosing trampoline; make the choice before taking pointers.
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  switch (weight_type) {
    case GgmlType::Q2_K:
      return &HWY_DYNAMIC_DISPATCH(VecDotQ2_K);
    case GgmlType::Q3_K:
      return &HWY_DYNAMIC_DISPATCH(VecDotQ3_K);
    case GgmlType::Q4_K:
      return &HWY_DYNAMIC_DISPATCH(VecDotQ4_K);
    case GgmlType::Q5_K:
      return &HWY_DYNAMIC_DISPATCH(VecDotQ5_K);
    case GgmlType::Q6_K:
      return &HWY_DYNAMIC_DISPATCH(VecDotQ6_K);
    default:
      return nullptr;
  }
}

}  // namespace edgellm
#endif  // HWY_ONCE
