// AVX-512 VNNI decode kernels for Q2_K..Q6_K × Q8_K (kernels/x86_kquant.h). Highway 1.0.3 has no int8
// dot product (only the int16 ReorderWidenMulAccumulate), so vpdpbusd means intrinsics, compiled per
// function for this target and chosen at run time.
//
// Scheme, per super-block of 256: the weights are unpacked to unsigned levels u (0..63) in 64-byte
// vectors whose byte order matches 64 consecutive activations, so one vpdpbusd against the Q8_K bytes
// gives 16 int32 lanes, each the sum of 4 products; every 128-bit lane then belongs to one 16-group (or
// two lanes to one 32-group). Two such vectors are narrowed with vpackssdw (|lane| <= 4·63·127 < 2^15,
// exact) and multiplied by the group scales with vpdpwssd, so the scales stay integers until the block
// ends. Signed levels (Q3_K: u - 4, Q6_K: u - 32) and minimums (Q2_K, Q4_K, Q5_K) are applied through
// Q8_K's stored 16-sums (bsums) with one vpmaddwd per block. Blocks are independent integer chains; only
// the float accumulators carry across blocks.
#include "kernels/x86_kquant.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers as maybe-uninitialized when intrinsics are inlined
// into target-attributed functions (and as uninitialized for _mm512_inserti64x4 / extract); the
// warnings say nothing about this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/x86_kquant_scales.h"

#define EL_TARGET_KQ512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c")))

namespace edgellm {
namespace {

// vpermw indices that spread 16-bit scales over two packed dpbusd results (see pair_index).
struct alignas(64) WordIndex {
  int16_t v[32];
};

// After vpackssdw(p, q), 128-bit lane k holds 4 words of p's lane k then 4 of q's. p's lane k belongs to
// scale first_p + k / lanes_per_group, q's to first_q + k / lanes_per_group.
constexpr WordIndex pair_index(int first_p, int first_q, int lanes_per_group) {
  WordIndex r{};
  for (int k = 0; k < 4; ++k) {
    for (int w = 0; w < 4; ++w) {
      r.v[8 * k + w] = static_cast<int16_t>(first_p + k / lanes_per_group);
      r.v[8 * k + 4 + w] = static_cast<int16_t>(first_q + k / lanes_per_group);
    }
  }
  return r;
}
// 32-groups (Q4_K, Q5_K): a 64-byte chunk c spans groups 2c (lanes 0-1) and 2c + 1 (lanes 2-3).
constexpr WordIndex kGroup32Pairs[2] = {pair_index(0, 2, 2), pair_index(4, 6, 2)};
// 16-groups (Q2_K, Q3_K, Q6_K): chunk t's lane k is group 4t + k.
constexpr WordIndex kGroup16Pairs[2] = {pair_index(0, 4, 1), pair_index(8, 12, 1)};
// Word g of a mins vector (words 8..15 of the unpacked scales) duplicated into words 2g and 2g + 1.
constexpr WordIndex kMinPairs = [] {
  WordIndex r{};
  for (int w = 0; w < 16; ++w) r.v[w] = static_cast<int16_t>(8 + w / 2);
  return r;
}();

// Vector constants as 64-byte tables: a load (or a memory operand) per call instead of a broadcast and an
// insert for each, which matters for 2048-column rows of only 8 blocks.
struct alignas(64) Bytes64 {
  uint8_t b[64];
};
// 16-bit lanes a in the low 256 bits and b in the high 256 bits (shift counts).
constexpr Bytes64 halves16(int a, int b) {
  Bytes64 r{};
  for (int i = 0; i < 32; i += 2) {
    r.b[i] = static_cast<uint8_t>(a);
    r.b[32 + i] = static_cast<uint8_t>(b);
  }
  return r;
}
// Bytes with bit k set in the low 256 bits and bit k + 1 in the high 256 bits, for k = 0..6.
constexpr Bytes64 bit_pair(int k) {
  Bytes64 r{};
  for (int i = 0; i < 32; ++i) {
    r.b[i] = static_cast<uint8_t>(1 << k);
    r.b[32 + i] = static_cast<uint8_t>(1 << (k + 1));
  }
  return r;
}
constexpr Bytes64 kBitPair[7] = {bit_pair(0), bit_pair(1), bit_pair(2), bit_pair(3),
                                 bit_pair(4), bit_pair(5), bit_pair(6)};
constexpr Bytes64 kNibbleShift = halves16(0, 4);                           // Q4_K/Q5_K: low, high nibble
constexpr Bytes64 kPairShift[2] = {halves16(0, 2), halves16(4, 6)};        // Q2_K/Q3_K: bit pairs
constexpr Bytes64 kUpShift = halves16(4, 2), kDownShift = halves16(0, 2);  // Q6_K: top bits to bits 4-5
EL_TARGET_KQ512 inline __m512i load(const Bytes64& v) { return _mm512_load_si512(v.b); }
// 32 bytes at p in both halves.
EL_TARGET_KQ512 inline __m512i broadcast32(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// Σ of 4 u·x products per int32 lane, from zero.
EL_TARGET_KQ512 inline __m512i dot4(__m512i u, const int8_t* x) {
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, _mm512_loadu_si512(x));
}
// acc + Σ over the scaled lanes of two dot4 results (the narrowing is exact, see the header comment).
EL_TARGET_KQ512 inline __m512i scale_pair(__m512i acc, __m512i p, __m512i q, const WordIndex& idx, __m512i scales) {
  const __m512i s = _mm512_permutexvar_epi16(_mm512_load_si512(idx.v), scales);
  return _mm512_dpwssd_epi32(acc, _mm512_packs_epi32(p, q), s);
}
// The 16-bit block scales stored at p (d then dmin, or d alone) as floats, times the activation scale.
EL_TARGET_KQ512 inline __m128 block_scales(const uint16_t* p, float dx) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof(bits));
  return _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(bits))), _mm_set1_ps(dx));
}
EL_TARGET_KQ512 inline float hsum256(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

// Q4_K (kFive = false) and Q5_K: chunk c is qs[32c..32c+32) with its low nibbles in the low half (elements
// 64c..64c+31, group 2c) and high nibbles in the high half (group 2c + 1); Q5_K's fifth bit is bit 2c / 2c+1
// of qh[l]. x = d·sc·u - dmin·m.
template <bool kFive, class Block>
EL_TARGET_KQ512 float dot_q45(int64_t n, const Block* a, const BlockQ8_K* b) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16);
  const __m512i nibble_shift = load(kNibbleShift);
  const __m256i min_idx = _mm256_load_si256(reinterpret_cast<const __m256i*>(kMinPairs.v));
  __m512 acc_q = _mm512_setzero_ps();
  __m256 acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m128i bytes = x86kq::scales_mins_k4(a[i].scales);  // scales 0-7, mins 0-7
    const __m256i sc16 = _mm256_cvtepu8_epi16(bytes);          // scales 0-7, mins 0-7
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].bsums));
    const __m256i mins = _mm256_madd_epi16(bsums, _mm256_permutexvar_epi16(min_idx, sc16));
    const __m512i scales = _mm512_zextsi256_si512(sc16);
    __m512i qh;
    if constexpr (kFive) qh = broadcast32(a[i].qh);
    __m512i p[4];
    for (int c = 0; c < 4; ++c) {
      __m512i u = _mm512_and_si512(_mm512_srlv_epi16(broadcast32(a[i].qs + 32 * c), nibble_shift), low4);
      if constexpr (kFive) {
        const __mmask64 high = _mm512_test_epi8_mask(qh, load(kBitPair[2 * c]));
        u = _mm512_mask_add_epi8(u, high, u, sixteen);
      }
      p[c] = dot4(u, b[i].qs + 64 * c);
    }
    __m512i acc = scale_pair(_mm512_setzero_si512(), p[0], p[1], kGroup32Pairs[0], scales);
    acc = scale_pair(acc, p[2], p[3], kGroup32Pairs[1], scales);
    const __m128 s = block_scales(&a[i].d, b[i].d);  // d·dx, dmin·dx
    acc_q = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_broadcastss_ps(s), acc_q);
    acc_m = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_broadcastss_ps(_mm_movehdup_ps(s)), acc_m);
  }
  return _mm512_reduce_add_ps(acc_q) - hsum256(acc_m);
}

