// AVX-512 VNNI decode kernels over row-interleaved Q2_K and Q3_K tiles (layout in kernels/repack_lowk.h). Highway 1.0.3
// has no int8 dot product (only the int16 ReorderWidenMulAccumulate) and no per-lane int16 multiply-add on
// int32 lanes (vpdpwssd), so this is intrinsics, compiled per function for the VNNI target and chosen at run
// time (repack_isa_supported).
//
// Per super-block of a tile (16 rows × 256 columns, 1344 bytes) and token: 16 loads of level vectors, each
// masked 4 ways (vpandd with 3 << 2k: no shifts) and multiplied by a 4-byte activation broadcast (vpdpbusd
// with an embedded broadcast), 64 in all, into one int32 accumulator per sub-block whose 16 lanes are the 16
// rows. A sub-block's sum carries the crumb's 4^k, removed with one exact arithmetic shift; it then fits int16,
// so vpdpwssd against the sub-block's scales (zero-extended into int32 lanes by one vpshufb) adds sc·sum per
// row. The minimum term Σ m·bsum comes from 8 more vpdpbusd on the scale bytes masked with 0xF0 (16·m)
// against bsum split into 16·h + l. Per super-block, two int32→float conversions and two fma with the rows'
// fp16 d and dmin (one vcvtph2ps each). About 0.05 instructions per weight, all tokens sharing the masks.
#include "kernels/repack_lowk.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers as maybe-uninitialized when intrinsics are inlined into
// target-attributed functions; the warning says nothing about this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define EL_TARGET_LOWK512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma,f16c")))

namespace edgellm::lowk {
namespace {

// 4 bytes at p as the 16 int32 lanes of a vector (the compiler folds it into vpdpbusd's {1to16} operand).
EL_TARGET_LOWK512 inline __m512i bcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// vpshufb control moving byte k of every int32 lane to byte `to` (0 or 1) and zeroing the other bytes (indexes
// are per 128-bit lane, so the pattern repeats every 4 lanes).
EL_TARGET_LOWK512 inline __m512i byte_k_ctrl(int k, int to = 0) {
  const auto c = [k, to](int j) {
    return static_cast<int>((0x80808080u & ~(0xFFu << (8 * to))) | (static_cast<uint32_t>(4 * j + k) << (8 * to)));
  };
  return _mm512_setr_epi32(c(0), c(1), c(2), c(3), c(0), c(1), c(2), c(3), c(0), c(1), c(2), c(3), c(0), c(1), c(2),
                           c(3));
}

// Each thread walks its tiles as one forward stream; the hardware prefetchers alone leave the kernels waiting
// (25-27 GB/s from DRAM on one Zen 5 core), so each step asks for its line kAhead bytes ahead (0: none). An asm
// statement rather than _mm_prefetch, which GCC hoists to the top of the unrolled super-block (one burst of
// 21-28 requests reads slower than one per step). 8 KB measured best of 2-12 KB; against 4 KB in one burst per
// super-block, one thread from DRAM, as a fraction of the stream read of the same process at 8192x2048,
// 2048x8192 and 14336x4096: Q2_K 0.86-0.89 -> 0.91-0.99, Q3_K 0.84-0.87 -> 0.85-0.92 (Q3_K is the slowest to
// decode, ~70 GB/s with the tile in L2, and needs fewer instructions to get closer).
constexpr int64_t kQ2kAhead = 8192, kQ3kAhead = 8192;
template <int64_t kAhead>
inline void prefetch_line(const uint8_t* p) {
  if constexpr (kAhead > 0) asm volatile("prefetcht0 %0" : : "m"(*(p + kAhead)));
}

template <int NT, int64_t kAhead>
EL_TARGET_LOWK512 void gemv_q2k(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                                size_t act_stride, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 256;
  const __m512i low4 = _mm512_set1_epi8(0x0F), high4 = _mm512_set1_epi8(static_cast<char>(0xF0));
  const __m512i crumb[4] = {_mm512_set1_epi8(0x03), _mm512_set1_epi8(0x0C), _mm512_set1_epi8(0x30),
                            _mm512_set1_epi8(static_cast<char>(0xC0))};
  const __m512i ctrl[4] = {byte_k_ctrl(0), byte_k_ctrl(1), byte_k_ctrl(2), byte_k_ctrl(3)};
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const uint8_t* t = w.tile(tile);
    __m512 acc[NT];
    for (int j = 0; j < NT; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t kb = 0; kb < nb; ++kb, t += kQ2kTileBlockBytes) {
      const uint8_t* a[NT];
      for (int j = 0; j < NT; ++j) a[j] = acts + j * act_stride + static_cast<size_t>(kb) * kQ2kActBlockBytes;
      // Minimum term: 16·Σ m·h, shifted by 4, plus Σ 16·m·l = 16·Σ m·bsum.
      __m512i mins[NT], q[NT];
      for (int j = 0; j < NT; ++j) mins[j] = q[j] = _mm512_setzero_si512();
      for (int i = 0; i < 4; ++i) {
        const __m512i m16 = _mm512_and_si512(_mm512_load_si512(t + 64 + 320 * i), high4);
        for (int j = 0; j < NT; ++j) mins[j] = _mm512_dpbusd_epi32(mins[j], m16, bcast4(a[j] + kQ2kActHOffset + 4 * i));
      }
      for (int j = 0; j < NT; ++j) mins[j] = _mm512_slli_epi32(mins[j], 4);
      for (int i = 0; i < 4; ++i) {
        const uint8_t* g = t + 64 + 320 * i;
        prefetch_line<kAhead>(g);
        if (i == 0) prefetch_line<kAhead>(t);
        const __m512i sv = _mm512_load_si512(g);
        const __m512i m16 = _mm512_and_si512(sv, high4);
        for (int j = 0; j < NT; ++j) mins[j] = _mm512_dpbusd_epi32(mins[j], m16, bcast4(a[j] + kQ2kActLOffset + 4 * i));
        __m512i sum[NT][4];
        for (int j = 0; j < NT; ++j)
          for (int k = 0; k < 4; ++k) sum[j][k] = _mm512_setzero_si512();
        for (int s = 0; s < 4; ++s) {
          prefetch_line<kAhead>(g + 64 + 64 * s);
          const __m512i lv = _mm512_load_si512(g + 64 + 64 * s);
          for (int k = 0; k < 4; ++k) {
            const __m512i u = _mm512_and_si512(lv, crumb[k]);
            for (int j = 0; j < NT; ++j)
              sum[j][k] = _mm512_dpbusd_epi32(sum[j][k], u, bcast4(a[j] + 16 * (4 * i + k) + 4 * s));
          }
        }
        const __m512i sc = _mm512_and_si512(sv, low4);
        for (int k = 0; k < 4; ++k) {
          const __m512i sck = _mm512_shuffle_epi8(sc, ctrl[k]);
          for (int j = 0; j < NT; ++j) {
            // The crumb's 4^k leaves exactly; |sum| <= 16·3·127 then fits the int16 half vpdpwssd reads.
            const __m512i s16 = k == 0 ? sum[j][0] : _mm512_srai_epi32(sum[j][k], 2 * k);
            q[j] = _mm512_dpwssd_epi32(q[j], s16, sck);
          }
        }
      }
      const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(t)));
      const __m512 dmin = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(t + 32)));
      for (int j = 0; j < NT; ++j) {
        float dx;
        std::memcpy(&dx, a[j] + kQ2kActDOffset, sizeof(dx));
        const __m512 vdx = _mm512_set1_ps(dx);
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q[j]), _mm512_mul_ps(d, vdx), acc[j]);
        acc[j] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mins[j]), _mm512_mul_ps(dmin, _mm512_set1_ps(dx / 16.0f)), acc[j]);
      }
    }
    const int64_t row0 = tile * 16;
    const int n = static_cast<int>(std::min<int64_t>(16, w.rows - row0));
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
    for (int j = 0; j < NT; ++j) _mm512_mask_storeu_ps(y + j * y_stride + row0, m, acc[j]);
  }
}

