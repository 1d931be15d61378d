// 256-bit decode kernels for Q2_K..Q6_K × Q8_K (kernels/x86_kquant.h), for CPUs without AVX-512 VNNI
// (AVX2 and AVX-VNNI machines). Highway 1.0.3 has no int8 dot product and no vpmaddubsw (only the int16
// ReorderWidenMulAccumulate, which needs both sides widened first), so this is intrinsics, compiled per
// function for AVX2 and chosen at run time.
//
// Scheme, per super-block of 256: the weights are unpacked to unsigned levels u (0..63) in 32-byte runs
// matching 32 consecutive activations; vpmaddubsw gives 16 int16 sums of two u·x products (<= 2·63·127,
// no saturation), and vpmaddwd multiplies them by the 16-bit group scale of each 128-bit lane (a 16-group)
// or of the whole run (a 32-group) into int32 lanes. Signed levels and minimums are applied through Q8_K's
// 16-sums (bsums), one vpmaddwd per block; the scales stay integers until the block ends.
#include "kernels/x86_kquant.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/x86_kquant_scales.h"

#define EL_TARGET_KQ256 __attribute__((target("avx2,fma,f16c")))

namespace edgellm {
namespace {

EL_TARGET_KQ256 inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
// Σ over int32 lanes of scale·(u·x) for one 32-element run: s holds the 16-bit scale of each lane.
EL_TARGET_KQ256 inline __m256i scaled_dot(__m256i u, const int8_t* x, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, load256(x)), s);
}
// Bit `from` of every byte moved to bit `to`, other bits cleared (16-bit shifts keep the bit in its byte).
EL_TARGET_KQ256 inline __m256i move_bit(__m256i v, int from, int to) {
  const __m256i m = _mm256_set1_epi8(static_cast<char>(1 << to));
  if (from >= to) return _mm256_and_si256(_mm256_srli_epi16(v, from - to), m);
  return _mm256_and_si256(_mm256_slli_epi16(v, to - from), m);
}
// A pshufb control selecting word w in every word of the low lane and word w2 in the high lane.
EL_TARGET_KQ256 inline __m256i word_select(int w, int w2) {
  const int16_t lo = static_cast<int16_t>((2 * w) | ((2 * w + 1) << 8));
  const int16_t hi = static_cast<int16_t>((2 * w2) | ((2 * w2 + 1) << 8));
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(lo)), _mm_set1_epi16(hi), 1);
}
EL_TARGET_KQ256 inline float hsum_ps(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}
// The 16-bit block scales at p (d then dmin) as floats, times the activation scale.
EL_TARGET_KQ256 inline __m128 block_scales(const uint16_t* p, float dx) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof(bits));
  return _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(bits))), _mm_set1_ps(dx));
}
// Sixteen 16-bit group scales (16-groups) as two vectors with scales 0-7 / 8-15 in both 128-bit lanes.
struct LaneScales {
  __m256i lo, hi;
};
EL_TARGET_KQ256 inline LaneScales lane_scales(__m256i sc16) {
  return {_mm256_permute2x128_si256(sc16, sc16, 0x00), _mm256_permute2x128_si256(sc16, sc16, 0x11)};
}
// Scales of the 32-run r (0..7) of a 16-group block: group 2r in the low lane, 2r + 1 in the high lane.
EL_TARGET_KQ256 inline __m256i run_scales(const LaneScales& ls, int r) {
  const int g = (2 * r) % 8;
  return _mm256_shuffle_epi8(r < 4 ? ls.lo : ls.hi, word_select(g, g + 1));
}

