// ARMv8.2 dot-product vec_dot kernels (see kernels/arm_dotprod.h). Highway 1.0.3 has no int8 dot-product
// op (only the int16 ReorderWidenMulAccumulate), so `sdot` (vdotq_s32: four int8 products summed into each
// int32 lane) is written with NEON intrinsics here, compiled per function for +dotprod and chosen at run
// time from HWCAP_ASIMDDP (core/cpu_features), so CPUs without it (Cortex-A53/A72) keep the Highway NEON
// path.
//
// Every block's integer sum is exact, as in the scalar oracles (kernels/quants.h); the k-quant kernels
// also combine the per-super-block float terms in the oracle's order, so only the 32-block kernels, which
// keep four float lanes of partial sums, differ from the oracle (by float rounding).
#include "kernels/arm_dotprod.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#include "core/cpu_features.h"
#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"

// The intrinsics in arm_neon.h are declared for armv8.2-a+dotprod; a bare "+dotprod" on the armv8-a
// baseline lacks the rest of v8.2 and GCC refuses to inline them.
#define EL_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

namespace edgellm {
namespace {

// One block's dot product, scaled by both block scales, as four float lanes of partial sums.
EL_TARGET_DOTPROD inline float32x4_t block_q8_0(const BlockQ8_0& a, const BlockQ8_0& b) {
  const int32x4_t p =
      vdotq_s32(vdotq_s32(vdupq_n_s32(0), vld1q_s8(a.qs), vld1q_s8(b.qs)), vld1q_s8(a.qs + 16), vld1q_s8(b.qs + 16));
  return vmulq_n_f32(vcvtq_f32_s32(p), fp16_to_fp32(a.d) * fp16_to_fp32(b.d));
}

// Byte j of qs holds element j (low nibble) and j + 16 (high nibble); levels are q − 8.
EL_TARGET_DOTPROD inline float32x4_t block_q4_0(const BlockQ4_0& a, const BlockQ8_0& b) {
  const uint8x16_t q = vld1q_u8(a.qs);
  const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
  const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
  const int32x4_t p = vdotq_s32(vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(b.qs)), hi, vld1q_s8(b.qs + 16));
  return vmulq_n_f32(vcvtq_f32_s32(p), fp16_to_fp32(a.d) * fp16_to_fp32(b.d));
}

// Two blocks per step into separate accumulators, so consecutive sdot chains do not wait on each other.
template <class W, float32x4_t (*kBlock)(const W&, const BlockQ8_0&)>
EL_TARGET_DOTPROD float dot_32_blocks(int64_t n, const void* w, const void* x) {
  const W* a = static_cast<const W*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = n / kQK8_0;
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 1 < nb; i += 2) {
    acc0 = vaddq_f32(acc0, kBlock(a[i], b[i]));
    acc1 = vaddq_f32(acc1, kBlock(a[i + 1], b[i + 1]));
  }
  if (i < nb) acc0 = vaddq_f32(acc0, kBlock(a[i], b[i]));
  return vaddvq_f32(vaddq_f32(acc0, acc1));
}

// Per super-block: Σ_g sc[g]·(q_g · x_g) in int32 lanes, one horizontal sum; the minimum term uses the
// activation sums of each 16 (bsums), paired per 32-group: Σ_g m[g]·(bsums[2g] + bsums[2g+1]).
// qs[32c + l]: low nibble is element 64c + l (group 2c), high nibble element 64c + 32 + l (group 2c + 1).
EL_TARGET_DOTPROD float dot_q4_k(int64_t n, const void* w, const void* x) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  const uint8x16_t low_mask = vdupq_n_u8(0x0F);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sc[8], m[8];
    kquant::unpack_scale_min_k4(a[i].scales, sc, m);
    int32x4_t acc = vdupq_n_s32(0);
    for (int c = 0; c < 4; ++c) {
      const uint8x16_t q0 = vld1q_u8(a[i].qs + 32 * c), q1 = vld1q_u8(a[i].qs + 32 * c + 16);
      const int8_t* xc = b[i].qs + 64 * c;
      const int32x4_t plo =
          vdotq_s32(vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(q0, low_mask)), vld1q_s8(xc)),
                    vreinterpretq_s8_u8(vandq_u8(q1, low_mask)), vld1q_s8(xc + 16));
      const int32x4_t phi =
          vdotq_s32(vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), vld1q_s8(xc + 32)),
                    vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), vld1q_s8(xc + 48));
      acc = vmlaq_n_s32(acc, plo, sc[2 * c]);
      acc = vmlaq_n_s32(acc, phi, sc[2 * c + 1]);
    }
    // bsums pairs: |bsums[k]| <= 16·128, so a pair fits int16; the products with m (<= 63) need int32.
    const int16x8_t pair_sums = vpaddq_s16(vld1q_s16(b[i].bsums), vld1q_s16(b[i].bsums + 8));
    const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(m)));
    const int32x4_t pm = vmlal_high_s16(vmull_s16(vget_low_s16(pair_sums), vget_low_s16(mins)), pair_sums, mins);
    const int32_t sum_q = vaddvq_s32(acc), sum_m = vaddvq_s32(pm);
    const float dall = b[i].d * fp16_to_fp32(a[i].d);
    const float dmin = b[i].d * fp16_to_fp32(a[i].dmin);
    sum += dall * static_cast<float>(sum_q) - dmin * static_cast<float>(sum_m);
  }
  return sum;
}

