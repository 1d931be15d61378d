// Q8_K: the activation type paired with the k-quants. 256 int8 values with a float scale,
// x = d·q, plus the sum of each run of 16 values (bsums) so weight types with per-group minimums
// can fold the minimum into one multiply per group instead of one per element.
#include <cmath>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/quants.h"

namespace edgellm {

using kquant::clamp_int;
using kquant::nearest_int;

void q8_k_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = b[i].d;
    float* y = dst + i * kQK_K;
    for (int j = 0; j < kQK_K; ++j) y[j] = d * static_cast<float>(b[i].qs[j]);
  }
}

void q8_k_from_float(const float* src, void* dst, int64_t n) {
  BlockQ8_K* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ8_K& blk = b[i];
    // As ggml: the signed value of largest magnitude (the first one, on ties) maps to exactly -127.
    // Two passes keep the first one a branch-free, vectorizable max.
    const float amax = kquant::max_abs(x, kQK_K);
    float max = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
    }
    if (!(amax > 0.0f)) {  // all zero, or NaN somewhere
      blk.d = 0.0f;
      std::memset(blk.qs, 0, sizeof(blk.qs));
      std::memset(blk.bsums, 0, sizeof(blk.bsums));
      continue;
    }
    const float iscale = -127.0f / max;
    if (std::isfinite(iscale)) {
      // |iscale·x| <= 127 here, so the rounding needs no saturation. The float product rounded half to even
      // (nearbyint in the default mode), not round_small's magic-number add: with FMA in the baseline (ARM64) the
      // compiler fuses that add with the product, which rounds the exact product instead and differs near ties.
      for (int j = 0; j < kQK_K; ++j)
        blk.qs[j] = static_cast<int8_t>(clamp_int(static_cast<int>(std::nearbyint(iscale * x[j])), -127, 127));
      blk.d = 1.0f / iscale;
    } else {
      // Subnormal max: -127/max overflows, so divide per element instead.
      for (int j = 0; j < kQK_K; ++j) {
        blk.qs[j] = static_cast<int8_t>(clamp_int(nearest_int(-127.0f * (x[j] / max)), -127, 127));
      }
      blk.d = max / -127.0f;
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += blk.qs[16 * g + l];
      blk.bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

}  // namespace edgellm
