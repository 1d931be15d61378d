// AVX-512 VNNI decode kernel of the ternary repack family (layouts in kernels/repack_ternary.h). Highway 1.0.3
// has no int8 dot product (only int16 ReorderWidenMulAccumulate), so this is intrinsics compiled per function
// for the VNNI target, chosen at run time through repack_isa_supported.
//
// TQ2_0, per 256-column block and 16 rows: 16 loads of 64 bytes, 4 ANDs each (no shifts: crumb l is left
// multiplied by 4^l and its own accumulator undoes that with one exact shift per block), one vpdpbusd per crumb
// and token with a 4-byte activation broadcast, then per token one convert and one fma with the 16 row scales
// times the token's scale: ~0.05 instructions per weight for one token.
// TQ1_0: 13 loads, per 64 bytes a 256-entry table lookup (digits 0..3 as crumbs), a 64-entry one (digit 4 of the
// recoded bytes), 4 ANDs and the same vpdpbusd: ~0.05 instructions per weight.
#include "kernels/repack_ternary.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers as maybe-uninitialized once inlined into target functions.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define EL_TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,f16c")))

namespace edgellm {
namespace {

// Software prefetch on the code stream, one request per 64-byte line kAhead bytes ahead of the line being read
// (past a tile's end it reads into the next tile, past the matrix it is a harmless hint), plus the scale line of
// the next pair. An asm statement rather than _mm_prefetch, which GCC hoists to the top of the unrolled block
// (one burst of 13-16 requests reads slower than one per step). 8 KB measured best of 4-12 KB for TQ2_0; one
// thread from DRAM as a fraction of the stream read of the same process (8192x2048, 2048x8192, 14336x4096):
// TQ2_0 0.91 -> 0.98-1.0, TQ1_0 0.90-0.96 -> 0.84-0.97 (bound by its table lookups: ~48 GB/s in L2). Session 6,
// TQ1_0 after the recoding (~53 GB/s in L2): 4, 12 and 16 KB no better than 8 KB; it reads ~1.0 of the stream
// when the machine's bandwidth is down to 35-39 GB/s and 0.84-0.93 at 46-48 GB/s (instruction-bound there).
constexpr int64_t kTq2Ahead = 8192, kTq1Ahead = 8192;
template <int64_t kAhead>
inline void prefetch_line(const uint8_t* p) {
  if constexpr (kAhead > 0) asm volatile("prefetcht0 %0" : : "m"(*(p + kAhead)));
}

inline int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// acc += Σ of 4 products per int32 lane of the unsigned codes w and the activation bytes at p, broadcast to every
// lane: vpdpbusd with an embedded {1to16} broadcast from memory, one fused instruction. GCC 12 keeps
// _mm512_dpbusd_epi32(acc, w, _mm512_set1_epi32(load)) as a separate vpbroadcastd, and the TQ1_0 kernel's
// ~28 instructions per 64 bytes of codes were what held it below the stream rate (front-end bound, 5 of them
// broadcasts).
EL_TARGET_VNNI inline __m512i dpbusd_bcast(__m512i acc, __m512i w, const uint8_t* p) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*reinterpret_cast<const int32_t*>(p)));
  return acc;
}

