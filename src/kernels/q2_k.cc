// Q2_K: super-blocks of 256 values in 16 groups of 16. Each group has a 4-bit scale (low nibble of
// scales[g]) and a 4-bit min (high nibble), both multiplied by the block's fp16 d and dmin:
// x = d·sc·q - dmin·m with q in 0..3. Element e's 2 bits sit in qs[32·(e/128) + e%32] at bit
// 2·((e%128)/32): each run of 32 qs bytes holds four 32-value slices, one per bit pair.
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

// The 2-bit levels of one block in element order.
inline void unpack_q2(const BlockQ2_K& b, int8_t q[kQK_K]) {
  for (int c = 0; c < 2; ++c) {
    for (int s = 0; s < 4; ++s) {
      for (int l = 0; l < 32; ++l) q[128 * c + 32 * s + l] = static_cast<int8_t>((b.qs[32 * c + l] >> (2 * s)) & 3);
    }
  }
}

}  // namespace

void q2_k_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ2_K* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    const float dmin = fp16_to_fp32(b[i].dmin);
    int8_t q[kQK_K];
    unpack_q2(b[i], q);
    float* y = dst + i * kQK_K;
    for (int g = 0; g < kQK_K / 16; ++g) {
      // Same float operations as ggml's dequantize_row_q2_K, so results are bit-identical.
      const float dl = d * static_cast<float>(b[i].scales[g] & 0x0F);
      const float ml = dmin * static_cast<float>(b[i].scales[g] >> 4);
      for (int l = 0; l < 16; ++l) y[16 * g + l] = dl * static_cast<float>(q[16 * g + l]) - ml;
    }
  }
}

void q2_k_from_float(const float* src, void* dst, int64_t n) {
  BlockQ2_K* b = static_cast<BlockQ2_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ2_K& blk = b[i];
    std::memset(&blk, 0, sizeof(blk));
    const float amax = kquant::max_abs(x, kQK_K);
    const float inv = 1.0f / amax;
    if (!(amax > 0.0f) || !std::isfinite(inv)) continue;  // all zero (or below fp16 range): zero block

    uint8_t L[kQK_K];
    float sub_scale[16], sub_min[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int g = 0; g < 16; ++g) {
      // Search on x/max|x| so the fit behaves the same for any input magnitude.
      float xs[16], w[16];
      float sum_x2 = 0.0f;
      for (int l = 0; l < 16; ++l) {
        xs[l] = x[16 * g + l] * inv;
        sum_x2 += xs[l] * xs[l];
      }
      const float av = std::sqrt(sum_x2 / 16.0f);
      for (int l = 0; l < 16; ++l) w[l] = av + std::fabs(xs[l]);
      sub_scale[g] = kquant::fit_scale_min(16, 3, xs, w, L + 16 * g, &sub_min[g], -0.5f, 0.1f, 15);
      max_scale = sub_scale[g] > max_scale ? sub_scale[g] : max_scale;
      max_min = sub_min[g] > max_min ? sub_min[g] : max_min;
    }

    const float inv_scale = max_scale > 0.0f ? 15.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 15.0f / max_min : 0.0f;
    for (int g = 0; g < 16; ++g) {
      const int ls = clamp_int(nearest_int(inv_scale * sub_scale[g]), 0, 15);
      const int lm = clamp_int(nearest_int(inv_min * sub_min[g]), 0, 15);
      blk.scales[g] = static_cast<uint8_t>(ls | (lm << 4));
    }
    blk.d = kquant::half_saturate(max_scale * amax / 15.0f);
    blk.dmin = kquant::half_saturate(max_min * amax / 15.0f);

    // Recompute the levels against the scales as they will be read back.
    const float df = fp16_to_fp32(blk.d), mf = fp16_to_fp32(blk.dmin);
    for (int g = 0; g < 16; ++g) {
      const float dg = df * static_cast<float>(blk.scales[g] & 0x0F);
      if (dg == 0.0f) continue;
      const float mg = mf * static_cast<float>(blk.scales[g] >> 4);
      for (int l = 0; l < 16; ++l) {
        L[16 * g + l] = static_cast<uint8_t>(clamp_int(nearest_int((x[16 * g + l] + mg) / dg), 0, 3));
      }
    }
    for (int c = 0; c < 2; ++c) {
      const uint8_t* lc = L + 128 * c;
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * c + l] = static_cast<uint8_t>(lc[l] | (lc[l + 32] << 2) | (lc[l + 64] << 4) | (lc[l + 96] << 6));
      }
    }
  }
}

float vec_dot_q2_k(int64_t n, const void* w, const void* x) {
  const BlockQ2_K* a = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    unpack_q2(a[i], q);
    // Σ d·sc·q·dx·qx - dmin·m·dx·qx = dx·d·Σ sc·(q·qx) - dx·dmin·Σ m·bsum.
    int32_t sum_q = 0, sum_m = 0;
    for (int g = 0; g < kQK_K / 16; ++g) {
      sum_q += (a[i].scales[g] & 0x0F) * kquant::dot16(q + 16 * g, b[i].qs + 16 * g);
      sum_m += (a[i].scales[g] >> 4) * b[i].bsums[g];
    }
    const float dall = b[i].d * fp16_to_fp32(a[i].d);
    const float dmin = b[i].d * fp16_to_fp32(a[i].dmin);
    sum += dall * static_cast<float>(sum_q) - dmin * static_cast<float>(sum_m);
  }
  return sum;
}

}  // namespace edgellm
