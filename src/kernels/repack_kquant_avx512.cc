// AVX-512 VNNI decode kernels over the k-quant tiles of kernels/repack_kquant.h (layouts there). Highway
// 1.0.3 has no int8 dot product (only the int16 ReorderWidenMulAccumulate) and no gf2p8affineqb, so this is
// intrinsics, compiled per function for the target and chosen at run time (repack_isa_supported).
//
// Per 4 columns of a tile's 16 rows: one 64-byte step vector of unsigned levels, one 4-byte activation
// broadcast (an embedded {1to16} memory operand) and one vpdpbusd; the 16 int32 lanes are the 16 rows, so
// there are no horizontal sums. Each sub-block's integer sum is multiplied by the rows' sub-block scales
// (vpmulld) into the super-block's exact integer sum, as the scalar vec_dot computes it; per super-block
// that sum is converted once and scaled by d·dx (fma). Q4_K/Q5_K minimums come from the activation
// sub-block sums by four vpdpwssd per super-block; Q6_K's −32 offset is each sub-block sum's initial value.
// Up to kMaxTokens tokens share one decode of the weights.
//
// What limits them from DRAM (session 5, one thread): not the instructions. Per 64-byte line Q4_K runs ~7
// instructions (load, and, gf2p8affineqb, two vpdpbusd, prefetch, plus its share of the per-sub-block vpmulld
// and per-super-block scale, minimum and fma work), Q6_K ~6; from L2 (bench Hot/) they run at 111 and 124 GB/s,
// 2.6-2.9x the ~42 GB/s one core streams, so at DRAM speed the core idles ~60 % of the time. At 8192x2048,
// 2048x8192 and 32000x2048 they read 0.94-0.98 (Q4_K) and 0.96-0.99 (Q6_K) of the same-process stream read;
// 2048x2048 reads ~0.85-0.89 because a 2.4 MB matrix is below AlignedBuffer's huge-page threshold (4 MiB): on
// 4 KiB pages the hardware prefetchers stop at every page (the same Q4_0 matrix read 0.84 -> 0.92-0.96 with the
// threshold at 1 MiB in a bench build). Q4_K's prefetch: T0 8 KB, NTA 8 KB (kept), T0 6 and 12 KB, NTA 4 and
// 12 KB interleaved pass by pass in one process (three runs, medians of 4 passes): in no run did one beat NTA
// 8 KB at more than two of the four 1B shapes (this shared machine's noise is ±0.05 of the stream).
#include "kernels/repack_kquant.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers as maybe-uninitialized when intrinsics are inlined into
// target-attributed functions; the warnings say nothing about this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/blocks.h"

#define EL_TARGET_RKQ __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,gfni,fma,f16c")))

