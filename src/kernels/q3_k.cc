// Q3_K: super-blocks of 256 values in 16 groups of 16, x = d·s·q with q in -4..3 and s a signed 6-bit
// group scale (packed in 12 bytes, see kquant::unpack_q3_scales). The low 2 bits of q sit where Q2_K
// keeps them (qs[32·(e/128) + e%32], bit 2·((e%128)/32)); the third bit of element e is bit e/32 of
// hmask[e%32], and a CLEAR bit means "subtract 4".
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

// The signed 3-bit levels of one block in element order.
inline void unpack_q3(const BlockQ3_K& b, int8_t q[kQK_K]) {
  for (int c = 0; c < 2; ++c) {
    for (int s = 0; s < 4; ++s) {
      const int hbit = 4 * c + s;
      for (int l = 0; l < 32; ++l) {
        const int low = (b.qs[32 * c + l] >> (2 * s)) & 3;
        const int high = (b.hmask[l] >> hbit) & 1;
        q[128 * c + 32 * s + l] = static_cast<int8_t>(low - 4 + 4 * high);
      }
    }
  }
}

}  // namespace

void q3_k_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ3_K* b = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    int8_t sc[16];
    kquant::unpack_q3_scales(b[i].scales, sc);
    int8_t q[kQK_K];
    unpack_q3(b[i], q);
    float* y = dst + i * kQK_K;
    for (int g = 0; g < kQK_K / 16; ++g) {
      const float dl = d * static_cast<float>(sc[g]);
      for (int l = 0; l < 16; ++l) y[16 * g + l] = dl * static_cast<float>(q[16 * g + l]);
    }
  }
}

void q3_k_from_float(const float* src, void* dst, int64_t n) {
  BlockQ3_K* b = static_cast<BlockQ3_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ3_K& blk = b[i];
    std::memset(&blk, 0, sizeof(blk));
    const float amax = kquant::max_abs(x, kQK_K);
    const float inv = 1.0f / amax;
    if (!(amax > 0.0f) || !std::isfinite(inv)) continue;  // all zero (or below fp16 range): zero block

    int8_t L[kQK_K];  // levels biased by +4, 0..7
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
      sub_scale[g] = kquant::fit_scale_symmetric(16, 4, xs, w, L + 16 * g);
      if (std::fabs(sub_scale[g]) > max_abs_scale) {
        max_abs_scale = std::fabs(sub_scale[g]);
        max_scale = sub_scale[g];
      }
    }
    if (max_abs_scale == 0.0f) continue;

    // The group scale of largest magnitude maps to -32, the one end of the signed 6-bit range.
    const float iscale = -32.0f / max_scale;
    int8_t sc[16];
    for (int g = 0; g < 16; ++g) sc[g] = static_cast<int8_t>(clamp_int(nearest_int(iscale * sub_scale[g]), -32, 31));
    kquant::pack_q3_scales(sc, blk.scales);
    blk.d = kquant::half_saturate(max_scale * amax / -32.0f);

    const float df = fp16_to_fp32(blk.d);
    for (int g = 0; g < 16; ++g) {
      const float dg = df * static_cast<float>(sc[g]);
      if (dg == 0.0f) continue;
      for (int l = 0; l < 16; ++l) {
        L[16 * g + l] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * g + l] / dg), -4, 3) + 4);
      }
    }
    for (int e = 0; e < kQK_K; ++e) {
      if (L[e] > 3) {
        blk.hmask[e % 32] = static_cast<uint8_t>(blk.hmask[e % 32] | (1 << (e / 32)));
        L[e] = static_cast<int8_t>(L[e] - 4);
      }
    }
    for (int c = 0; c < 2; ++c) {
      const int8_t* lc = L + 128 * c;
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * c + l] = static_cast<uint8_t>(lc[l] | (lc[l + 32] << 2) | (lc[l + 64] << 4) | (lc[l + 96] << 6));
      }
    }
  }
}

float vec_dot_q3_k(int64_t n, const void* w, const void* x) {
  const BlockQ3_K* a = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t sc[16];
    kquant::unpack_q3_scales(a[i].scales, sc);
    int8_t q[kQK_K];
    unpack_q3(a[i], q);
    int32_t isum = 0;
    for (int g = 0; g < kQK_K / 16; ++g) isum += sc[g] * kquant::dot16(q + 16 * g, b[i].qs + 16 * g);
    sum += (b[i].d * fp16_to_fp32(a[i].d)) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace edgellm
