// Vector repacks for the AVX-512 VNNI prompt GEMM (x86_vnni.cc): the weight types whose tiles are packed
// with 16-row gathers instead of the portable per-row repack of kernels/gemm_pack.h. A gather of one
// 4-byte word from each of 16 rows is one step of the packed tile (or, for 4-bit types, two), so the
// repack never leaves vector registers; at 64 tokens it costs a few percent of the GEMM where the
// per-row repack costs more than the multiply. Included only by x86_vnni.cc, inside
// `#if defined(__x86_64__)` with <immintrin.h> and EL_TARGET_VNNI defined.
#pragma once

#include "kernels/gemm_pack.h"

namespace edgellm::gemm {

// Byte offsets of the 16 rows from the tile's first row, for gathers.
EL_TARGET_VNNI inline __m512i row_offsets(size_t stride) {
  const __m512i r = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return _mm512_mullo_epi32(r, _mm512_set1_epi32(static_cast<int32_t>(stride)));
}

EL_TARGET_VNNI inline __m512i gather(const void* p, __m512i offs, __mmask16 m) {
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, p, 1);
}

// The fp16 at byte 0 of each row's block p, as 16 floats.
EL_TARGET_VNNI inline __m512 gather_half(const void* p, __m512i offs, __mmask16 m) {
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(gather(p, offs, m)));
}

// Bits 4c..4c+3 of each lane of qh (the 5th bits of columns 4c..4c+3) as bit 4 of each byte.
// Multiplying 4 bits by 0x00204081 moves bit k to bit 8k (the shifted copies never overlap).
EL_TARGET_VNNI inline __m512i high_bits(__m512i qh, int c) {
  const __m512i h = _mm512_and_si512(_mm512_srli_epi32(qh, 4 * c), _mm512_set1_epi32(0xF));
  const __m512i spread =
      _mm512_and_si512(_mm512_mullo_epi32(h, _mm512_set1_epi32(0x00204081)), _mm512_set1_epi32(0x01010101));
  return _mm512_slli_epi32(spread, 4);
}

// Stores step vector v (signed levels) and adds its per-row sum to sum.
EL_TARGET_VNNI inline void put_step(int8_t* dst, __m512i v, __m512i& sum) {
  _mm512_store_si512(dst, v);
  sum = _mm512_dpbusd_epi32(sum, _mm512_set1_epi8(1), v);
}

// −128·Σq, the starting value of a group's integer sum (kernels/gemm_pack.h).
EL_TARGET_VNNI inline void put_corr(int32_t* dst, __m512i sum) {
  _mm512_store_si512(dst, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum, 7)));
}

// Q4_0/Q4_1/Q5_0/Q5_1 (w = d·(q − o), or d·q + m with min −m): the low nibbles of qs word c are columns
// 4c.., the high nibbles columns 16 + 4c..; bit j of the 5-bit types' qh is the 5th bit of column j.
template <class B, bool kFiveBit, bool kMin>
struct GatherLegacy {
  using Block = B;
  static constexpr int kCols = 32, kGroup = 32;
  static constexpr bool kHasMin = kMin;
  EL_TARGET_VNNI static void pack_block(const uint8_t* p, __m512i offs, __mmask16 m, int, size_t, PackedTile& t,
                                        int k) {
    const auto* b = reinterpret_cast<const B*>(p);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i offset = _mm512_set1_epi8(kMin ? 0 : (kFiveBit ? 16 : 8));
    __m512i qh = _mm512_setzero_si512(), sum = _mm512_setzero_si512();
    if constexpr (kFiveBit) qh = gather(b->qh, offs, m);
    for (int c = 0; c < 4; ++c) {
      const __m512i v = gather(b->qs + 4 * c, offs, m);
      __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi32(v, 4), low4);
      if constexpr (kFiveBit) {
        lo = _mm512_or_si512(lo, high_bits(qh, c));
        hi = _mm512_or_si512(hi, high_bits(qh, c + 4));
      }
      // Rows outside m gathered zeros and become −offset here: harmless, each row is its own lane and
      // the kernel never stores those lanes.
      put_step(t.q[8 * k + c], _mm512_sub_epi8(lo, offset), sum);
      put_step(t.q[8 * k + c + 4], _mm512_sub_epi8(hi, offset), sum);
    }
    put_corr(t.corr[k], sum);
    _mm512_store_ps(t.scale[k], gather_half(p, offs, m));
    if constexpr (kMin) _mm512_store_ps(t.min[k], _mm512_sub_ps(_mm512_setzero_ps(), gather_half(&b->m, offs, m)));
  }
};
using GatherQ4_0 = GatherLegacy<BlockQ4_0, false, false>;
using GatherQ4_1 = GatherLegacy<BlockQ4_1, false, true>;
using GatherQ5_0 = GatherLegacy<BlockQ5_0, true, false>;
using GatherQ5_1 = GatherLegacy<BlockQ5_1, true, true>;