EL_TARGET_LOWK512 void gemv_q2k_any(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                                    size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  switch (n_tokens) {
    case 1:
      return gemv_q2k<1, kQ2kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 2:
      return gemv_q2k<2, kQ2kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 3:
      return gemv_q2k<3, kQ2kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    default:
      return gemv_q2k<4, kQ2kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
  }
}

// Q3_K (layout in repack_lowk.h): per group of 4 sub-blocks the signed scales are rebuilt from their nibble and
// top-bit planes (one vpsubb removes the +32), and vpshufb places scale·256 in the low int16 of each row's lane
// (the high int16 stays 0, so vpdpwssd reads A·sc·256 exactly; |Σ| <= 16·32·8128·256 < 2^31). Each step vector
// is crumb k masked in place (k = 3: shifted to times 16) plus 4·that factor under the step's 64-bit byte mask
// (vpaddb with a k-register), at most 112; the sub-block sums start at the −4·bsum offsets.
template <int NT, int64_t kAhead>
EL_TARGET_LOWK512 void gemv_q3k(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                                size_t act_stride, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 256;
  const __m512i low4 = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30), bias = _mm512_set1_epi8(32);
  const __m512i crumb[4] = {_mm512_set1_epi8(0x03), _mm512_set1_epi8(0x0C), _mm512_set1_epi8(0x30),
                            _mm512_set1_epi8(0x30)};
  const __m512i high[4] = {_mm512_set1_epi8(4), _mm512_set1_epi8(16), _mm512_set1_epi8(64), _mm512_set1_epi8(64)};
  const __m512i ctrl[4] = {byte_k_ctrl(0, 1), byte_k_ctrl(1, 1), byte_k_ctrl(2, 1), byte_k_ctrl(3, 1)};
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const uint8_t* t = w.tile(tile);
    __m512 acc[NT];
    for (int j = 0; j < NT; ++j) acc[j] = _mm512_setzero_ps();
    for (int64_t kb = 0; kb < nb; ++kb, t += kQ3kTileBlockBytes) {
      const uint8_t* a[NT];
      for (int j = 0; j < NT; ++j) a[j] = acts + j * act_stride + static_cast<size_t>(kb) * kQ3kActBlockBytes;
      __m512i q[NT];
      for (int j = 0; j < NT; ++j) q[j] = _mm512_setzero_si512();
      const __m512i tv = _mm512_load_si512(t + 192);
      for (int i = 0; i < 4; ++i) {
        const __m512i nv = _mm512_load_si512(t + 64 + 64 * (i / 2));
        const __m512i nib = _mm512_and_si512(i % 2 == 0 ? nv : _mm512_srli_epi16(nv, 4), low4);
        const __m512i tops = i == 0   ? _mm512_slli_epi16(tv, 4)
                             : i == 1 ? _mm512_slli_epi16(tv, 2)
                             : i == 2 ? tv
                                      : _mm512_srli_epi16(tv, 2);
        // nib | (tops & 0x30) is ternlog 0xF8 (A | (B & C)); then the +32 bias goes.
        const __m512i sc = _mm512_sub_epi8(_mm512_ternarylogic_epi32(nib, tops, top2, 0xF8), bias);
        const uint8_t* g = t + 256 + 384 * i;
        __m512i sum[NT][4];
        for (int j = 0; j < NT; ++j)
          for (int k = 0; k < 4; ++k) {
            int32_t init;
            std::memcpy(&init, a[j] + kQ3kActInitOffset + 4 * (4 * i + k), sizeof(init));
            sum[j][k] = _mm512_set1_epi32(init);
          }
        for (int s = 0; s < 4; ++s) {
          // This step's line of levels; its group's two lines of masks and the super-block's 4 head lines.
          prefetch_line<kAhead>(g + 128 + 64 * s);
          if (s < 2) prefetch_line<kAhead>(g + 64 * s);
          if (s == 2) prefetch_line<kAhead>(t + 64 * i);
          const __m512i lv = _mm512_load_si512(g + 128 + 64 * s);
          for (int k = 0; k < 4; ++k) {
            __m512i u = _mm512_and_si512(k == 3 ? _mm512_srli_epi16(lv, 2) : lv, crumb[k]);
            uint64_t bits;
            std::memcpy(&bits, g + 8 * (4 * k + s), sizeof(bits));
            u = _mm512_mask_add_epi8(u, _cvtu64_mask64(bits), u, high[k]);
            for (int j = 0; j < NT; ++j)
              sum[j][k] = _mm512_dpbusd_epi32(sum[j][k], u, bcast4(a[j] + 16 * (4 * i + k) + 4 * s));
          }
        }
        for (int k = 0; k < 4; ++k) {
          const __m512i sck = _mm512_shuffle_epi8(sc, ctrl[k]);
          for (int j = 0; j < NT; ++j) {
            const __m512i s16 = k == 0 ? sum[j][0] : _mm512_srai_epi32(sum[j][k], k == 1 ? 2 : 4);
            q[j] = _mm512_dpwssd_epi32(q[j], s16, sck);
          }
        }
      }
      const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(t)));
      for (int j = 0; j < NT; ++j) {
        float dx;
        std::memcpy(&dx, a[j] + kQ3kActDOffset, sizeof(dx));
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q[j]), _mm512_mul_ps(d, _mm512_set1_ps(dx / 256.0f)), acc[j]);
      }
    }
    const int64_t row0 = tile * 16;
    const int n = static_cast<int>(std::min<int64_t>(16, w.rows - row0));
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
    for (int j = 0; j < NT; ++j) _mm512_mask_storeu_ps(y + j * y_stride + row0, m, acc[j]);
  }
}

EL_TARGET_LOWK512 void gemv_q3k_any(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                                    size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  switch (n_tokens) {
    case 1:
      return gemv_q3k<1, kQ3kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 2:
      return gemv_q3k<2, kQ3kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    case 3:
      return gemv_q3k<3, kQ3kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
    default:
      return gemv_q3k<4, kQ3kAhead>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
  }
}

}  // namespace

RepackGemvFn q2k_gemv_avx512() { return &gemv_q2k_any; }
RepackGemvFn q3k_gemv_avx512() { return &gemv_q3k_any; }

}  // namespace edgellm::lowk

#else  // not x86-64

namespace edgellm::lowk {
RepackGemvFn q2k_gemv_avx512() { return nullptr; }
RepackGemvFn q3k_gemv_avx512() { return nullptr; }
}  // namespace edgellm::lowk

#endif