// Per half of 128 elements (ql + 64h, qh + 32h), for l in 0..31 the four 6-bit levels at l, l + 32,
// l + 64, l + 96 are the low/high nibbles of ql[l] and ql[l + 32] with bit pairs 0-1, 2-3, 4-5, 6-7 of
// qh[l] on top; each 16 of them is one scale group. Levels are q − 32, in [−32, 31].
EL_TARGET_DOTPROD float dot_q6_k(int64_t n, const void* w, const void* x) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  const uint8x16_t low_mask = vdupq_n_u8(0x0F), high_bits = vdupq_n_u8(0x30);
  const int8x16_t bias = vdupq_n_s8(32);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int32x4_t acc = vdupq_n_s32(0);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = a[i].ql + 64 * h;
      const uint8_t* qh = a[i].qh + 32 * h;
      const int8_t* xh = b[i].qs + 128 * h;
      const int8_t* sc = a[i].scales + 8 * h;
      for (int l0 = 0; l0 < 32; l0 += 16) {
        const uint8x16_t hb = vld1q_u8(qh + l0), l0v = vld1q_u8(ql + l0), l1v = vld1q_u8(ql + 32 + l0);
        const uint8x16_t u[4] = {
            vorrq_u8(vandq_u8(l0v, low_mask), vandq_u8(vshlq_n_u8(hb, 4), high_bits)),
            vorrq_u8(vandq_u8(l1v, low_mask), vandq_u8(vshlq_n_u8(hb, 2), high_bits)),
            vorrq_u8(vshrq_n_u8(l0v, 4), vandq_u8(hb, high_bits)),
            vorrq_u8(vshrq_n_u8(l1v, 4), vandq_u8(vshrq_n_u8(hb, 2), high_bits)),
        };
        for (int k = 0; k < 4; ++k) {
          const int8x16_t q = vsubq_s8(vreinterpretq_s8_u8(u[k]), bias);
          const int32x4_t p = vdotq_s32(vdupq_n_s32(0), q, vld1q_s8(xh + 32 * k + l0));
          acc = vmlaq_n_s32(acc, p, sc[2 * k + l0 / 16]);
        }
      }
    }
    sum += (b[i].d * fp16_to_fp32(a[i].d)) * static_cast<float>(vaddvq_s32(acc));
  }
  return sum;
}

}  // namespace

VecDotFn arm_dotprod_vec_dot(GgmlType weight_type) {
  if (!cpu_features().dotprod) return nullptr;
  switch (weight_type) {
    case GgmlType::Q4_0:
      return dot_32_blocks<BlockQ4_0, block_q4_0>;
    case GgmlType::Q8_0:
      return dot_32_blocks<BlockQ8_0, block_q8_0>;
    case GgmlType::Q4_K:
      return dot_q4_k;
    case GgmlType::Q6_K:
      return dot_q6_k;
    default:
      return nullptr;
  }
}

}  // namespace edgellm

#else  // not ARM64: no sdot

namespace edgellm {
VecDotFn arm_dotprod_vec_dot(GgmlType) { return nullptr; }
}  // namespace edgellm

#endif
