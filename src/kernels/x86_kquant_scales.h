// Sub-block scale unpacking shared by the x86 k-quant kernels (x86_kquant_avx512.cc, x86_kquant_avx2.cc),
// in SSE/AVX2 registers: a handful of 32-bit lane operations instead of a 16-step byte loop, and no
// store-then-reload of the unpacked bytes (a failed store-to-load forward costs more than the unpack).
// Results match kquant::unpack_scale_min_k4 / kquant::unpack_q3_scales byte for byte (tested through the
// kernels). Only for x86-64 translation units; callers are compiled for AVX2 or a superset.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

namespace edgellm::x86kq {

#define EL_TARGET_KQ_SCALES __attribute__((target("avx2")))

// Q4_K/Q5_K: the 12 packed bytes at p (the 4 bytes after them are read and ignored, so p + 16 must be
// readable) -> bytes scales 0-7, mins 0-7. As words w0..w2: scales 0-3 = w0 & 0x3f.., mins 0-3 =
// w1 & 0x3f.., scales 4-7 = (w2 & 0x0f..) | top 2 bits of w0's bytes << 4, mins 4-7 = (w2 >> 4 & 0x0f..) |
// top 2 bits of w1's bytes << 4.
EL_TARGET_KQ_SCALES inline __m128i scales_mins_k4(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i low_src = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));   // w0, w2, w1, w2
  const __m128i high_src = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0));  // w0, w0, w1, w1
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(low_src, _mm_setr_epi32(0, 0, 0, 4)),
                                    _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i high = _mm_and_si128(_mm_srli_epi32(high_src, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(low, high);
}

// Q3_K: the 12 packed bytes at p (the 4 bytes before them are read and ignored, so p - 4 must be readable)
// -> the 16 signed scales as int8. Scale j's low nibble is byte j (j < 8) or the high nibble of byte j - 8;
// its top 2 bits are bits 2·(j/4) of byte 8 + j%4; the stored value is biased by +32.
EL_TARGET_KQ_SCALES inline __m128i scales_q3(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p - 4));  // -, w0, w1, w2
  const __m128i nib_src = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 1));       // w0, w1, w0, w1
  const __m128i nib = _mm_and_si128(_mm_srlv_epi32(nib_src, _mm_setr_epi32(0, 0, 4, 4)), _mm_set1_epi8(0x0F));
  const __m128i top_src = _mm_shuffle_epi32(v, _MM_SHUFFLE(3, 3, 3, 3));  // w2 ×4
  const __m128i top = _mm_and_si128(_mm_srlv_epi32(top_src, _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
  return _mm_sub_epi8(_mm_or_si128(nib, _mm_slli_epi32(top, 4)), _mm_set1_epi8(32));
}

#undef EL_TARGET_KQ_SCALES

}  // namespace edgellm::x86kq

#endif  // __x86_64__
