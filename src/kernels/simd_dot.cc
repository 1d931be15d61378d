// Highway kernels for kernels/simd_dot.h. hwy 1.0.3 has no int8 dot product, so int8/int4 blocks are
// widened to int16 and multiplied with ReorderWidenMulAccumulate (pmaddwd: pairs summed into int32).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd_dot.cc"
#include "kernels/simd_dot.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Half -> float with the target's conversion instruction where it has one (F16C on AVX2/AVX3).
HWY_INLINE float HalfToFloat(uint16_t h) {
#if HWY_TARGET <= HWY_AVX2
  const hn::CappedTag<uint16_t, 4> du;
  const hn::Rebind<hwy::float16_t, decltype(du)> dh;
  const hn::Rebind<float, decltype(du)> df;
  return hn::GetLane(hn::PromoteTo(df, hn::BitCast(dh, hn::Set(du, h))));
#else
  return fp16_to_fp32(h);
#endif
}

// Elements [k, k + Lanes(d16)) of a 4-bit block as int16 in [0, 15]. Element j < 16 is the low nibble of
// qs[j], element j >= 16 the high nibble of qs[j - 16].
template <class D16>
HWY_INLINE hn::Vec<D16> LoadNibbles(D16 d16, const uint8_t* qs, size_t k) {
#if HWY_TARGET != HWY_SCALAR  // one-lane vectors have no halves to combine
  // MaxLanes is only an upper bound on scalable (SVE) targets: check the run-time vector length too.
  if constexpr (hn::MaxLanes(D16()) >= 32) {
    if (hn::Lanes(d16) >= 32) {
      const hn::Half<D16> dh;
      const hn::Rebind<uint8_t, decltype(dh)> d8;
      const auto raw = hn::PromoteTo(dh, hn::LoadU(d8, qs));
      const auto lo = hn::And(raw, hn::Set(dh, 15));
      const auto hi = hn::ShiftRight<4>(raw);
      return hn::Combine(d16, hi, lo);
    }
  }
#endif
  const hn::Rebind<uint8_t, D16> d8;
  const auto raw = hn::PromoteTo(d16, hn::LoadU(d8, qs + (k & 15)));
  return k < 16 ? hn::And(raw, hn::Set(d16, 15)) : hn::ShiftRight<4>(raw);
}

// Q4_0: [-8, 7].
template <class D16>
HWY_INLINE hn::Vec<D16> LoadQ4Chunk(D16 d16, const uint8_t* qs, size_t k) {
  return hn::Sub(LoadNibbles(d16, qs, k), hn::Set(d16, 8));
}

// 1 << (j % 16) for element j of a block: which bit of its qh half holds element j's fifth bit.
alignas(64) constexpr int16_t kBit16[32] = {1,    2,    4,    8,     16,     32,   64,   128,  256,   512,   1024,
                                            2048, 4096, 8192, 16384, -32768, 1,    2,    4,    8,     16,    32,
                                            64,   128,  256,  512,   1024,   2048, 4096, 8192, 16384, -32768};

// Elements [k, k + Lanes(d16)) of a 5-bit block (Q5_0/Q5_1 layout) as int16 in [0, 31]: the nibble plus 16
// where bit j of the little-endian qh is set.
template <class D16>
HWY_INLINE hn::Vec<D16> LoadQ5Chunk(D16 d16, const uint8_t* qs, const uint8_t* qh_bytes, size_t k) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  const auto lo = hn::Set(d16, static_cast<int16_t>(qh & 0xFFFF));
  const auto hi = hn::Set(d16, static_cast<int16_t>(qh >> 16));
  const auto half = hn::IfThenElse(hn::Lt(hn::Iota(d16, static_cast<int16_t>(k)), hn::Set(d16, 16)), lo, hi);
  const auto set = hn::Ne(hn::And(half, hn::LoadU(d16, kBit16 + k)), hn::Zero(d16));
  return hn::Or(LoadNibbles(d16, qs, k), hn::IfThenElseZero(set, hn::Set(d16, 16)));
}

