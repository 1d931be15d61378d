// AVX-512 VNNI decode kernels over the legacy family's row-interleaved tiles (kernels/repack_legacy.h has
// the layout). Why intrinsics: Highway 1.0.3 has no int8 dot-product op (only the int16
// ReorderWidenMulAccumulate), and vpdpbusd's 4-products-per-lane is what makes the 16 lanes of one zmm the
// 16 rows of a tile, with no horizontal sums.
//
// Per group (32 columns × 16 rows) and token: the int32 lanes start at the record's init (−offset·Σx),
// then one vpdpbusd per 4 columns against a 4-byte activation broadcast (folded into the instruction's
// memory operand); 4-bit levels come two steps per 64-byte load (low nibble: columns 4v.., high nibble:
// columns 16+4v..), one vpandd and one shift+vpandd; the 5-bit types add 16 under a 64-bit mask loaded
// straight from the tile (kmovq); Q8_0 levels are already unsigned (q + 128). Then the 16 lanes are
// converted once and scaled by the 16 row scales (one vcvtph2ps) times the token's scale.
// Up to kMaxTokensZmm tokens share each decoded weight vector. The 4- and 5-bit types ask for each line a fixed
// distance ahead at the step that reads it; Q8_0, with half the work per byte, reads at the stream's rate without
// it. Q4_0 asks 8 KB ahead: with the distances interleaved pass by pass in one process (medians of 4 passes per
// shape, one thread, from DRAM), 4 KB lost to 8 KB in four of four runs at the 1B shapes (2048x2048, 8192x2048,
// 2048x8192, 32000x2048: 0.77-0.93 -> 0.81-0.97 of the stream read); 6 and 12 KB and prefetchnta 8 KB were within
// noise of 8 KB, NTA 16 KB worse. Session 4 had picked 4 KB (best of 4-10 KB by a little) with each distance run
// as a block. Q4_1/Q5_0/Q5_1 keep 4 KB: their interleaved runs were too noisy to decide. Two tiles per pass over
// the activations (two weight streams) were slower (8192x2048 Q4_0 ~30 -> ~19 GB/s).
#include "kernels/repack_legacy.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers (self-initialised on purpose) as maybe-uninitialized
// when intrinsics are inlined into target-attributed functions; the warning says nothing about this code.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define EL_TARGET_ZMM __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,f16c,fma")))
#define EL_INLINE inline __attribute__((always_inline))

namespace edgellm::repack_legacy {
namespace {

EL_INLINE int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
EL_INLINE float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}
EL_INLINE uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Software prefetch distance per layout (0: none; see the header comment).
template <const Layout& L>
constexpr int64_t kAheadOf = L.level_bytes == 512 ? 0 : (&L == &kQ4_0 ? 8192 : 4096);

// One group of 16 rows for T tokens: acc[t] += Σ_columns w·x for that group. d/m: the group's 16 fp16 row
// scales/minima; hb: its fifth-bit masks; lv: its level vectors; a: token 0's record, tokens act_stride apart.
// Software prefetch of one 64-byte line kAhead bytes ahead (0: none). An asm statement rather than _mm_prefetch,
// which GCC hoists to the top of the unrolled group (a burst of requests reads slower than one per step).
template <int64_t kAhead>
EL_INLINE void prefetch_line(const uint8_t* p) {
  if constexpr (kAhead > 0) asm volatile("prefetcht0 %0" : : "m"(*(p + kAhead)));
}

template <const Layout& L, int T, int64_t kAhead>
EL_TARGET_ZMM EL_INLINE void group(const uint8_t* d, const uint8_t* m, const uint8_t* hb, const uint8_t* lv,
                                   const uint8_t* a, size_t act_stride, __m512* acc) {
  __m512i isum[T];
  for (int t = 0; t < T; ++t) isum[t] = _mm512_set1_epi32(load_i32(a + t * act_stride + 32));
  // Two chains per token (even/odd steps, or low/high nibbles) halve the dependent vpdpbusd latency.
  __m512i isum_hi[T];
  for (int t = 0; t < T; ++t) isum_hi[t] = _mm512_setzero_si512();
  if constexpr (L.level_bytes == 512) {
    for (int s = 0; s < 8; s += 2) {
      prefetch_line<kAhead>(lv + 64 * s);
      prefetch_line<kAhead>(lv + 64 * s + 64);
      const __m512i w0 = _mm512_load_si512(lv + 64 * s), w1 = _mm512_load_si512(lv + 64 * s + 64);
      for (int t = 0; t < T; ++t) {
        const uint8_t* x = a + t * act_stride;
        isum[t] = _mm512_dpbusd_epi32(isum[t], w0, _mm512_set1_epi32(load_i32(x + 4 * s)));
        isum_hi[t] = _mm512_dpbusd_epi32(isum_hi[t], w1, _mm512_set1_epi32(load_i32(x + 4 * s + 4)));
      }
    }
  } else {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int v = 0; v < 4; ++v) {
      prefetch_line<kAhead>(lv + 64 * v);
      if (L.hbit_bytes != 0 && v == 0) prefetch_line<kAhead>(hb);
      const __m512i raw = _mm512_load_si512(lv + 64 * v);
      __m512i lo = _mm512_and_si512(raw, low4);
      __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
      if constexpr (L.hbit_bytes != 0) {
        const __m512i bit4 = _mm512_set1_epi8(0x10);
        lo = _mm512_mask_add_epi8(lo, _cvtu64_mask64(load_u64(hb + 16 * v)), lo, bit4);
        hi = _mm512_mask_add_epi8(hi, _cvtu64_mask64(load_u64(hb + 16 * v + 8)), hi, bit4);
      }
      for (int t = 0; t < T; ++t) {
        const uint8_t* x = a + t * act_stride;
        isum[t] = _mm512_dpbusd_epi32(isum[t], lo, _mm512_set1_epi32(load_i32(x + 4 * v)));
        isum_hi[t] = _mm512_dpbusd_epi32(isum_hi[t], hi, _mm512_set1_epi32(load_i32(x + 16 + 4 * v)));
      }
    }
  }
  for (int t = 0; t < T; ++t) isum[t] = _mm512_add_epi32(isum[t], isum_hi[t]);
  const __m512 wd = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d)));
  for (int t = 0; t < T; ++t) {
    const __m512 scale = _mm512_mul_ps(wd, _mm512_set1_ps(load_f32(a + t * act_stride + 36)));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), scale, acc[t]);
  }
  if constexpr (L.has_min) {
    const __m512 wm = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(m)));
    for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(wm, _mm512_set1_ps(load_f32(a + t * act_stride + 40)), acc[t]);
  }
}