EL_TARGET_KQ512 float vec_dot_q4_k(int64_t n, const void* w, const void* x) {
  return dot_q45<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(x));
}
EL_TARGET_KQ512 float vec_dot_q5_k(int64_t n, const void* w, const void* x) {
  return dot_q45<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(x));
}

// Q2_K (kThree = false) and Q3_K: chunk t = 2h + j covers elements 64t.. of half h, the bit pairs 2j (low
// half) and 2j + 1 (high half) of qs[32h..32h+32). Q2_K: x = d·sc·u - dmin·m with 4-bit sc / m; Q3_K:
// x = d·sc·(u - 4) with the third bit of u from hmask (bit 4h + 2j / 4h + 2j + 1).
template <bool kThree, class Block>
EL_TARGET_KQ512 float dot_q23(int64_t n, const Block* a, const BlockQ8_K* b) {
  const __m512i mask2 = _mm512_set1_epi8(3), four = _mm512_set1_epi8(4);
  const __m512i pair_shift[2] = {load(kPairShift[0]), load(kPairShift[1])};
  __m512 acc_q = _mm512_setzero_ps();
  __m256 acc_m = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].bsums));
    __m256i sc16, offsets;
    __m512i hmask;
    if constexpr (kThree) {
      sc16 = _mm256_cvtepi8_epi16(x86kq::scales_q3(a[i].scales));
      offsets = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 2);  // 4·Σ sc·bsum
      hmask = broadcast32(a[i].hmask);
    } else {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a[i].scales));
      const __m128i nib = _mm_set1_epi8(0x0F);
      sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(raw, nib));
      offsets = _mm256_madd_epi16(bsums, _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(raw, 4), nib)));
    }
    const __m512i scales = _mm512_zextsi256_si512(sc16);
    __m512i p[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i raw = broadcast32(a[i].qs + 32 * h);
      for (int j = 0; j < 2; ++j) {
        __m512i u = _mm512_and_si512(_mm512_srlv_epi16(raw, pair_shift[j]), mask2);
        if constexpr (kThree) {
          const __mmask64 high = _mm512_test_epi8_mask(hmask, load(kBitPair[4 * h + 2 * j]));
          u = _mm512_mask_add_epi8(u, high, u, four);
        }
        p[2 * h + j] = dot4(u, b[i].qs + 128 * h + 64 * j);
      }
    }
    __m512i acc = scale_pair(_mm512_setzero_si512(), p[0], p[1], kGroup16Pairs[0], scales);
    acc = scale_pair(acc, p[2], p[3], kGroup16Pairs[1], scales);
    if constexpr (kThree) {
      acc = _mm512_sub_epi32(acc, _mm512_zextsi256_si512(offsets));
      const __m128 s = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(a[i].d)), _mm_set1_ps(b[i].d));
      acc_q = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_broadcastss_ps(s), acc_q);
    } else {
      const __m128 s = block_scales(&a[i].d, b[i].d);  // d·dx, dmin·dx
      acc_q = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_broadcastss_ps(s), acc_q);
      acc_m = _mm256_fmadd_ps(_mm256_cvtepi32_ps(offsets), _mm256_broadcastss_ps(_mm_movehdup_ps(s)), acc_m);
    }
  }
  return _mm512_reduce_add_ps(acc_q) - hsum256(acc_m);
}

