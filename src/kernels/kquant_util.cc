// Scale searches and scale packing shared by the k-quant quantizers.
#include "kernels/kquant_util.h"

#include <cmath>
#include <cstring>

namespace edgellm::kquant {

float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out, float rmin,
                    float rdelta, int nstep) {
  float lo = x[0], hi = x[0];
  float sum_w = 0.0f, sum_x = 0.0f;
  for (int i = 0; i < n; ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  // The offset is only ever subtracted, so a sub-block of positive values is fitted from zero.
  if (lo > 0.0f) lo = 0.0f;
  if (!(hi > lo)) {
    std::memset(L, 0, static_cast<size_t>(n));
    *min_out = -lo;
    return 0.0f;
  }

  // Start from the plain min/max mapping, then keep whichever candidate set of levels fits best.
  float scale = (hi - lo) / static_cast<float>(nmax);
  float min = lo;
  float best_err = 0.0f;
  {
    const float iscale = static_cast<float>(nmax) / (hi - lo);
    for (int i = 0; i < n; ++i) {
      L[i] = static_cast<uint8_t>(clamp_int(nearest_int(iscale * (x[i] - lo)), 0, nmax));
      const float diff = scale * L[i] + lo - x[i];
      best_err += w[i] * diff * diff;
    }
  }
  uint8_t cand[32];
  for (int k = 0; k <= nstep; ++k) {
    const float iscale = (static_cast<float>(nmax) + rmin + rdelta * static_cast<float>(k)) / (hi - lo);
    float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - lo)), 0, nmax);
      cand[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    // Weighted least squares for x ≈ s·l + m with the levels fixed.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0.0f)) continue;
    float s = (sum_w * sum_xl - sum_x * sum_l) / det;
    float m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (m > 0.0f) {
      m = 0.0f;
      s = sum_xl / sum_l2;
    }
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = s * cand[i] + m - x[i];
      err += w[i] * diff * diff;
    }
    if (err < best_err) {
      best_err = err;
      scale = s;
      min = m;
      std::memcpy(L, cand, static_cast<size_t>(n));
    }
  }
  *min_out = -min;
  return scale;
}

float fit_scale_symmetric(int n, int nmax, const float* x, const float* wts, int8_t* L) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > amax) {
      amax = a;
      max = x[i];
    }
  }
  if (amax < 1e-15f) {
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax);
    return 0.0f;
  }

  int8_t lv[32], cand[32];
  float best = -1.0f, scale = 0.0f;
  // Maximizing (Σ w·x·l)² / Σ w·l² is minimizing the weighted error at the optimal scale for those levels.
  for (int k = -9; k <= 9; ++k) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(k)) / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      cand[i] = static_cast<int8_t>(l);
      const float w = wts != nullptr ? wts[i] : x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      best = sumlx * sumlx / suml2;
      scale = sumlx / suml2;
      std::memcpy(lv, cand, static_cast<size_t>(n));
    }
  }
  if (best < 0.0f) {
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax);
    return 0.0f;
  }

  // Coordinate descent: move one level to its best value under the scale fitted to all the others.
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float w = wts != nullptr ? wts[i] : x[i] * x[i];
    sumlx += w * x[i] * lv[i];
    suml2 += w * lv[i] * lv[i];
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = wts != nullptr ? wts[i] : x[i] * x[i];
      float slx = sumlx - w * x[i] * lv[i];
      float sl2 = suml2 - w * lv[i] * lv[i];
      if (slx == 0.0f || !(sl2 > 0.0f)) continue;
      const int l = clamp_int(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (l == lv[i]) continue;
      slx += w * x[i] * l;
      sl2 += w * l * l;
      if (slx * slx * suml2 > sumlx * sumlx * sl2) {
        lv[i] = static_cast<int8_t>(l);
        sumlx = slx;
        suml2 = sl2;
        ++changed;
      }
    }
    if (changed == 0) break;
  }
  if (suml2 > 0.0f) scale = sumlx / suml2;
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(lv[i] + nmax);
  return scale;
}