template <const Layout& L, int T, int64_t kAhead>
EL_TARGET_ZMM void tiles(const RepackedWeight& w, int64_t tb, int64_t te, const uint8_t* acts, size_t act_stride,
                         float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 32, pairs = nb / 2;
  constexpr int kScales2 = L.scale_bytes(2), kScales1 = L.scale_bytes(1);
  for (int64_t tile = tb; tile < te; ++tile) {
    const uint8_t* p = w.tile(tile);
    const uint8_t* a = acts;
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t u = 0; u < pairs; ++u) {
      const uint8_t* hb = p + kScales2;
      const uint8_t* lv = hb + 2 * L.hbit_bytes;
      // The unit's scale lines (one or two), then each group's lines as it reads them.
      prefetch_line<kAhead>(p);
      if (kScales2 > 64) prefetch_line<kAhead>(p + 64);
      group<L, T, kAhead>(p, p + 64, hb, lv, a, act_stride, acc);
      group<L, T, kAhead>(p + 32, p + 96, hb + L.hbit_bytes, lv + L.level_bytes, a + kActRecord, act_stride, acc);
      p += L.unit_bytes(2);
      a += 2 * kActRecord;
    }
    if (nb % 2 != 0) {
      const uint8_t* hb = p + kScales1;
      group<L, T, kAhead>(p, p + 32, hb, hb + L.hbit_bytes, a, act_stride, acc);
    }
    const int64_t rows = std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows);
    const __mmask16 keep = static_cast<__mmask16>((1u << rows) - 1);
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + tile * kRepackRows, keep, acc[t]);
  }
}

template <const Layout& L, int64_t kAhead = kAheadOf<L>>
void gemv(const RepackedWeight& w, int64_t tb, int64_t te, const uint8_t* acts, size_t act_stride,
          int64_t n_tokens, float* y, int64_t y_stride) {
  switch (n_tokens) {
    case 1:
      return tiles<L, 1, kAhead>(w, tb, te, acts, act_stride, y, y_stride);
    case 2:
      return tiles<L, 2, kAhead>(w, tb, te, acts, act_stride, y, y_stride);
    case 3:
      return tiles<L, 3, kAhead>(w, tb, te, acts, act_stride, y, y_stride);
    default:
      return tiles<L, 4, kAhead>(w, tb, te, acts, act_stride, y, y_stride);
  }
}
static_assert(kMaxTokensZmm == 4, "gemv dispatches 1..4 tokens");

}  // namespace

GemvFn gemv_avx512(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return &gemv<kQ4_0>;
    case GgmlType::Q4_1:
      return &gemv<kQ4_1>;
    case GgmlType::Q5_0:
      return &gemv<kQ5_0>;
    case GgmlType::Q5_1:
      return &gemv<kQ5_1>;
    case GgmlType::Q8_0:
      return &gemv<kQ8_0>;
    default:
      return nullptr;
  }
}

}  // namespace edgellm::repack_legacy

#else
namespace edgellm::repack_legacy {
GemvFn gemv_avx512(GgmlType) { return nullptr; }
}  // namespace edgellm::repack_legacy
#endif  // __x86_64__