// Integer dot of one Q4_0 block with one Q8_0 block, as a vector of partial int32 sums.
template <class D16>
HWY_INLINE hn::Vec<hn::Repartition<int32_t, D16>> BlockDotQ4_0(D16 d16, const BlockQ4_0& a, const BlockQ8_0& b) {
  const hn::Repartition<int32_t, D16> d32;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  auto s0 = hn::Zero(d32), s1 = hn::Zero(d32);
  for (size_t k = 0; k < static_cast<size_t>(kQK4_0); k += hn::Lanes(d16)) {
    const auto wq = LoadQ4Chunk(d16, a.qs, k);
    const auto xq = hn::PromoteTo(d16, hn::LoadU(d8, b.qs + k));
    s0 = hn::ReorderWidenMulAccumulate(d32, wq, xq, s0, s1);
  }
  return hn::Add(s0, s1);
}

template <class D16>
HWY_INLINE hn::Vec<hn::Repartition<int32_t, D16>> BlockDotQ5_0(D16 d16, const BlockQ5_0& a, const BlockQ8_0& b) {
  const hn::Repartition<int32_t, D16> d32;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  auto s0 = hn::Zero(d32), s1 = hn::Zero(d32);
  for (size_t k = 0; k < static_cast<size_t>(kQK5_0); k += hn::Lanes(d16)) {
    const auto wq = hn::Sub(LoadQ5Chunk(d16, a.qs, a.qh, k), hn::Set(d16, 16));
    const auto xq = hn::PromoteTo(d16, hn::LoadU(d8, b.qs + k));
    s0 = hn::ReorderWidenMulAccumulate(d32, wq, xq, s0, s1);
  }
  return hn::Add(s0, s1);
}

template <class D16>
HWY_INLINE hn::Vec<hn::Repartition<int32_t, D16>> BlockDotQ8_0(D16 d16, const BlockQ8_0& a, const BlockQ8_0& b) {
  const hn::Repartition<int32_t, D16> d32;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  auto s0 = hn::Zero(d32), s1 = hn::Zero(d32);
  for (size_t k = 0; k < static_cast<size_t>(kQK8_0); k += hn::Lanes(d16)) {
    const auto wq = hn::PromoteTo(d16, hn::LoadU(d8, a.qs + k));
    const auto xq = hn::PromoteTo(d16, hn::LoadU(d8, b.qs + k));
    s0 = hn::ReorderWidenMulAccumulate(d32, wq, xq, s0, s1);
  }
  return hn::Add(s0, s1);
}

// Sum over blocks of scale_w·scale_x·(integer block dot). Two accumulators over even/odd blocks keep
// two FMA chains in flight, so the loop is not bound by FMA latency.
template <class WBlock, class BlockDot>
HWY_INLINE float DotBlocks(int64_t nb, const WBlock* a, const BlockQ8_0* b, BlockDot block_dot) {
  const hn::CappedTag<int16_t, kQK8_0> d16;
  const hn::Rebind<float, hn::Repartition<int32_t, decltype(d16)>> df;
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const auto p0 = hn::ConvertTo(df, block_dot(d16, a[i], b[i]));
    const auto p1 = hn::ConvertTo(df, block_dot(d16, a[i + 1], b[i + 1]));
    acc0 = hn::MulAdd(p0, hn::Set(df, HalfToFloat(a[i].d) * HalfToFloat(b[i].d)), acc0);
    acc1 = hn::MulAdd(p1, hn::Set(df, HalfToFloat(a[i + 1].d) * HalfToFloat(b[i + 1].d)), acc1);
  }
  if (i < nb) {
    const auto p0 = hn::ConvertTo(df, block_dot(d16, a[i], b[i]));
    acc0 = hn::MulAdd(p0, hn::Set(df, HalfToFloat(a[i].d) * HalfToFloat(b[i].d)), acc0);
  }
  return hn::GetLane(hn::SumOfLanes(df, hn::Add(acc0, acc1)));
}

float VecDotQ4_0(int64_t n, const void* w, const void* x) {
  return DotBlocks(n / kQK4_0, static_cast<const BlockQ4_0*>(w), static_cast<const BlockQ8_0*>(x),
                   [](auto d16, const BlockQ4_0& a, const BlockQ8_0& b) { return BlockDotQ4_0(d16, a, b); });
}

