// The 256-bit decode kernels over the legacy family's tiles (kernels/repack_legacy.h), as shared text that
// repack_legacy_avx2.cc includes twice: with EL_YMM_VNNI 1 (AVX-VNNI vpdpbusd) and 0 (AVX2 vpmaddubsw +
// vpmaddwd), each inside its own EL_YMM_NS namespace and EL_YMM_TARGET attribute (a target attribute cannot
// depend on a template parameter). No include guard on purpose.
//
// A ymm holds 8 rows, so each 64-byte level vector is two halves (rows 0..7 at bytes 0..31, rows 8..15 at
// 32..63) and the tile keeps two sets of accumulators; the bytes are still read strictly forward.
// vpmaddubsw sums two u8×s8 products into an int16 that saturates at 32767, which this code rules out:
// 4-bit levels (≤ 15) may add 8 steps in int16 (8·2·15·128 = 30720), 5-bit levels (≤ 31) 4 steps
// (4·2·31·128 = 31744), and Q8_0 is kept signed (|q| ≤ 128 times x with q's sign, |x| ≤ 127: 32512 per step)
// and widened after every step.

namespace edgellm::repack_legacy::EL_YMM_NS {
namespace {

EL_YMM_TARGET EL_INLINE __m256i bcast(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}
EL_YMM_TARGET EL_INLINE __m256 bcast_ps(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_ps(v);
}

// 0x10 in the bytes whose bit is set in the 32-bit mask at p (byte i ↔ bit i).
EL_YMM_TARGET EL_INLINE __m256i fifth_bits(const uint8_t* p) {
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2,
                                          3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i b = _mm256_and_si256(_mm256_shuffle_epi8(bcast(p), spread), bit);
  return _mm256_and_si256(_mm256_cmpeq_epi8(b, bit), _mm256_set1_epi8(0x10));
}

// sum += the 8 rows' 4-column dot products of unsigned levels w and signed activations x.
EL_YMM_TARGET EL_INLINE __m256i dot4(__m256i sum, __m256i w, __m256i x) {
#if EL_YMM_VNNI
  return _mm256_dpbusd_avx_epi32(sum, w, x);
#else
  return _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1)));
#endif
}

// One group, rows 8h..8h+7, T tokens: acc[t] += Σ w·x (pointers as in the zmm kernel's group()).
template <const Layout& L, int T>
EL_YMM_TARGET EL_INLINE void half_group(const uint8_t* d, const uint8_t* m, const uint8_t* hb, const uint8_t* lv,
                                        const uint8_t* a, size_t act_stride, int h, __m256* acc) {
  __m256i isum[T];
  for (int t = 0; t < T; ++t) isum[t] = bcast(a + t * act_stride + 32);
  if constexpr (L.level_bytes == 512) {
    for (int s = 0; s < 8; ++s) {
      const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(lv + 64 * s + 32 * h));
#if EL_YMM_VNNI
      for (int t = 0; t < T; ++t) isum[t] = dot4(isum[t], wv, bcast(a + t * act_stride + 4 * s));
#else
      const __m256i q = _mm256_xor_si256(wv, _mm256_set1_epi8(static_cast<char>(0x80)));
      const __m256i aq = _mm256_abs_epi8(q);
      for (int t = 0; t < T; ++t) isum[t] = dot4(isum[t], aq, _mm256_sign_epi8(bcast(a + t * act_stride + 4 * s), q));
#endif
    }
  } else {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
#if !EL_YMM_VNNI
    __m256i s16[T];
    for (int t = 0; t < T; ++t) s16[t] = _mm256_setzero_si256();
#endif
    for (int v = 0; v < 4; ++v) {
      const __m256i raw = _mm256_load_si256(reinterpret_cast<const __m256i*>(lv + 64 * v + 32 * h));
      __m256i lo = _mm256_and_si256(raw, low4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      if constexpr (L.hbit_bytes != 0) {
        lo = _mm256_or_si256(lo, fifth_bits(hb + 16 * v + 4 * h));
        hi = _mm256_or_si256(hi, fifth_bits(hb + 16 * v + 8 + 4 * h));
      }
      for (int t = 0; t < T; ++t) {
        const uint8_t* x = a + t * act_stride;
#if EL_YMM_VNNI
        isum[t] = dot4(isum[t], lo, bcast(x + 4 * v));
        isum[t] = dot4(isum[t], hi, bcast(x + 16 + 4 * v));
#else
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(lo, bcast(x + 4 * v)));
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(hi, bcast(x + 16 + 4 * v)));
#endif
      }
#if !EL_YMM_VNNI
      // Widen before the int16 sums could saturate (bounds in the header comment).
      if (v == 3 || (L.hbit_bytes != 0 && v == 1))
        for (int t = 0; t < T; ++t) {
          isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], _mm256_set1_epi16(1)));
          s16[t] = _mm256_setzero_si256();
        }
