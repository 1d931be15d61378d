// The 256-bit TQ2_0 decode kernel of the ternary repack family (layout in kernels/repack_ternary.h), included
// twice by repack_ternary_avx2.cc: once for AVX-VNNI (EL_TERN_VNNI 1: ymm vpdpbusd) and once for plain AVX2
// (vpmaddubsw + vpmaddwd: codes ≤ 3 times |x| ≤ 128, two per int16, stay far below its saturation). A target
// attribute cannot depend on a template parameter, and a function may only inline intrinsics of its own
// target, so the variants are separate definitions of the same text.
// Expects EL_TERN_NS (namespace), EL_TERN_TARGET (the function attribute) and EL_TERN_VNNI (0 or 1).
// No include guard on purpose.

namespace edgellm::tern_detail::EL_TERN_NS {
namespace {

EL_TERN_TARGET inline __m256i dot4(__m256i acc, __m256i w, __m256i x) {
#if EL_TERN_VNNI
  return _mm256_dpbusd_avx_epi32(acc, w, x);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1)));
#endif
}

// One tile, T tokens: each 64-byte code vector is two ymm of 8 rows; per ymm the 4 crumbs are shifted down
// (16 registers leave no room for the AVX-512 kernel's 4 accumulators per crumb).
template <int T>
EL_TERN_TARGET void tile_tokens(const uint8_t* tile, int64_t nb, const uint8_t* acts, size_t act_stride, float* y,
                                int64_t y_stride, int n_rows) {
  const __m256i m3 = _mm256_set1_epi8(3);
  __m256 sum[T][2];
  for (int t = 0; t < T; ++t) sum[t][0] = sum[t][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* lev = tile + tern_levels_at(b, kTq2TileBlockBytes);
    const uint8_t* x[T];
    __m256i acc[T][2];
    for (int t = 0; t < T; ++t) {
      const uint8_t* at = acts + static_cast<size_t>(t) * act_stride;
      x[t] = at + 256 * b;
      int32_t negsum;
      std::memcpy(&negsum, at + 260 * nb + 4 * b, 4);
      acc[t][0] = acc[t][1] = _mm256_set1_epi32(negsum);
    }
    for (int v = 0; v < 16; ++v) {
      // Software prefetch 8 KB ahead, one per 64-byte line (as the AVX-512 kernel).
      _mm_prefetch(reinterpret_cast<const char*>(lev + 64 * v + 8192), _MM_HINT_T0);
      for (int h = 0; h < 2; ++h) {
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(lev + 64 * v + 32 * h));
        const __m256i c0 = _mm256_and_si256(w, m3), c1 = _mm256_and_si256(_mm256_srli_epi16(w, 2), m3),
                      c2 = _mm256_and_si256(_mm256_srli_epi16(w, 4), m3),
                      c3 = _mm256_and_si256(_mm256_srli_epi16(w, 6), m3);
        for (int t = 0; t < T; ++t) {
          const uint8_t* xv = x[t] + 4 * v;
          int32_t a[4];
          for (int l = 0; l < 4; ++l) std::memcpy(&a[l], xv + 64 * l, 4);
          acc[t][h] = dot4(acc[t][h], c0, _mm256_set1_epi32(a[0]));
          acc[t][h] = dot4(acc[t][h], c1, _mm256_set1_epi32(a[1]));
          acc[t][h] = dot4(acc[t][h], c2, _mm256_set1_epi32(a[2]));
          acc[t][h] = dot4(acc[t][h], c3, _mm256_set1_epi32(a[3]));
        }
      }
    }
    const uint8_t* sc = tile + tern_scales_at(b, kTq2TileBlockBytes);
    const __m256 ws0 = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(sc)));
    const __m256 ws1 = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(sc + 16)));
    for (int t = 0; t < T; ++t) {
      float d;
      std::memcpy(&d, acts + static_cast<size_t>(t) * act_stride + 256 * nb + 4 * b, 4);
      const __m256 dv = _mm256_set1_ps(d);
      sum[t][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t][0]), _mm256_mul_ps(ws0, dv), sum[t][0]);
      sum[t][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t][1]), _mm256_mul_ps(ws1, dv), sum[t][1]);
    }
  }
  for (int t = 0; t < T; ++t) {
    alignas(32) float out[16];
    _mm256_store_ps(out, sum[t][0]);
    _mm256_store_ps(out + 8, sum[t][1]);
    std::memcpy(y + t * y_stride, out, sizeof(float) * static_cast<size_t>(n_rows));
  }
}

template <int T>
EL_TERN_TARGET void run(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                        size_t act_stride, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 256;
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const int n = static_cast<int>(std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows));
    tile_tokens<T>(w.tile(tile), nb, acts, act_stride, y + tile * kRepackRows, y_stride, n);
  }
}

}  // namespace

void tq2_gemv(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts, size_t act_stride,
              int64_t n_tokens, float* y, int64_t y_stride) {
  if (n_tokens == 1) return run<1>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
  run<2>(w, tile_begin, tile_end, acts, act_stride, y, y_stride);
}

}  // namespace edgellm::tern_detail::EL_TERN_NS
