// Q6_K: super-blocks of 256 values in 16 groups of 16, x = d·sc·(q - 32) with q in 0..63 and an int8
// scale per group. In each half of 128 values the low nibbles live in ql[64·half + ...] (elements
// l and l+64 share ql[l], elements l+32 and l+96 share ql[l+32]) and the top 2 bits of elements
// l, l+32, l+64, l+96 sit at bits 0, 2, 4, 6 of qh[32·half + l].
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/quants.h"

namespace edgellm {

using kquant::clamp_int;
using kquant::nearest_int;

namespace {

// The signed 6-bit levels (q - 32) of one block in element order.
inline void unpack_q6(const BlockQ6_K& b, int8_t q[kQK_K]) {
  for (int c = 0; c < 2; ++c) {
    const uint8_t* ql = b.ql + 64 * c;
    const uint8_t* qh = b.qh + 32 * c;
    int8_t* y = q + 128 * c;
    for (int l = 0; l < 32; ++l) {
      y[l] = static_cast<int8_t>(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
      y[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
      y[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      y[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

}  // namespace

void q6_k_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    int8_t q[kQK_K];
    unpack_q6(b[i], q);
    float* y = dst + i * kQK_K;
    for (int g = 0; g < kQK_K / 16; ++g) {
      // (d·sc)·q in that order, as ggml's dequantize_row_q6_K evaluates it.
      const float dg = d * static_cast<float>(b[i].scales[g]);
      for (int l = 0; l < 16; ++l) y[16 * g + l] = dg * static_cast<float>(q[16 * g + l]);
    }
  }
}

void q6_k_from_float(const float* src, void* dst, int64_t n) {
  BlockQ6_K* b = static_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ6_K& blk = b[i];
    std::memset(&blk, 0, sizeof(blk));
    const float amax = kquant::max_abs(x, kQK_K);
    const float inv = 1.0f / amax;
    if (!(amax > 0.0f) || !std::isfinite(inv)) continue;  // all zero (or below fp16 range): zero block

    int8_t L[kQK_K];  // levels biased by +32, 0..63
    float sub_scale[16];
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int g = 0; g < 16; ++g) {
      // Search on x/max|x| so the fit behaves the same for any input magnitude; weigh each value by its
      // size plus the group rms (close to plain RMSE, with some extra care for the large values).
      float xs[16], w[16];
      float sum_x2 = 0.0f;
      for (int l = 0; l < 16; ++l) {
        xs[l] = x[16 * g + l] * inv;
        sum_x2 += xs[l] * xs[l];
      }
      const float av = std::sqrt(sum_x2 / 16.0f);
      for (int l = 0; l < 16; ++l) w[l] = av + std::fabs(xs[l]);
      sub_scale[g] = kquant::fit_scale_symmetric(16, 32, xs, w, L + 16 * g);
      if (std::fabs(sub_scale[g]) > max_abs_scale) {
        max_abs_scale = std::fabs(sub_scale[g]);
        max_scale = sub_scale[g];
      }
    }
    if (max_abs_scale == 0.0f) continue;

    // The group scale of largest magnitude maps to -128, the one end of the int8 range.
    const float iscale = -128.0f / max_scale;
    for (int g = 0; g < 16; ++g) {
      blk.scales[g] = static_cast<int8_t>(clamp_int(nearest_int(iscale * sub_scale[g]), -128, 127));
    }
    blk.d = kquant::half_saturate(max_scale * amax / -128.0f);

    const float df = fp16_to_fp32(blk.d);
    for (int g = 0; g < 16; ++g) {
      const float dg = df * static_cast<float>(blk.scales[g]);
      if (dg == 0.0f) continue;
      for (int l = 0; l < 16; ++l) {
        L[16 * g + l] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * g + l] / dg), -32, 31) + 32);
      }
    }
    for (int c = 0; c < 2; ++c) {
      const int8_t* lc = L + 128 * c;
      for (int l = 0; l < 32; ++l) {
        const int l0 = lc[l], l1 = lc[l + 32], l2 = lc[l + 64], l3 = lc[l + 96];
        blk.ql[64 * c + l] = static_cast<uint8_t>((l0 & 0x0F) | ((l2 & 0x0F) << 4));
        blk.ql[64 * c + 32 + l] = static_cast<uint8_t>((l1 & 0x0F) | ((l3 & 0x0F) << 4));
        blk.qh[32 * c + l] = static_cast<uint8_t>((l0 >> 4) | ((l1 >> 4) << 2) | ((l2 >> 4) << 4) | ((l3 >> 4) << 6));
      }
    }
  }
}

float vec_dot_q6_k(int64_t n, const void* w, const void* x) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    unpack_q6(a[i], q);
    int32_t isum = 0;
    for (int g = 0; g < kQK_K / 16; ++g) isum += a[i].scales[g] * kquant::dot16(q + 16 * g, b[i].qs + 16 * g);
    sum += (b[i].d * fp16_to_fp32(a[i].d)) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace edgellm
