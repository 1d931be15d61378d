// Vector repacks for the AVX-512 VNNI prompt GEMM (x86_vnni.cc): the weight types whose tiles are packed
// in registers instead of by the portable per-row repack of kernels/gemm_pack.h. Each row's 16 bytes are
// loaded whole and 16 rows are transposed into four 64-byte steps (4-byte words of 16 rows), with a
// gather only for the per-row scales and the 5-bit types' high bits: gathers fetch one element per
// load, and at pp512 they were most of the repack's time. Included only by x86_vnni.cc, inside
// `#if defined(__x86_64__)` with <immintrin.h> and EL_TARGET_VNNI defined.
#pragma once

#include "kernels/gemm_pack.h"

namespace edgellm::gemm {

// Where the 16 rows of a tile start, from its first row: for gathers (lanes outside m are not read) and
// for whole-row loads (rows past the last valid one reread it, so nothing past the matrix is touched;
// their lanes are never stored).
struct TileRows {
  __m512i offs;
  __mmask16 m;
  size_t off[kTileRows];
};
EL_TARGET_VNNI inline TileRows tile_rows(size_t stride, int nr) {
  TileRows t;
  const __m512i r = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  t.offs = _mm512_mullo_epi32(r, _mm512_set1_epi32(static_cast<int32_t>(stride)));
  t.m = static_cast<__mmask16>((1u << nr) - 1);
  for (int i = 0; i < kTileRows; ++i) t.off[i] = static_cast<size_t>(i < nr ? i : nr - 1) * stride;
  return t;
}

// Bytes p + off .. p + off + 15 of the 16 rows as four steps: v[c] lane r = 4-byte word c of row r.
EL_TARGET_VNNI inline void load_steps(const uint8_t* p, const TileRows& rows, __m512i v[4]) {
  const auto row = [&](int r) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + rows.off[r])); };
  __m512i z[4];
  for (int k = 0; k < 4; ++k) {
    // The lane index must be an immediate even in unoptimized (sanitizer) builds: no loop over it.
    z[k] = _mm512_castsi128_si512(row(k));
    z[k] = _mm512_inserti32x4(z[k], row(k + 4), 1);
    z[k] = _mm512_inserti32x4(z[k], row(k + 8), 2);
    z[k] = _mm512_inserti32x4(z[k], row(k + 12), 3);
  }
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  // 128-bit lane j of z[k] holds row 4j + k; after the 4 × 4 word transpose within each lane, dword k of
  // lane j — vector lane 4j + k — holds that row's word.
  v[0] = _mm512_unpacklo_epi64(t0, t2);
  v[1] = _mm512_unpackhi_epi64(t0, t2);
  v[2] = _mm512_unpacklo_epi64(t1, t3);
  v[3] = _mm512_unpackhi_epi64(t1, t3);
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
struct VecLegacy {
  using Block = B;
  static constexpr int kCols = 32, kGroup = 32;
  static constexpr bool kHasMin = kMin;
  EL_TARGET_VNNI static void pack_block(const uint8_t* p, const TileRows& rows, PackedTile& t, int k) {
    const auto* b = reinterpret_cast<const B*>(p);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i offset = _mm512_set1_epi8(kMin ? 0 : (kFiveBit ? 16 : 8));
    __m512i qh = _mm512_setzero_si512(), sum = _mm512_setzero_si512(), v[4];
    if constexpr (kFiveBit) qh = gather(b->qh, rows.offs, rows.m);
    load_steps(b->qs, rows, v);
    for (int c = 0; c < 4; ++c) {
      __m512i lo = _mm512_and_si512(v[c], low4), hi = _mm512_and_si512(_mm512_srli_epi32(v[c], 4), low4);
      if constexpr (kFiveBit) {
        lo = _mm512_or_si512(lo, high_bits(qh, c));
        hi = _mm512_or_si512(hi, high_bits(qh, c + 4));
      }
      put_step(t.q[8 * k + c], _mm512_sub_epi8(lo, offset), sum);
      put_step(t.q[8 * k + c + 4], _mm512_sub_epi8(hi, offset), sum);
    }
    put_corr(t.corr[k], sum);
    _mm512_store_ps(t.scale[k], gather_half(p, rows.offs, rows.m));
    if constexpr (kMin)
      _mm512_store_ps(t.min[k], _mm512_sub_ps(_mm512_setzero_ps(), gather_half(&b->m, rows.offs, rows.m)));
  }
};
using VecQ4_0 = VecLegacy<BlockQ4_0, false, false>;
using VecQ4_1 = VecLegacy<BlockQ4_1, false, true>;
using VecQ5_0 = VecLegacy<BlockQ5_0, true, false>;
using VecQ5_1 = VecLegacy<BlockQ5_1, true, true>;