// One tile, T tokens: y[t * y_stride + r] for the rows in mask m.
template <int T, int64_t kAhead>
EL_TARGET_VNNI void tile_tokens(const uint8_t* tile, int64_t nb, const uint8_t* acts, size_t act_stride, float* y,
                                int64_t y_stride, __mmask16 m) {
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C), m2 = _mm512_set1_epi8(0x30),
                m3 = _mm512_set1_epi8(static_cast<char>(0xC0));
  __m512 sum[T];
  for (int t = 0; t < T; ++t) sum[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* lev = tile + tern_levels_at(b, kTq2TileBlockBytes);
    const uint8_t* x[T];
    __m512i a0[T], a1[T], a2[T], a3[T];
    for (int t = 0; t < T; ++t) {
      const uint8_t* at = acts + static_cast<size_t>(t) * act_stride;
      x[t] = at + 256 * b;
      a0[t] = _mm512_set1_epi32(load_i32(at + 260 * nb + 4 * b));
      a1[t] = a2[t] = a3[t] = _mm512_setzero_si512();
    }
    if (b % 2 == 0) prefetch_line<kAhead>(lev - 64);  // the pair's scales
#pragma GCC unroll 16
    for (int v = 0; v < 16; ++v) {
      prefetch_line<kAhead>(lev + 64 * v);
      const __m512i w = _mm512_load_si512(lev + 64 * v);
      const __m512i w0 = _mm512_and_si512(w, m0), w1 = _mm512_and_si512(w, m1), w2 = _mm512_and_si512(w, m2),
                    w3 = _mm512_and_si512(w, m3);
      for (int t = 0; t < T; ++t) {
        const uint8_t* xv = x[t] + 4 * v;
        a0[t] = _mm512_dpbusd_epi32(a0[t], w0, _mm512_set1_epi32(load_i32(xv)));
        a1[t] = _mm512_dpbusd_epi32(a1[t], w1, _mm512_set1_epi32(load_i32(xv + 64)));
        a2[t] = _mm512_dpbusd_epi32(a2[t], w2, _mm512_set1_epi32(load_i32(xv + 128)));
        a3[t] = _mm512_dpbusd_epi32(a3[t], w3, _mm512_set1_epi32(load_i32(xv + 192)));
      }
    }
    const __m512 ws = _mm512_cvtph_ps(
        _mm256_load_si256(reinterpret_cast<const __m256i*>(tile + tern_scales_at(b, kTq2TileBlockBytes))));
    for (int t = 0; t < T; ++t) {
      const __m512i i = _mm512_add_epi32(_mm512_add_epi32(a0[t], _mm512_srai_epi32(a1[t], 2)),
                                         _mm512_add_epi32(_mm512_srai_epi32(a2[t], 4), _mm512_srai_epi32(a3[t], 6)));
      float d;
      std::memcpy(&d, acts + static_cast<size_t>(t) * act_stride + 256 * nb + 4 * b, 4);
      sum[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(ws, _mm512_set1_ps(d)), sum[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride, m, sum[t]);
}

template <int T, int64_t kAhead>
EL_TARGET_VNNI void run(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                        size_t act_stride, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 256;
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const int64_t n = std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows);
    const auto m = static_cast<__mmask16>((1u << n) - 1);
    tile_tokens<T, kAhead>(w.tile(tile), nb, acts, act_stride, y + tile * kRepackRows, y_stride, m);
  }
}

// Digits of a TQ1_0 tile byte e (recoded at pack time, kernels/repack_ternary.h): a 256-entry table of digits
// 0..3 packed as crumbs (digit l in bits 2l..2l+1, split like TQ2_0's codes: AND masks, crumb l scaled by 4^l),
// looked up as two 128-entry vpermi2b halves and a blend on bit 7, and a 64-entry table of digit 4, which the
// recoding made a function of bits 0-5: one vpermb. Per 64 bytes 3 permutes and a blend where ggml's bytes took
// 4 and 2 (from L2, 1024x2048, one thread: 43 -> 52 GB/s).
struct TritTables {
  alignas(64) uint8_t packed[256];  // digits 0..3
  alignas(64) uint8_t last[64];     // digit 4
};
constexpr TritTables make_trit_tables() {
  TritTables tt{};
  for (int e = 0; e < 256; ++e) {
    int packed = 0;
    for (int n = 0; n < 4; ++n) packed |= tq1_tile_digit(e, n) << (2 * n);
    tt.packed[e] = static_cast<uint8_t>(packed);
    if (e < 64) tt.last[e] = static_cast<uint8_t>(tq1_tile_digit(e, 4));
  }
  return tt;
}
constexpr TritTables kTrits = make_trit_tables();

// GGUF byte -> tile byte (tq1_recode_avx512).
struct Tq1ToTile {
  alignas(64) uint8_t byte[256];
};
constexpr Tq1ToTile make_tq1_to_tile() {
  Tq1ToTile t{};
  for (int q = 0; q < 256; ++q) t.byte[q] = tq1_tile_byte(q);
  return t;
}
constexpr Tq1ToTile kTq1ToTile = make_tq1_to_tile();

// Column step (4 columns) of digit k of word w of a TQ1_0 block (tile layout in repack_ternary.h).
constexpr int tq1_step(int w, int k) { return w < 8 ? 8 * k + w : w < 12 ? 40 + 4 * k + (w - 8) : 60 + k; }

// t[q] for a 256-entry table t, hi = the lanes with q >= 128. (Two vpermi2b merging into the index instead of the
// blend run fewer instructions but ~5 % slower from L2 on Zen 5: the merge makes the second wait for the first.)
EL_TARGET_VNNI inline __m512i lookup256(const __m512i* t, __m512i q, __mmask64 hi) {
  return _mm512_mask_blend_epi8(hi, _mm512_permutex2var_epi8(t[0], q, t[1]), _mm512_permutex2var_epi8(t[2], q, t[3]));
}