// Q4_K (kFive = false) and Q5_K: qs[32c + l] holds element 64c + l (low nibble, group 2c) and 64c + 32 + l
// (high nibble, group 2c + 1); Q5_K's fifth bits are bits 2c / 2c + 1 of qh[l]. x = d·sc·u - dmin·m.
template <bool kFive, class Block>
EL_TARGET_KQ256 float dot_q45(int64_t n, const Block* a, const BlockQ8_K* b) {
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  // Each min twice (words 2g, 2g + 1 meet bsums 2g, 2g + 1): bytes 8..11 in the low lane, 12..15 high.
  const __m256i min_ctrl = _mm256_setr_epi8(8, -1, 8, -1, 9, -1, 9, -1, 10, -1, 10, -1, 11, -1, 11, -1, 12, -1, 12, -1,
                                            13, -1, 13, -1, 14, -1, 14, -1, 15, -1, 15, -1);
  __m256 acc_q = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m128i bytes = x86kq::scales_mins_k4(a[i].scales);  // scales 0-7, mins 0-7
    const __m256i both = _mm256_broadcastsi128_si256(bytes);
    const __m256i mins = _mm256_madd_epi16(load256(b[i].bsums), _mm256_shuffle_epi8(both, min_ctrl));
    const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(bytes));  // scales 0-7 in each lane
    __m256i qh;
    if constexpr (kFive) qh = load256(a[i].qh);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = load256(a[i].qs + 32 * c);
      __m256i lo = _mm256_and_si256(raw, low4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      if constexpr (kFive) {
        lo = _mm256_or_si256(lo, move_bit(qh, 2 * c, 4));
        hi = _mm256_or_si256(hi, move_bit(qh, 2 * c + 1, 4));
      }
      const int8_t* xq = b[i].qs + 64 * c;
      acc0 = _mm256_add_epi32(acc0, scaled_dot(lo, xq, _mm256_shuffle_epi8(sc, word_select(2 * c, 2 * c))));
      acc1 =
          _mm256_add_epi32(acc1, scaled_dot(hi, xq + 32, _mm256_shuffle_epi8(sc, word_select(2 * c + 1, 2 * c + 1))));
    }
    const __m128 s = block_scales(&a[i].d, b[i].d);  // d·dx, dmin·dx
    acc_q = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc0, acc1)), _mm256_broadcastss_ps(s), acc_q);
    acc_m = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_broadcastss_ps(_mm_movehdup_ps(s)), acc_m);
  }
  return hsum_ps(acc_q) - hsum_ps(acc_m);
}

EL_TARGET_KQ256 float vec_dot_q4_k(int64_t n, const void* w, const void* x) {
  return dot_q45<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(x));
}
EL_TARGET_KQ256 float vec_dot_q5_k(int64_t n, const void* w, const void* x) {
  return dot_q45<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(x));
}

// Q2_K (kThree = false) and Q3_K: bit pair j of qs[32h + l] is element 128h + 32j + l (run 4h + j). Q2_K:
// x = d·sc·u - dmin·m; Q3_K: x = d·sc·(u - 4), u's third bit being bit 4h + j of hmask[l].
template <bool kThree, class Block>
EL_TARGET_KQ256 float dot_q23(int64_t n, const Block* a, const BlockQ8_K* b) {
  const __m256i mask2 = _mm256_set1_epi8(3);
  __m256 acc_q = _mm256_setzero_ps(), acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m256i bsums = load256(b[i].bsums);
    __m256i sc16, offsets, hmask;
    if constexpr (kThree) {
      sc16 = _mm256_cvtepi8_epi16(x86kq::scales_q3(a[i].scales));
      offsets = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 2);  // 4·Σ sc·bsum
      hmask = load256(a[i].hmask);
    } else {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a[i].scales));
      const __m128i nib = _mm_set1_epi8(0x0F);
      sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(raw, nib));
      offsets = _mm256_madd_epi16(bsums, _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), nib)));
    }
    const LaneScales ls = lane_scales(sc16);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i raw = load256(a[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        __m256i u = _mm256_and_si256(_mm256_srli_epi16(raw, 2 * j), mask2);
        if constexpr (kThree) u = _mm256_or_si256(u, move_bit(hmask, 4 * h + j, 2));
        const int r = 4 * h + j;
        const __m256i d = scaled_dot(u, b[i].qs + 32 * r, run_scales(ls, r));
        if (j % 2 == 0) {
          acc0 = _mm256_add_epi32(acc0, d);
        } else {
          acc1 = _mm256_add_epi32(acc1, d);
        }
      }
    }
    __m256i acc = _mm256_add_epi32(acc0, acc1);
    if constexpr (kThree) {
      acc = _mm256_sub_epi32(acc, offsets);
      const __m128 s = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(a[i].d)), _mm_set1_ps(b[i].d));
      acc_q = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_broadcastss_ps(s), acc_q);
    } else {
      const __m128 s = block_scales(&a[i].d, b[i].d);  // d·dx, dmin·dx
      acc_q = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_broadcastss_ps(s), acc_q);
      acc_m = _mm256_fmadd_ps(_mm256_cvtepi32_ps(offsets), _mm256_broadcastss_ps(_mm_movehdup_ps(s)), acc_m);
    }
  }
  return hsum_ps(acc_q) - hsum_ps(acc_m);
}