namespace edgellm::repack_kq {
namespace {

// gf2p8affineqb bit matrices (byte 7 − i of the qword selects the input bits of output bit i).
constexpr int64_t gf_move(int from0, int to0, int n) {
  uint64_t m = 0;
  for (int k = 0; k < n; ++k) m |= uint64_t{1} << (from0 + k) << (8 * (7 - (to0 + k)));
  return static_cast<int64_t>(m);
}
constexpr int64_t kHighNibble = gf_move(4, 0, 4);  // bits 4-7 → 0-3

// pshufb indices moving byte k of each dword to its low byte (zero-extended).
struct alignas(64) Bytes64 {
  uint8_t b[64];
};
constexpr Bytes64 byte_of_dword(int k) {
  Bytes64 r{};
  for (int i = 0; i < 64; ++i) r.b[i] = i % 4 == 0 ? static_cast<uint8_t>((i % 16) + k) : 0x80;
  return r;
}
constexpr Bytes64 kByteOfDword[4] = {byte_of_dword(0), byte_of_dword(1), byte_of_dword(2), byte_of_dword(3)};

EL_TARGET_RKQ inline __m512i load(const uint8_t* p) { return _mm512_load_si512(p); }
EL_TARGET_RKQ inline __m512i bcast32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}
EL_TARGET_RKQ inline __m512 bcast_ps(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_ps(v);
}
// (a & c) | b, bitwise (vpternlogd).
EL_TARGET_RKQ inline __m512i and_or(__m512i a, __m512i b, __m512i c) {
  return _mm512_ternarylogic_epi32(a, b, c, 0xEC);
}
EL_TARGET_RKQ inline __m512i or3(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi32(a, b, c, 0xFE); }
// Sub-block j's 6-bit scale of every row as int32 lanes, from the unpacked bytes (sc0-3 / sc4-7 per dword).
EL_TARGET_RKQ inline __m512i scale_of(__m512i lo, __m512i hi, int j) {
  return _mm512_shuffle_epi8(j < 4 ? lo : hi, _mm512_load_si512(kByteOfDword[j % 4].b));
}

// Q4_K/Q5_K's packed scales of 16 rows → per dword lane (row) the bytes sc0-3, sc4-7, m0-3, m4-7.
struct ScalesMins {
  __m512i sc_lo, sc_hi, m_lo, m_hi;
};
EL_TARGET_RKQ inline ScalesMins unpack_scales(const uint8_t* p) {
  const __m512i a = load(p), b = load(p + 64), c = load(p + 128);
  const __m512i six = _mm512_set1_epi8(0x3F), four = _mm512_set1_epi8(0x0F), top = _mm512_set1_epi8(0x30);
  ScalesMins s;
  s.sc_lo = _mm512_and_si512(a, six);
  s.m_lo = _mm512_and_si512(b, six);
  // The 16-bit shifts pull neighbour bits into each byte; the masks keep only the byte's own.
  s.sc_hi = and_or(c, _mm512_and_si512(_mm512_srli_epi16(a, 2), top), four);
  s.m_hi = and_or(_mm512_srli_epi16(c, 4), _mm512_and_si512(_mm512_srli_epi16(b, 2), top), four);
  return s;
}

// Σ_j m_j·S_j per row: minimum words (m0, m2), (m1, m3), (m4, m6), (m5, m7) against the token's sum pairs.
EL_TARGET_RKQ inline __m512i min_term(const ScalesMins& s, const uint8_t* pairs) {
  const __m512i low_byte = _mm512_set1_epi16(0x00FF);
  __m512i r = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_and_si512(s.m_lo, low_byte), bcast32(pairs));
  r = _mm512_dpwssd_epi32(r, _mm512_srli_epi16(s.m_lo, 8), bcast32(pairs + 4));
  r = _mm512_dpwssd_epi32(r, _mm512_and_si512(s.m_hi, low_byte), bcast32(pairs + 8));
  return _mm512_dpwssd_epi32(r, _mm512_srli_epi16(s.m_hi, 8), bcast32(pairs + 12));
}

// Software prefetch, one request per 64-byte line of the record being decoded, a fixed distance ahead, issued
// at the step that reads the line (Zen 5's hardware prefetchers alone leave these kernels at ~12-27 GB/s from
// DRAM on one core). An asm statement rather than _mm_prefetch: GCC hoists the prefetches of a fully unrolled
// super-block to its top, and 36-48 requests in one burst read slower than one per step. Measured against the
// stream read of the same process (Zen 5, one thread; 8192x2048, 2048x8192, 14336x4096), from 8 KB ahead in
// bursts (Q4_K 0.81-0.90 of the stream, Q5_K 0.75-0.78, Q6_K 0.92-0.96) to Q4_K 0.89-0.97 and Q5_K 0.89-0.96
// with prefetchnta 8 KB ahead, Q6_K 0.93-0.99 with T0 6 KB ahead. NTA (lines into L1 without displacing L2/L3)
// and T0, and 6 against 8 KB, differ by less than the noise of this shared machine (±0.03-0.05).
constexpr int64_t kQ45Ahead = 8192, kQ6Ahead = 6144;
template <int64_t kAhead, bool kNta>
inline void prefetch_line(const uint8_t* p) {
  if constexpr (kNta)
    asm volatile("prefetchnta %0" : : "m"(*(p + kAhead)));
  else
    asm volatile("prefetcht0 %0" : : "m"(*(p + kAhead)));
}
// Rows of tile `tile` that exist (the rest are padding and are not written).
inline __mmask16 row_mask(const RepackedWeight& w, int64_t tile) {
  const int64_t n = std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows);
  return static_cast<__mmask16>((1u << n) - 1);
}

