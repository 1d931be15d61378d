// Q4_1: blocks of 32 4-bit values with an fp16 scale d and minimum m; x = q·d + m.
// Nibble layout as Q4_0 (low nibble = element j, high nibble = element j+16).
#include <algorithm>
#include <cfloat>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/quants.h"

namespace edgellm {

void q4_1_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    float* y = dst + i * kQK4_1;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      y[j] = static_cast<float>(b[i].qs[j] & 0x0F) * d + m;
      y[j + kQK4_1 / 2] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
    }
  }
}

void q4_1_from_float(const float* src, void* dst, int64_t n) {
  BlockQ4_1* b = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    const float* x = src + i * kQK4_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK4_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>((x[j] - min) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((x[j + kQK4_1 / 2] - min) * id + 0.5f));
      b[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

// With Q8_0 activations (no stored sum, unlike ggml's Q8_1) the min term needs sum(qx) per block:
// sum (q·d + m)(qx·dx) = d·dx·sum(q·qx) + m·dx·sum(qx).
float vec_dot_q4_1(int64_t n, const void* w, const void* x) {
  const BlockQ4_1* a = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    int32_t sumi = 0, sumx = 0;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      sumi += (a[i].qs[j] & 0x0F) * b[i].qs[j] + (a[i].qs[j] >> 4) * b[i].qs[j + kQK4_1 / 2];
      sumx += b[i].qs[j] + b[i].qs[j + kQK4_1 / 2];
    }
    const float dx = fp16_to_fp32(b[i].d);
    sum += static_cast<float>(sumi) * (fp16_to_fp32(a[i].d) * dx) +
           static_cast<float>(sumx) * (fp16_to_fp32(a[i].m) * dx);
  }
  return sum;
}

}  // namespace edgellm