EL_TARGET_KQ256 float vec_dot_q2_k(int64_t n, const void* w, const void* x) {
  return dot_q23<false>(n, static_cast<const BlockQ2_K*>(w), static_cast<const BlockQ8_K*>(x));
}
EL_TARGET_KQ256 float vec_dot_q3_k(int64_t n, const void* w, const void* x) {
  return dot_q23<true>(n, static_cast<const BlockQ3_K*>(w), static_cast<const BlockQ8_K*>(x));
}

// Q6_K: x = d·sc·(u - 32). In half h, ql[64h + l] holds elements 128h + l (low nibble) and 128h + 64 + l
// (high), ql[64h + 32 + l] elements 128h + 32 + l and 128h + 96 + l; bits 0-1 / 2-3 / 4-5 / 6-7 of
// qh[32h + l] are the top bits of the runs at 128h + 0 / 32 / 64 / 96.
EL_TARGET_KQ256 float vec_dot_q6_k(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const BlockQ6_K*>(w);
  const auto* b = static_cast<const BlockQ8_K*>(x);
  const __m256i low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
  __m256 acc_q = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[i].scales)));
    const __m256i offsets = _mm256_slli_epi32(_mm256_madd_epi16(load256(b[i].bsums), sc16), 5);  // 32·Σ sc·bsum
    const LaneScales ls = lane_scales(sc16);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i l0 = load256(a[i].ql + 64 * h), l1 = load256(a[i].ql + 64 * h + 32);
      const __m256i qh = load256(a[i].qh + 32 * h);
      // The masked bits 4-5 stay inside their byte under these 16-bit shifts.
      const __m256i u0 =
          _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
      const __m256i u1 =
          _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
      const __m256i u2 =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(qh, bits45));
      const __m256i u3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                         _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
      const int8_t* xq = b[i].qs + 128 * h;
      acc0 = _mm256_add_epi32(acc0, scaled_dot(u0, xq, run_scales(ls, 4 * h)));
      acc1 = _mm256_add_epi32(acc1, scaled_dot(u1, xq + 32, run_scales(ls, 4 * h + 1)));
      acc0 = _mm256_add_epi32(acc0, scaled_dot(u2, xq + 64, run_scales(ls, 4 * h + 2)));
      acc1 = _mm256_add_epi32(acc1, scaled_dot(u3, xq + 96, run_scales(ls, 4 * h + 3)));
    }
    const __m256i acc = _mm256_sub_epi32(_mm256_add_epi32(acc0, acc1), offsets);
    const __m128 s = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(a[i].d)), _mm_set1_ps(b[i].d));
    acc_q = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc), _mm256_broadcastss_ps(s), acc_q);
  }
  return hsum_ps(acc_q);
}

}  // namespace

VecDotFn x86_kquant_avx2_vec_dot(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::Q2_K:
      return &vec_dot_q2_k;
    case GgmlType::Q3_K:
      return &vec_dot_q3_k;
    case GgmlType::Q4_K:
      return &vec_dot_q4_k;
    case GgmlType::Q5_K:
      return &vec_dot_q5_k;
    case GgmlType::Q6_K:
      return &vec_dot_q6_k;
    default:
      return nullptr;
  }
}

}  // namespace edgellm

#else  // not x86-64

namespace edgellm {
VecDotFn x86_kquant_avx2_vec_dot(GgmlType) { return nullptr; }
}  // namespace edgellm

#endif