float VecDotQ5_0(int64_t n, const void* w, const void* x) {
  return DotBlocks(n / kQK5_0, static_cast<const BlockQ5_0*>(w), static_cast<const BlockQ8_0*>(x),
                   [](auto d16, const BlockQ5_0& a, const BlockQ8_0& b) { return BlockDotQ5_0(d16, a, b); });
}

// Q4_1/Q5_1 (w = d·q + m) against Q8_0: per block d·dx·Σq·x + m·dx·Σx; Σx comes from the same pass as a
// multiply-accumulate with ones, and the two float terms have accumulators of their own.
template <class WBlock, class LoadW>
HWY_INLINE float DotBlocksMin(int64_t nb, const WBlock* a, const BlockQ8_0* b, LoadW load_w) {
  const hn::CappedTag<int16_t, kQK8_0> d16;
  const hn::Repartition<int32_t, decltype(d16)> d32;
  const hn::Rebind<float, decltype(d32)> df;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  const auto ones = hn::Set(d16, 1);
  auto acc_q = hn::Zero(df), acc_m = hn::Zero(df);
  for (int64_t i = 0; i < nb; ++i) {
    auto q0 = hn::Zero(d32), q1 = hn::Zero(d32), x0 = hn::Zero(d32), x1 = hn::Zero(d32);
    for (size_t k = 0; k < static_cast<size_t>(kQK8_0); k += hn::Lanes(d16)) {
      const auto xq = hn::PromoteTo(d16, hn::LoadU(d8, b[i].qs + k));
      q0 = hn::ReorderWidenMulAccumulate(d32, load_w(d16, a[i], k), xq, q0, q1);
      x0 = hn::ReorderWidenMulAccumulate(d32, ones, xq, x0, x1);
    }
    const float dx = HalfToFloat(b[i].d);
    acc_q = hn::MulAdd(hn::ConvertTo(df, hn::Add(q0, q1)), hn::Set(df, HalfToFloat(a[i].d) * dx), acc_q);
    acc_m = hn::MulAdd(hn::ConvertTo(df, hn::Add(x0, x1)), hn::Set(df, HalfToFloat(a[i].m) * dx), acc_m);
  }
  return hn::GetLane(hn::SumOfLanes(df, hn::Add(acc_q, acc_m)));
}

float VecDotQ4_1(int64_t n, const void* w, const void* x) {
  return DotBlocksMin(n / kQK4_1, static_cast<const BlockQ4_1*>(w), static_cast<const BlockQ8_0*>(x),
                      [](auto d16, const BlockQ4_1& a, size_t k) { return LoadNibbles(d16, a.qs, k); });
}

float VecDotQ5_1(int64_t n, const void* w, const void* x) {
  return DotBlocksMin(n / kQK5_1, static_cast<const BlockQ5_1*>(w), static_cast<const BlockQ8_0*>(x),
                      [](auto d16, const BlockQ5_1& a, size_t k) { return LoadQ5Chunk(d16, a.qs, a.qh, k); });
}

float VecDotQ8_0(int64_t n, const void* w, const void* x) {
  return DotBlocks(n / kQK8_0, static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(x),
                   [](auto d16, const BlockQ8_0& a, const BlockQ8_0& b) { return BlockDotQ8_0(d16, a, b); });
}