struct VecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kCols = 32, kGroup = 32;
  static constexpr bool kHasMin = false;
  EL_TARGET_VNNI static void pack_block(const uint8_t* p, const TileRows& rows, PackedTile& t, int k) {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(p);
    __m512i sum = _mm512_setzero_si512(), v[4];
    for (int half = 0; half < 2; ++half) {
      load_steps(reinterpret_cast<const uint8_t*>(b->qs) + 16 * half, rows, v);
      for (int c = 0; c < 4; ++c) put_step(t.q[8 * k + 4 * half + c], v[c], sum);
    }
    put_corr(t.corr[k], sum);
    _mm512_store_ps(t.scale[k], gather_half(p, rows.offs, rows.m));
  }
};

// Q4_K/Q5_K: a 256-column super-block is 8 groups of 32 with w = d·sc·q − dmin·m. Bytes qs[32j + i] hold
// group 2j in the low nibbles and group 2j + 1 in the high ones; Q5_K's fifth bit of group g, column i is
// bit g of qh[i]. The scales are decoded per row in plain code: 16 per group, against 16 × 32 × n_tokens
// multiply-adds.
template <class B, bool kFiveBit>
struct VecK45 {
  using Block = B;
  static constexpr int kCols = 256, kGroup = 32;
  static constexpr bool kHasMin = true;
  EL_TARGET_VNNI static void pack_block(const uint8_t* p, const TileRows& rows, PackedTile& t, int k) {
    const auto* b = reinterpret_cast<const B*>(p);
    const __m512i low4 = _mm512_set1_epi8(0x0F), bit0 = _mm512_set1_epi8(0x01);
    __m512i sum[8];
    for (__m512i& s : sum) s = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {  // words 4h..4h+3 of each 32-byte run
      __m512i qh[4] = {}, v[4];
      if constexpr (kFiveBit) load_steps(b->qh + 16 * h, rows, qh);
      for (int j = 0; j < 4; ++j) {
        load_steps(b->qs + 32 * j + 16 * h, rows, v);
        for (int c = 0; c < 4; ++c) {
          __m512i lo = _mm512_and_si512(v[c], low4), hi = _mm512_and_si512(_mm512_srli_epi32(v[c], 4), low4);
          if constexpr (kFiveBit) {
            lo = _mm512_or_si512(lo, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh[c], 2 * j), bit0), 4));
            hi = _mm512_or_si512(hi, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh[c], 2 * j + 1), bit0), 4));
          }
          put_step(t.q[8 * (8 * k + 2 * j) + 4 * h + c], lo, sum[2 * j]);
          put_step(t.q[8 * (8 * k + 2 * j + 1) + 4 * h + c], hi, sum[2 * j + 1]);
        }
      }
    }
    for (int g = 0; g < 8; ++g) put_corr(t.corr[8 * k + g], sum[g]);
    for (int r = 0; r < kTileRows; ++r) {
      const auto* br = reinterpret_cast<const B*>(p + rows.off[r]);
      uint8_t sc[8], mn[8];
      kquant::unpack_scale_min_k4(br->scales, sc, mn);
      const float d = fp16_to_fp32(br->d), dmin = fp16_to_fp32(br->dmin);
      for (int g = 0; g < 8; ++g) {
        t.scale[8 * k + g][r] = d * static_cast<float>(sc[g]);
        t.min[8 * k + g][r] = dmin * static_cast<float>(mn[g]);
      }
    }
  }
};
using VecQ4_K = VecK45<BlockQ4_K, false>;
using VecQ5_K = VecK45<BlockQ5_K, true>;

}  // namespace edgellm::gemm