void pack_scale_min_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
  }
}

void pack_q3_scales(const int8_t sc[16], uint8_t out[12]) {
  std::memset(out, 0, 12);
  for (int j = 0; j < 16; ++j) {
    const int biased = clamp_int(sc[j], -32, 31) + 32;
    if (j < 8) {
      out[j] = static_cast<uint8_t>(out[j] | (biased & 0x0F));
    } else {
      out[j - 8] = static_cast<uint8_t>(out[j - 8] | ((biased & 0x0F) << 4));
    }
    out[8 + j % 4] = static_cast<uint8_t>(out[8 + j % 4] | ((biased >> 4) << (2 * (j / 4))));
  }
}

void quantize_scale_min_superblock(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t L[256],
                                   uint16_t* d, uint16_t* dmin, uint8_t scales[12]) {
  const float amax = max_abs(x, 256);
  const float inv = 1.0f / amax;
  if (!(amax > 0.0f) || !std::isfinite(inv)) {
    std::memset(L, 0, 256);
    std::memset(scales, 0, 12);
    *d = fp32_to_fp16(0.0f);
    *dmin = fp32_to_fp16(0.0f);
    return;
  }

  float sub_scale[8], sub_min[8];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    float xs[32], w[32];
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; ++l) {
      xs[l] = x[32 * j + l] * inv;
      sum_x2 += xs[l] * xs[l];
    }
    // Weigh each value by its size plus the sub-block rms: outliers matter more, small values still count.
    const float av = std::sqrt(sum_x2 / 32.0f);
    for (int l = 0; l < 32; ++l) w[l] = av + std::fabs(xs[l]);
    sub_scale[j] = fit_scale_min(32, nmax, xs, w, L + 32 * j, &sub_min[j], rmin, rdelta, nstep);
    max_scale = sub_scale[j] > max_scale ? sub_scale[j] : max_scale;
    max_min = sub_min[j] > max_min ? sub_min[j] : max_min;
  }

  uint8_t ls[8], lm[8];
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < 8; ++j) {
    ls[j] = static_cast<uint8_t>(clamp_int(nearest_int(inv_scale * sub_scale[j]), 0, 63));
    lm[j] = static_cast<uint8_t>(clamp_int(nearest_int(inv_min * sub_min[j]), 0, 63));
  }
  pack_scale_min_k4(ls, lm, scales);
  *d = half_saturate(max_scale * amax / 63.0f);
  *dmin = half_saturate(max_min * amax / 63.0f);

  // Recompute the levels against the scales as they will be read back.
  const float df = fp16_to_fp32(*d), mf = fp16_to_fp32(*dmin);
  for (int j = 0; j < 8; ++j) {
    const float dj = df * ls[j];
    if (dj == 0.0f) continue;
    const float mj = mf * lm[j];
    for (int l = 0; l < 32; ++l) {
      L[32 * j + l] = static_cast<uint8_t>(clamp_int(nearest_int((x[32 * j + l] + mj) / dj), 0, nmax));
    }
  }
}

void dequantize_scale_min_groups(uint16_t d16, uint16_t dmin16, const uint8_t scales[12], const int8_t q[256],
                                 float y[256]) {
  const float d = fp16_to_fp32(d16);
  const float dmin = fp16_to_fp32(dmin16);
  uint8_t sc[8], m[8];
  unpack_scale_min_k4(scales, sc, m);
  for (int g = 0; g < 8; ++g) {
    const float dg = d * static_cast<float>(sc[g]);
    const float mg = dmin * static_cast<float>(m[g]);
    for (int l = 0; l < 32; ++l) y[32 * g + l] = dg * static_cast<float>(q[32 * g + l]) - mg;
  }
}

}  // namespace edgellm::kquant