// Q4_K (kFive = false) and Q5_K, T tokens.
template <int T, bool kFive>
EL_TARGET_RKQ void q45_tiles(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                             size_t act_stride, float* y, int64_t y_stride) {
  const int64_t blocks = w.cols / kQK_K;
  const size_t record = kFive ? kQ5Record : kQ4Record;
  const __m512i low4 = _mm512_set1_epi8(0x0F), high_nibble = _mm512_set1_epi64(kHighNibble);
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const uint8_t* rec = w.tile(tile);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < blocks; ++i, rec += record) {
      const uint8_t* x[T];
      for (int t = 0; t < T; ++t) x[t] = acts + t * act_stride + i * kQ45Act;
      const ScalesMins sm = unpack_scales(rec + kScalesAt);
      __m512i isum[T];
      for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const uint8_t* q = rec + kQ45LevelsAt + (kFive ? kQ5SubBlock : kQ4SubBlock) * j;
        __m512i h;
        if constexpr (kFive) h = load(q + kQ5HighIn);
        __m512i a0[T], a1[T];
        for (int t = 0; t < T; ++t) a0[t] = a1[t] = _mm512_setzero_si512();
        for (int s = 0; s < 4; ++s) {
          // This step's line of levels; the first steps of sub-blocks 0-3 also take the record's 4 head lines
          // (scales), Q5_K's first step its fifth-bit line.
          prefetch_line<kQ45Ahead, true>(q + 64 * s);
          if (s == 0 && j < 4) prefetch_line<kQ45Ahead, true>(rec + 64 * j);
          if (kFive && s == 1) prefetch_line<kQ45Ahead, true>(q + kQ5HighIn);
          const __m512i v = load(q + 64 * s);
          __m512i lo, hi;
          if constexpr (kFive) {
            // Bit s (s + 4) of h is the fifth bit of the low (high) nibble's level: to bit 4.
            lo = and_or(v, _mm512_gf2p8affine_epi64_epi8(h, _mm512_set1_epi64(gf_move(s, 4, 1)), 0), low4);
            hi = _mm512_or_si512(_mm512_gf2p8affine_epi64_epi8(v, high_nibble, 0),
                                 _mm512_gf2p8affine_epi64_epi8(h, _mm512_set1_epi64(gf_move(s + 4, 4, 1)), 0));
          } else {
            lo = _mm512_and_si512(v, low4);
            hi = _mm512_gf2p8affine_epi64_epi8(v, high_nibble, 0);
          }
          for (int t = 0; t < T; ++t) {
            a0[t] = _mm512_dpbusd_epi32(a0[t], lo, bcast32(x[t] + 32 * j + 4 * s));
            a1[t] = _mm512_dpbusd_epi32(a1[t], hi, bcast32(x[t] + 32 * j + 16 + 4 * s));
          }
        }
        const __m512i sc = scale_of(sm.sc_lo, sm.sc_hi, j);
        for (int t = 0; t < T; ++t)
          isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(_mm512_add_epi32(a0[t], a1[t]), sc));
      }
      const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(rec)));
      const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(rec + 32)));
      for (int t = 0; t < T; ++t) {
        const __m512 dx = bcast_ps(x[t] + kQ45ActDAt);
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, dx), acc[t]);
        acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(min_term(sm, x[t] + kActMinsAt)), _mm512_mul_ps(dmin, dx), acc[t]);
      }
    }
    const __mmask16 m = row_mask(w, tile);
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + tile * kRepackRows, m, acc[t]);
  }
}