// One weight row against four activation rows (x_stride bytes apart): each weight block is unpacked
// to int16 once and reused for the four tokens, which is what makes prompt processing cheaper per token.
template <class WBlock, class LoadW>
HWY_INLINE void DotBlocks4(int64_t nb, const WBlock* a, const void* x, size_t x_stride, float* out, LoadW load_w) {
  const hn::CappedTag<int16_t, kQK8_0> d16;
  const hn::Repartition<int32_t, decltype(d16)> d32;
  const hn::Rebind<float, decltype(d32)> df;
  const hn::Rebind<int8_t, decltype(d16)> d8;
  const size_t N = hn::Lanes(d16);
  const BlockQ8_0* b[4];
  for (int t = 0; t < 4; ++t)
    b[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(x) + static_cast<size_t>(t) * x_stride);
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  for (int64_t i = 0; i < nb; ++i) {
    auto s00 = hn::Zero(d32), s01 = hn::Zero(d32), s10 = hn::Zero(d32), s11 = hn::Zero(d32);
    auto s20 = hn::Zero(d32), s21 = hn::Zero(d32), s30 = hn::Zero(d32), s31 = hn::Zero(d32);
    for (size_t k = 0; k < static_cast<size_t>(kQK8_0); k += N) {
      const auto wq = load_w(d16, a[i], k);
      s00 = hn::ReorderWidenMulAccumulate(d32, wq, hn::PromoteTo(d16, hn::LoadU(d8, b[0][i].qs + k)), s00, s01);
      s10 = hn::ReorderWidenMulAccumulate(d32, wq, hn::PromoteTo(d16, hn::LoadU(d8, b[1][i].qs + k)), s10, s11);
      s20 = hn::ReorderWidenMulAccumulate(d32, wq, hn::PromoteTo(d16, hn::LoadU(d8, b[2][i].qs + k)), s20, s21);
      s30 = hn::ReorderWidenMulAccumulate(d32, wq, hn::PromoteTo(d16, hn::LoadU(d8, b[3][i].qs + k)), s30, s31);
    }
    const float dw = HalfToFloat(a[i].d);
    acc0 = hn::MulAdd(hn::ConvertTo(df, hn::Add(s00, s01)), hn::Set(df, dw * HalfToFloat(b[0][i].d)), acc0);
    acc1 = hn::MulAdd(hn::ConvertTo(df, hn::Add(s10, s11)), hn::Set(df, dw * HalfToFloat(b[1][i].d)), acc1);
    acc2 = hn::MulAdd(hn::ConvertTo(df, hn::Add(s20, s21)), hn::Set(df, dw * HalfToFloat(b[2][i].d)), acc2);
    acc3 = hn::MulAdd(hn::ConvertTo(df, hn::Add(s30, s31)), hn::Set(df, dw * HalfToFloat(b[3][i].d)), acc3);
  }
  out[0] = hn::GetLane(hn::SumOfLanes(df, acc0));
  out[1] = hn::GetLane(hn::SumOfLanes(df, acc1));
  out[2] = hn::GetLane(hn::SumOfLanes(df, acc2));
  out[3] = hn::GetLane(hn::SumOfLanes(df, acc3));
}

void VecDot4Q4_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out) {
  DotBlocks4(n / kQK4_0, static_cast<const BlockQ4_0*>(w), x, x_stride, out,
             [](auto d16, const BlockQ4_0& a, size_t k) { return LoadQ4Chunk(d16, a.qs, k); });
}

void VecDot4Q5_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out) {
  DotBlocks4(n / kQK5_0, static_cast<const BlockQ5_0*>(w), x, x_stride, out,
             [](auto d16, const BlockQ5_0& a, size_t k) {
               return hn::Sub(LoadQ5Chunk(d16, a.qs, a.qh, k), hn::Set(d16, 16));
             });
}

void VecDot4Q8_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out) {
  DotBlocks4(n / kQK8_0, static_cast<const BlockQ8_0*>(w), x, x_stride, out,
             [](auto d16, const BlockQ8_0& a, size_t k) {
               return hn::PromoteTo(d16, hn::LoadU(hn::Rebind<int8_t, decltype(d16)>(), a.qs + k));
             });
}

// Four independent accumulators hide the FMA latency; the tail (n not a multiple of the lanes) is scalar.
float VecDotF16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const hwy::float16_t* ah = static_cast<const hwy::float16_t*>(w);
  const float* b = static_cast<const float*>(x);
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    acc0 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, ah + i)), hn::LoadU(df, b + i), acc0);
    acc1 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, ah + i + N)), hn::LoadU(df, b + i + N), acc1);
    acc2 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, ah + i + 2 * N)), hn::LoadU(df, b + i + 2 * N), acc2);
    acc3 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, ah + i + 3 * N)), hn::LoadU(df, b + i + 3 * N), acc3);
  }
  for (; i + N <= n; i += N) acc0 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, ah + i)), hn::LoadU(df, b + i), acc0);
  float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(acc0, acc1), hn::Add(acc2, acc3))));
  for (; i < n; ++i) sum += fp16_to_fp32(a[i]) * b[i];
  return sum;
}