#endif
    }
  }
  const __m256 wd = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(d + 16 * h)));
  for (int t = 0; t < T; ++t)
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(wd, bcast_ps(a + t * act_stride + 36)),
                             acc[t]);
  if constexpr (L.has_min) {
    const __m256 wm = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(m + 16 * h)));
    for (int t = 0; t < T; ++t) acc[t] = _mm256_fmadd_ps(wm, bcast_ps(a + t * act_stride + 40), acc[t]);
  }
}

template <const Layout& L, int T>
EL_YMM_TARGET EL_INLINE void group(const uint8_t* d, const uint8_t* m, const uint8_t* hb, const uint8_t* lv,
                                   const uint8_t* a, size_t act_stride, __m256* acc) {
  half_group<L, T>(d, m, hb, lv, a, act_stride, 0, acc);
  half_group<L, T>(d, m, hb, lv, a, act_stride, 1, acc + T);
}

template <const Layout& L, int T>
EL_YMM_TARGET void tiles(const RepackedWeight& w, int64_t tb, int64_t te, const uint8_t* acts, size_t act_stride,
                         float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 32, pairs = nb / 2;
  constexpr int kScales2 = L.scale_bytes(2), kScales1 = L.scale_bytes(1);
  for (int64_t tile = tb; tile < te; ++tile) {
    const uint8_t* p = w.tile(tile);
    const uint8_t* a = acts;
    __m256 acc[2 * T];  // [half][token]
    for (int i = 0; i < 2 * T; ++i) acc[i] = _mm256_setzero_ps();
    for (int64_t u = 0; u < pairs; ++u) {
      const uint8_t* hb = p + kScales2;
      const uint8_t* lv = hb + 2 * L.hbit_bytes;
      group<L, T>(p, p + 64, hb, lv, a, act_stride, acc);
      group<L, T>(p + 32, p + 96, hb + L.hbit_bytes, lv + L.level_bytes, a + kActRecord, act_stride, acc);
      p += L.unit_bytes(2);
      a += 2 * kActRecord;
    }
    if (nb % 2 != 0) {
      const uint8_t* hb = p + kScales1;
      group<L, T>(p, p + 32, hb, hb + L.hbit_bytes, a, act_stride, acc);
    }
    const int64_t rows = std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows);
    for (int t = 0; t < T; ++t) {
      float* out = y + t * y_stride + tile * kRepackRows;
      if (rows == kRepackRows) {
        _mm256_storeu_ps(out, acc[t]);
        _mm256_storeu_ps(out + 8, acc[T + t]);
      } else {
        alignas(32) float tmp[16];
        _mm256_store_ps(tmp, acc[t]);
        _mm256_store_ps(tmp + 8, acc[T + t]);
        std::memcpy(out, tmp, static_cast<size_t>(rows) * sizeof(float));
      }
    }
  }
}

template <const Layout& L>
void gemv(const RepackedWeight& w, int64_t tb, int64_t te, const uint8_t* acts, size_t act_stride,
          int64_t n_tokens, float* y, int64_t y_stride) {
  switch (n_tokens) {
    case 1:
      return tiles<L, 1>(w, tb, te, acts, act_stride, y, y_stride);
    case 2:
      return tiles<L, 2>(w, tb, te, acts, act_stride, y, y_stride);
    default:
      return tiles<L, 3>(w, tb, te, acts, act_stride, y, y_stride);
  }
}

}  // namespace

GemvFn kernel_for(GgmlType type) {
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
#if EL_YMM_VNNI
      return &gemv<kQ8_0>;
#else
      return &gemv<kQ8_0Signed>;
#endif
    default:
      return nullptr;
  }
}

}  // namespace edgellm::repack_legacy::EL_YMM_NS
