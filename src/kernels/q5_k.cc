// Q5_K: Q4_K plus a fifth bit per value: x = d·sc·(q + 16·h) - dmin·m with the low nibble laid out as in
// Q4_K and the high bit of element e in bit e/32 of qh[e%32].
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/quants.h"

namespace edgellm {

namespace {

// The 5-bit levels of one block in element order.
inline void unpack_q5(const BlockQ5_K& b, int8_t q[kQK_K]) {
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int h_lo = (b.qh[l] >> (2 * c)) & 1;
      const int h_hi = (b.qh[l] >> (2 * c + 1)) & 1;
      q[64 * c + l] = static_cast<int8_t>((b.qs[32 * c + l] & 0x0F) | (h_lo << 4));
      q[64 * c + 32 + l] = static_cast<int8_t>((b.qs[32 * c + l] >> 4) | (h_hi << 4));
    }
  }
}

}  // namespace

void q5_k_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ5_K* b = static_cast<const BlockQ5_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    unpack_q5(b[i], q);
    kquant::dequantize_scale_min_groups(b[i].d, b[i].dmin, b[i].scales, q, dst + i * kQK_K);
  }
}

void q5_k_from_float(const float* src, void* dst, int64_t n) {
  BlockQ5_K* b = static_cast<BlockQ5_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    BlockQ5_K& blk = b[i];
    uint8_t L[kQK_K];
    kquant::quantize_scale_min_superblock(src + i * kQK_K, 31, -0.5f, 0.1f, 15, L, &blk.d, &blk.dmin, blk.scales);
    std::memset(blk.qh, 0, sizeof(blk.qh));
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
        blk.qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
        blk.qh[l] = static_cast<uint8_t>(blk.qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
    }
  }
}

float vec_dot_q5_k(int64_t n, const void* w, const void* x) {
  const BlockQ5_K* a = static_cast<const BlockQ5_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sc[8], m[8];
    kquant::unpack_scale_min_k4(a[i].scales, sc, m);
    int8_t q[kQK_K];
    unpack_q5(a[i], q);
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