// BF16 is the top half of an F32: widen to 32 bits and shift left by 16 (exact, no rounding).
float VecDotBF16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const float* b = static_cast<const float*>(x);
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du32;
  const hn::Rebind<uint16_t, decltype(df)> du16;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto load = [&](int64_t i) {
    return hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du32, hn::LoadU(du16, a + i))));
  };
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    acc0 = hn::MulAdd(load(i), hn::LoadU(df, b + i), acc0);
    acc1 = hn::MulAdd(load(i + N), hn::LoadU(df, b + i + N), acc1);
    acc2 = hn::MulAdd(load(i + 2 * N), hn::LoadU(df, b + i + 2 * N), acc2);
    acc3 = hn::MulAdd(load(i + 3 * N), hn::LoadU(df, b + i + 3 * N), acc3);
  }
  for (; i + N <= n; i += N) acc0 = hn::MulAdd(load(i), hn::LoadU(df, b + i), acc0);
  float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(acc0, acc1), hn::Add(acc2, acc3))));
  for (; i < n; ++i) sum += bf16_to_fp32(a[i]) * b[i];
  return sum;
}

float VecDotF32(int64_t n, const void* w, const void* x) {
  const float* a = static_cast<const float*>(w);
  const float* b = static_cast<const float*>(x);
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df), acc3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    acc0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), acc0);
    acc1 = hn::MulAdd(hn::LoadU(df, a + i + N), hn::LoadU(df, b + i + N), acc1);
    acc2 = hn::MulAdd(hn::LoadU(df, a + i + 2 * N), hn::LoadU(df, b + i + 2 * N), acc2);
    acc3 = hn::MulAdd(hn::LoadU(df, a + i + 3 * N), hn::LoadU(df, b + i + 3 * N), acc3);
  }
  for (; i + N <= n; i += N) acc0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), acc0);
  float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(acc0, acc1), hn::Add(acc2, acc3))));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Same arithmetic as q8_0_from_float (d = amax/127, q = roundf(x·(1/d))), so the bytes are identical.
// roundf rounds halves away from zero; Highway's Round is half-to-even. Here |v| <= 127·(1 + 2^-23), and for
// |v| < 2^22 truncating v + copysign(0.5 - 2^-25, v) is roundf(v): below a half the sum stays under the next
// integer (by at least 2^-25 plus v's own spacing, more than half the sum's spacing), from a half on it reaches
// it (v = 0.5 gives 1 - 2^-25, a tie that rounds to the even 1.0). ConvertTo truncates toward zero. The product
// v also feeds the sign, so compilers cannot fuse the add with it into an FMA (which would skip v's rounding).
void QuantizeQ8_0(const float* src, void* dst, int64_t n) {
  BlockQ8_0* out = static_cast<BlockQ8_0*>(dst);
  const hn::CappedTag<float, kQK8_0> df;
  const hn::Rebind<int32_t, decltype(df)> d32;
  const hn::Rebind<int8_t, decltype(df)> d8;
  const size_t N = hn::Lanes(df);
  const auto below_half = hn::Set(df, 0x1.fffffep-2f);  // 0.5 - 2^-25
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float* x = src + i * kQK8_0;
    auto vmax = hn::Zero(df);
    for (size_t k = 0; k < static_cast<size_t>(kQK8_0); k += N) vmax = hn::Max(vmax, hn::Abs(hn::LoadU(df, x + k)));
    const float amax = hn::GetLane(hn::MaxOfLanes(df, vmax));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[i].d = fp32_to_fp16(d);
    const auto vid = hn::Set(df, id);
    for (size_t k = 0; k < static_cast<size_t>(kQK8_0); k += N) {
      const auto v = hn::Mul(hn::LoadU(df, x + k), vid);
      const auto r = hn::ConvertTo(d32, hn::Add(v, hn::CopySign(below_half, v)));
      hn::StoreU(hn::DemoteTo(d8, r), d8, out[i].qs + k);
    }
  }
}