EL_TARGET_KQ512 float vec_dot_q2_k(int64_t n, const void* w, const void* x) {
  return dot_q23<false>(n, static_cast<const BlockQ2_K*>(w), static_cast<const BlockQ8_K*>(x));
}
EL_TARGET_KQ512 float vec_dot_q3_k(int64_t n, const void* w, const void* x) {
  return dot_q23<true>(n, static_cast<const BlockQ3_K*>(w), static_cast<const BlockQ8_K*>(x));
}

// Q6_K: x = d·sc·(u - 32). In half h, the 64 bytes ql[64h..) hold elements 128h + [0, 64) in their low
// nibbles (ql[64h + l]: element 128h + l, ql[64h + 32 + l]: 128h + 32 + l) and 128h + [64, 128) in their
// high nibbles; the top bits come from qh[32h + l], bits 0-1 / 2-3 / 4-5 / 6-7 for the four 32-runs.
EL_TARGET_KQ512 float vec_dot_q6_k(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const BlockQ6_K*>(w);
  const auto* b = static_cast<const BlockQ8_K*>(x);
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  const __m512i up_shift = load(kUpShift), down_shift = load(kDownShift);
  __m512 acc_q = _mm512_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a[i].scales)));
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].bsums));
    const __m256i offsets = _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5);  // 32·Σ sc·bsum
    const __m512i scales = _mm512_zextsi256_si512(sc16);
    __m512i p[4];
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(a[i].ql + 64 * h);
      const __m512i qh = broadcast32(a[i].qh + 32 * h);
      // Bits 4-5 of each byte: the top bits of the element in that byte (the shifts stay inside bytes
      // for the masked bits). (A & C) | B with A the nibbles, B the top bits, C = 0x0F is ternlog 0xEC.
      const __m512i top0 = _mm512_and_si512(_mm512_sllv_epi16(qh, up_shift), bits45);
      const __m512i top1 = _mm512_and_si512(_mm512_srlv_epi16(qh, down_shift), bits45);
      const __m512i u0 = _mm512_ternarylogic_epi32(ql, top0, low4, 0xEC);
      const __m512i u1 = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), top1, low4, 0xEC);
      p[2 * h] = dot4(u0, b[i].qs + 128 * h);
      p[2 * h + 1] = dot4(u1, b[i].qs + 128 * h + 64);
    }
    __m512i acc = scale_pair(_mm512_setzero_si512(), p[0], p[1], kGroup16Pairs[0], scales);
    acc = scale_pair(acc, p[2], p[3], kGroup16Pairs[1], scales);
    acc = _mm512_sub_epi32(acc, _mm512_zextsi256_si512(offsets));
    const __m128 s = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(a[i].d)), _mm_set1_ps(b[i].d));
    acc_q = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_broadcastss_ps(s), acc_q);
  }
  return _mm512_reduce_add_ps(acc_q);
}

}  // namespace

VecDotFn x86_kquant_avx512_vec_dot(GgmlType weight_type) {
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
VecDotFn x86_kquant_avx512_vec_dot(GgmlType) { return nullptr; }
}  // namespace edgellm

#endif
