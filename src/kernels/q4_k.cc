// Q4_K: super-blocks of 256 values in 8 groups of 32, x = d·sc·q - dmin·m with q in 0..15 and
// 6-bit sc/m per group packed in 12 bytes (kquant::unpack_scale_min_k4). Element e's nibble is
// qs[32·(e/64) + e%32], the low nibble for the first 32 of each 64 and the high nibble for the next 32.
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/quants.h"

namespace edgellm {

namespace {

// The 4-bit levels of one block in element order.
inline void unpack_q4(const BlockQ4_K& b, int8_t q[kQK_K]) {
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = static_cast<int8_t>(b.qs[32 * c + l] & 0x0F);
      q[64 * c + 32 + l] = static_cast<int8_t>(b.qs[32 * c + l] >> 4);
    }
  }
}

}  // namespace

void q4_k_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ4_K* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    unpack_q4(b[i], q);
    kquant::dequantize_scale_min_groups(b[i].d, b[i].dmin, b[i].scales, q, dst + i * kQK_K);
  }
}

void q4_k_from_float(const float* src, void* dst, int64_t n) {
  BlockQ4_K* b = static_cast<BlockQ4_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    BlockQ4_K& blk = b[i];
    uint8_t L[kQK_K];
    kquant::quantize_scale_min_superblock(src + i * kQK_K, 15, -1.0f, 0.1f, 20, L, &blk.d, &blk.dmin, blk.scales);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        blk.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
      }
    }
  }
}

float vec_dot_q4_k(int64_t n, const void* w, const void* x) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sc[8], m[8];
    kquant::unpack_scale_min_k4(a[i].scales, sc, m);
    int8_t q[kQK_K];
    unpack_q4(a[i], q);
    // The min term needs only the activation sums of each 32 (two bsums), not the elements.
    int32_t sum_q = 0, sum_m = 0;
    for (int g = 0; g < 8; ++g) {
      const int32_t dq =
          kquant::dot16(q + 32 * g, b[i].qs + 32 * g) + kquant::dot16(q + 32 * g + 16, b[i].qs + 32 * g + 16);
      sum_q += sc[g] * dq;
      sum_m += m[g] * (b[i].bsums[2 * g] + b[i].bsums[2 * g + 1]);
    }
    const float dall = b[i].d * fp16_to_fp32(a[i].d);
    const float dmin = b[i].d * fp16_to_fp32(a[i].dmin);
    sum += dall * static_cast<float>(sum_q) - dmin * static_cast<float>(sum_m);
  }
  return sum;
}

}  // namespace edgellm