int64_t DispatchedTarget() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(VecDotQ4_0);
HWY_EXPORT(VecDotQ8_0);
HWY_EXPORT(VecDotQ4_1);
HWY_EXPORT(VecDotQ5_0);
HWY_EXPORT(VecDotQ5_1);
HWY_EXPORT(VecDot4Q5_0);
HWY_EXPORT(VecDotBF16);
HWY_EXPORT(VecDot4Q4_0);
HWY_EXPORT(VecDot4Q8_0);
HWY_EXPORT(VecDotF16);
HWY_EXPORT(VecDotF32);
HWY_EXPORT(QuantizeQ8_0);
HWY_EXPORT(DispatchedTarget);

float simd_vec_dot_q4_0(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ4_0)(n, w, x); }
float simd_vec_dot_q8_0(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ8_0)(n, w, x); }
float simd_vec_dot_q4_1(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ4_1)(n, w, x); }
float simd_vec_dot_q5_0(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ5_0)(n, w, x); }
float simd_vec_dot_q5_1(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotQ5_1)(n, w, x); }
float simd_vec_dot_bf16(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotBF16)(n, w, x); }
void simd_vec_dot4_q5_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out) {
  HWY_DYNAMIC_DISPATCH(VecDot4Q5_0)(n, w, x, x_stride, out);
}
float simd_vec_dot_f16(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotF16)(n, w, x); }
float simd_vec_dot_f32(int64_t n, const void* w, const void* x) { return HWY_DYNAMIC_DISPATCH(VecDotF32)(n, w, x); }
void simd_vec_dot4_q4_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out) {
  HWY_DYNAMIC_DISPATCH(VecDot4Q4_0)(n, w, x, x_stride, out);
}
void simd_vec_dot4_q8_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out) {
  HWY_DYNAMIC_DISPATCH(VecDot4Q8_0)(n, w, x, x_stride, out);
}
void simd_quantize_q8_0(const float* src, void* dst, int64_t n) { HWY_DYNAMIC_DISPATCH(QuantizeQ8_0)(src, dst, n); }
int64_t simd_dispatched_target() { return HWY_DYNAMIC_DISPATCH(DispatchedTarget)(); }

SimdKernels simd_kernels(GgmlType weight_type) {
  // The dispatch tables start out pointing at a target-choosing trampoline; make the choice before taking pointers.
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  SimdKernels k;
  switch (weight_type) {
    case GgmlType::Q4_0:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotQ4_0);
      k.vec_dot4 = &HWY_DYNAMIC_DISPATCH(VecDot4Q4_0);
      k.quantize_x = &HWY_DYNAMIC_DISPATCH(QuantizeQ8_0);
      break;
    case GgmlType::Q8_0:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotQ8_0);
      k.vec_dot4 = &HWY_DYNAMIC_DISPATCH(VecDot4Q8_0);
      k.quantize_x = &HWY_DYNAMIC_DISPATCH(QuantizeQ8_0);
      break;
    case GgmlType::Q4_1:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotQ4_1);
      k.quantize_x = &HWY_DYNAMIC_DISPATCH(QuantizeQ8_0);
      break;
    case GgmlType::Q5_0:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotQ5_0);
      k.vec_dot4 = &HWY_DYNAMIC_DISPATCH(VecDot4Q5_0);
      k.quantize_x = &HWY_DYNAMIC_DISPATCH(QuantizeQ8_0);
      break;
    case GgmlType::Q5_1:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotQ5_1);
      k.quantize_x = &HWY_DYNAMIC_DISPATCH(QuantizeQ8_0);
      break;
    case GgmlType::BF16:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotBF16);
      break;
    case GgmlType::F16:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotF16);
      break;
    case GgmlType::F32:
      k.vec_dot = &HWY_DYNAMIC_DISPATCH(VecDotF32);
      break;
    default:
      break;
  }
  return k;
}

}  // namespace edgellm
#endif  // HWY_ONCE