// Digit 4 has its own accumulator (added unscaled at the end) rather than sharing digit 0's: 12 fewer dependent
// vpdpbusd per block. (Splitting every accumulator by word parity for one token measured no faster.)
template <int T, int64_t kAhead>
EL_TARGET_VNNI void tq1_tile_tokens(const uint8_t* tile, int64_t nb, const uint8_t* acts, size_t act_stride, float* y,
                                    int64_t y_stride, __mmask16 m) {
  __m512i packed[4];
  for (int h = 0; h < 4; ++h) packed[h] = _mm512_load_si512(kTrits.packed + 64 * h);
  const __m512i last = _mm512_load_si512(kTrits.last);
  const __m512i m0 = _mm512_set1_epi8(0x03), m1 = _mm512_set1_epi8(0x0C), m2 = _mm512_set1_epi8(0x30),
                m3 = _mm512_set1_epi8(static_cast<char>(0xC0));
  __m512 sum[T];
  for (int t = 0; t < T; ++t) sum[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* lev = tile + tern_levels_at(b, kTq1TileBlockBytes);
    const uint8_t* x[T];
    __m512i a[T][5];  // [token][digit position]
    for (int t = 0; t < T; ++t) {
      const uint8_t* at = acts + static_cast<size_t>(t) * act_stride;
      x[t] = at + 256 * b;
      a[t][0] = _mm512_set1_epi32(load_i32(at + 260 * nb + 4 * b));
      for (int l = 1; l < 5; ++l) a[t][l] = _mm512_setzero_si512();
    }
    if (b % 2 == 0) prefetch_line<kAhead>(lev - 64);  // the pair's scales
#pragma GCC unroll 13
    for (int w = 0; w < kTq1Words; ++w) {
      prefetch_line<kAhead>(lev + 64 * w);
      const __m512i q = _mm512_load_si512(lev + 64 * w);
      const __mmask64 hi = _mm512_movepi8_mask(q);
      const __m512i d = lookup256(packed, q, hi);
      const __m512i d0 = _mm512_and_si512(d, m0), d1 = _mm512_and_si512(d, m1), d2 = _mm512_and_si512(d, m2),
                    d3 = _mm512_and_si512(d, m3);
      for (int t = 0; t < T; ++t) {
        a[t][0] = dpbusd_bcast(a[t][0], d0, x[t] + 4 * tq1_step(w, 0));
        a[t][1] = dpbusd_bcast(a[t][1], d1, x[t] + 4 * tq1_step(w, 1));
        a[t][2] = dpbusd_bcast(a[t][2], d2, x[t] + 4 * tq1_step(w, 2));
        a[t][3] = dpbusd_bcast(a[t][3], d3, x[t] + 4 * tq1_step(w, 3));
      }
      if (w < kTq1Words - 1) {  // the qh word holds 4 digits
        const __m512i d4 = _mm512_permutexvar_epi8(q, last);
        for (int t = 0; t < T; ++t) a[t][4] = dpbusd_bcast(a[t][4], d4, x[t] + 4 * tq1_step(w, 4));
      }
    }
    const __m512 ws = _mm512_cvtph_ps(
        _mm256_load_si256(reinterpret_cast<const __m256i*>(tile + tern_scales_at(b, kTq1TileBlockBytes))));
    for (int t = 0; t < T; ++t) {
      const __m512i* c = a[t];
      // Crumb l of the packed digits was multiplied by 4^l: each sum is a multiple of 4^l, so the shift is exact.
      const __m512i i = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c[0], c[4]), _mm512_srai_epi32(c[1], 2)),
                                         _mm512_add_epi32(_mm512_srai_epi32(c[2], 4), _mm512_srai_epi32(c[3], 6)));
      float d;
      std::memcpy(&d, acts + static_cast<size_t>(t) * act_stride + 256 * nb + 4 * b, 4);
      sum[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_mul_ps(ws, _mm512_set1_ps(d)), sum[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride, m, sum[t]);
}

template <int T, int64_t kAhead>
EL_TARGET_VNNI void tq1_run(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                            size_t act_stride, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 256;
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const int64_t n = std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows);
    const auto m = static_cast<__mmask16>((1u << n) - 1);
    tq1_tile_tokens<T, kAhead>(w.tile(tile), nb, acts, act_stride, y + tile * kRepackRows, y_stride, m);
  }
}

}  // namespace

EL_TARGET_VNNI void tq1_recode_avx512(uint8_t* p, int64_t n_vectors) {
  __m512i t[4];
  for (int h = 0; h < 4; ++h) t[h] = _mm512_load_si512(kTq1ToTile.byte + 64 * h);
  for (int64_t v = 0; v < n_vectors; ++v) {
    const __m512i q = _mm512_loadu_si512(p + 64 * v);
    _mm512_storeu_si512(p + 64 * v, lookup256(t, q, _mm512_movepi8_mask(q)));
  }
}

void tq1_gemv_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                     size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  switch (n_tokens) {
    case 1:
      return tq1_run<1, kTq1Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 2:
      return tq1_run<2, kTq1Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 3:
      return tq1_run<3, kTq1Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    default:
      return tq1_run<4, kTq1Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
  }
}

void tq2_gemv_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                     size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  switch (n_tokens) {
    case 1:
      return run<1, kTq2Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 2:
      return run<2, kTq2Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 3:
      return run<3, kTq2Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    default:
      return run<4, kTq2Ahead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
  }
}

}  // namespace edgellm
#endif
