// Q5_1: blocks of 32 5-bit values with an fp16 scale d and minimum m; x = q·d + m.
// Bit layout as Q5_0 (low nibbles in qs, 5th bits in the little-endian 32-bit qh).
#include <cfloat>
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/quants.h"

namespace edgellm {
namespace {

void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, int* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) << 4) & 0x10);
    q[j + 16] = (qs[j] >> 4) | static_cast<int>((qh >> (j + 12)) & 0x10);
  }
}

}  // namespace

void q5_1_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ5_1* b = static_cast<const BlockQ5_1*>(src);
  int q[kQK5_1];
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
    unpack_q5(b[i].qs, b[i].qh, q);
    for (int j = 0; j < kQK5_1; ++j) dst[i * kQK5_1 + j] = static_cast<float>(q[j]) * d + m;
  }
}

void q5_1_from_float(const float* src, void* dst, int64_t n) {
  BlockQ5_1* b = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const float* x = src + i * kQK5_1;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK5_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = fp32_to_fp16(d);
    b[i].m = fp32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      // (x - min)·id + 0.5 lies in [0.5, 31.5], so truncation yields 0..31 (ggml has no clamp here).
      const int q0 = static_cast<int>((x[j] - min) * id + 0.5f);
      const int q1 = static_cast<int>((x[j + kQK5_1 / 2] - min) * id + 0.5f);
      b[i].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= static_cast<uint32_t>((q0 >> 4) & 1) << j;
      qh |= static_cast<uint32_t>((q1 >> 4) & 1) << (j + kQK5_1 / 2);
    }
    std::memcpy(b[i].qh, &qh, sizeof(qh));
  }
}

// See vec_dot_q4_1 for why the min term uses sum(qx).
float vec_dot_q5_1(int64_t n, const void* w, const void* x) {
  const BlockQ5_1* a = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  int q[kQK5_1];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    unpack_q5(a[i].qs, a[i].qh, q);
    int32_t sumi = 0, sumx = 0;
    for (int j = 0; j < kQK5_1; ++j) {
      sumi += q[j] * b[i].qs[j];
      sumx += b[i].qs[j];
    }
    const float dx = fp16_to_fp32(b[i].d);
    sum += static_cast<float>(sumi) * (fp16_to_fp32(a[i].d) * dx) +
           static_cast<float>(sumx) * (fp16_to_fp32(a[i].m) * dx);
  }
  return sum;
}

}  // namespace edgellm