// Q6_K, T tokens.
template <int T>
EL_TARGET_RKQ void q6_tiles(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                            size_t act_stride, float* y, int64_t y_stride) {
  const int64_t blocks = w.cols / kQK_K;
  const __m512i six = _mm512_set1_epi8(0x3F);
  const __m512i top0 = _mm512_set1_epi64(gf_move(6, 0, 2)), top1 = _mm512_set1_epi64(gf_move(6, 2, 2)),
                top2 = _mm512_set1_epi64(gf_move(6, 4, 2));
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const uint8_t* rec = w.tile(tile);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < blocks; ++i, rec += kQ6Record) {
      const uint8_t* x[T];
      for (int t = 0; t < T; ++t) x[t] = acts + t * act_stride + i * kQ6Act;
      __m512i isum[T];
      for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
      for (int c = 0; c < 4; ++c) {
        const uint8_t* q = rec + kQ6LevelsAt + 768 * c;
        __m512i a[4][T];
        for (int k = 0; k < 4; ++k)
          for (int t = 0; t < T; ++t) a[k][t] = bcast32(x[t] + kQ6ActInitAt + 4 * (4 * c + k));
        for (int s = 0; s < 4; ++s) {
          // This step's 3 lines of levels; the head's 5 lines (d, scales) at the first steps of the chunks.
          for (int k = 0; k < 3; ++k) prefetch_line<kQ6Ahead, false>(q + 192 * s + 64 * k);
          if (s == 0) prefetch_line<kQ6Ahead, false>(rec + kQ6ScalesAt + 64 * c);
          if (s == 1 && c == 0) prefetch_line<kQ6Ahead, false>(rec);
          const __m512i v0 = load(q + 192 * s), v1 = load(q + 192 * s + 64), v2 = load(q + 192 * s + 128);
          const __m512i u[4] = {
              _mm512_and_si512(v0, six), _mm512_and_si512(v1, six), _mm512_and_si512(v2, six),
              or3(_mm512_gf2p8affine_epi64_epi8(v0, top0, 0), _mm512_gf2p8affine_epi64_epi8(v1, top1, 0),
                  _mm512_gf2p8affine_epi64_epi8(v2, top2, 0))};
          for (int k = 0; k < 4; ++k)
            for (int t = 0; t < T; ++t)
              a[k][t] = _mm512_dpbusd_epi32(a[k][t], u[k], bcast32(x[t] + 64 * c + 16 * k + 4 * s));
        }
        for (int k = 0; k < 4; ++k) {
          const __m512i sc = _mm512_cvtepi8_epi32(
              _mm_load_si128(reinterpret_cast<const __m128i*>(rec + kQ6ScalesAt + 16 * (4 * c + k))));
          for (int t = 0; t < T; ++t) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(a[k][t], sc));
        }
      }
      const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(rec)));
      for (int t = 0; t < T; ++t)
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, bcast_ps(x[t] + kQ6ActDAt)), acc[t]);
    }
    const __mmask16 m = row_mask(w, tile);
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + tile * kRepackRows, m, acc[t]);
  }
}

// n_tokens (1..kMaxTokens) → the kernel instance for that many tokens.
template <template <int> class K>
void dispatch(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n_tokens, float* y,
              int64_t ys) {
  static_assert(kMaxTokens == 4, "one instance per token count");
  switch (n_tokens) {
    case 1:
      return K<1>::run(w, b, e, acts, as, y, ys);
    case 2:
      return K<2>::run(w, b, e, acts, as, y, ys);
    case 3:
      return K<3>::run(w, b, e, acts, as, y, ys);
    default:
      return K<4>::run(w, b, e, acts, as, y, ys);
  }
}
template <int T>
struct Q4 {
  static void run(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* a, size_t as, float* y, int64_t ys) {
    q45_tiles<T, false>(w, b, e, a, as, y, ys);
  }
};
template <int T>
struct Q5 {
  static void run(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* a, size_t as, float* y, int64_t ys) {
    q45_tiles<T, true>(w, b, e, a, as, y, ys);
  }
};
template <int T>
struct Q6 {
  static void run(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* a, size_t as, float* y, int64_t ys) {
    q6_tiles<T>(w, b, e, a, as, y, ys);
  }
};

}  // namespace

void gemv_q4_k_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  dispatch<Q4>(w, tile_begin, tile_end, acts, act_stride, n_tokens, y, y_stride);
}
void gemv_q5_k_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  dispatch<Q5>(w, tile_begin, tile_end, acts, act_stride, n_tokens, y, y_stride);
}
void gemv_q6_k_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  dispatch<Q6>(w, tile_begin, tile_end, acts, act_stride, n_tokens, y, y_stride);
}

}  // namespace edgellm::repack_kq

#endif  // __x86_64__