struct GatherQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kCols = 32, kGroup = 32;
  static constexpr bool kHasMin = false;
  EL_TARGET_VNNI static void pack_block(const uint8_t* p, __m512i offs, __mmask16 m, int, size_t, PackedTile& t,
                                        int k) {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(p);
    __m512i sum = _mm512_setzero_si512();
    for (int c = 0; c < 8; ++c) put_step(t.q[8 * k + c], gather(b->qs + 4 * c, offs, m), sum);
    put_corr(t.corr[k], sum);
    _mm512_store_ps(t.scale[k], gather_half(p, offs, m));
  }
};

// Q4_K/Q5_K: a 256-column super-block is 8 groups of 32 with w = d·sc·q − dmin·m. Bytes qs[32j + i] hold
// group 2j in the low nibbles and group 2j + 1 in the high ones; Q5_K's fifth bit of group g, column i is
// bit g of qh[i]. The scales are decoded per row in plain code: 16 per group, against 16 × 32 × n_tokens
// multiply-adds.
template <class B, bool kFiveBit>
struct GatherK45 {
  using Block = B;
  static constexpr int kCols = 256, kGroup = 32;
  static constexpr bool kHasMin = true;
  EL_TARGET_VNNI static void pack_block(const uint8_t* p, __m512i offs, __mmask16 m, int nr, size_t stride,
                                        PackedTile& t, int k) {
    const auto* b = reinterpret_cast<const B*>(p);
    const __m512i low4 = _mm512_set1_epi8(0x0F), bit0 = _mm512_set1_epi8(0x01);
    __m512i sum[8];
    for (__m512i& s : sum) s = _mm512_setzero_si512();
    for (int c = 0; c < 8; ++c) {
      __m512i qh = _mm512_setzero_si512();
      if constexpr (kFiveBit) qh = gather(b->qh + 4 * c, offs, m);
      for (int j = 0; j < 4; ++j) {
        const __m512i v = gather(b->qs + 32 * j + 4 * c, offs, m);
        __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi32(v, 4), low4);
        if constexpr (kFiveBit) {
          lo = _mm512_or_si512(lo, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh, 2 * j), bit0), 4));
          hi = _mm512_or_si512(hi, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh, 2 * j + 1), bit0), 4));
        }
        put_step(t.q[8 * (8 * k + 2 * j) + c], lo, sum[2 * j]);
        put_step(t.q[8 * (8 * k + 2 * j + 1) + c], hi, sum[2 * j + 1]);
      }
    }
    for (int g = 0; g < 8; ++g) put_corr(t.corr[8 * k + g], sum[g]);
    for (int r = 0; r < kTileRows; ++r) {
      uint8_t sc[8] = {}, mn[8] = {};
      float d = 0.0f, dmin = 0.0f;
      if (r < nr) {
        const auto* br = reinterpret_cast<const B*>(p + static_cast<size_t>(r) * stride);
        kquant::unpack_scale_min_k4(br->scales, sc, mn);
        d = fp16_to_fp32(br->d);
        dmin = fp16_to_fp32(br->dmin);
      }
      for (int g = 0; g < 8; ++g) {
        t.scale[8 * k + g][r] = d * static_cast<float>(sc[g]);
        t.min[8 * k + g][r] = dmin * static_cast<float>(mn[g]);
      }
    }
  }
};
using GatherQ4_K = GatherK45<BlockQ4_K, false>;
using GatherQ5_K = GatherK45<BlockQ5_K, true>;

}  // namespace edgellm::gemm
