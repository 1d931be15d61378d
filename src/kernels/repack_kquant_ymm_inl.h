// The 256-bit decode kernels over the k-quant tiles (kernels/repack_kquant.h), as shared text that
// repack_kquant_avx2.cc includes twice: with EL_YMM_VNNI 1 (AVX-VNNI vpdpbusd) and 0 (AVX2 vpmaddubsw +
// vpmaddwd), each inside its own EL_YMM_NS namespace and EL_YMM_TARGET attribute (a target attribute cannot
// depend on a template parameter). No include guard on purpose.
//
// A ymm holds 8 rows, so a tile is decoded in two passes, rows 0..7 (bytes 0..31 of every 64-byte vector)
// and rows 8..15 (bytes 32..63); the second pass finds the tile in L1/L2 (≤ 16·1.3 KB per 256 columns), and
// each pass keeps its accumulators within the 16 ymm registers. Bit fields are cut with shifts and masks
// (AVX2 CPUs need not have GFNI). vpmaddubsw adds two u8×s8 products into an int16 (≤ 2·63·128 = 16128 for
// 6-bit levels, no saturation) that vpmaddwd widens at once, so no int16 sum ever accumulates.

namespace edgellm::repack_kq::EL_YMM_NS {
namespace {

EL_YMM_TARGET inline __m256i bcast(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}
EL_YMM_TARGET inline __m256 bcast_ps(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_ps(v);
}
EL_YMM_TARGET inline __m256i load(const uint8_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }

// sum += the 8 rows' 4-column dot products of unsigned levels w and signed activations x.
EL_YMM_TARGET inline __m256i dot4(__m256i sum, __m256i w, __m256i x) {
#if EL_YMM_VNNI
  return _mm256_dpbusd_avx_epi32(sum, w, x);
#else
  return _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1)));
#endif
}
// sum += Σ of the two 16-bit products per dword (signed words).
EL_YMM_TARGET inline __m256i dot2w(__m256i sum, __m256i a, __m256i b) {
#if EL_YMM_VNNI
  return _mm256_dpwssd_avx_epi32(sum, a, b);
#else
  return _mm256_add_epi32(sum, _mm256_madd_epi16(a, b));
#endif
}

// Byte k of each dword, zero-extended (vpshufb indices within each 128-bit lane).
EL_YMM_TARGET inline __m256i byte_of_dword(__m256i v, int k) {
  const __m256i idx = _mm256_add_epi32(_mm256_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12),
                                       _mm256_set1_epi32(static_cast<int32_t>(0x80808000u + static_cast<uint32_t>(k))));
  return _mm256_shuffle_epi8(v, idx);
}

// Q4_K (kFive = false) and Q5_K, T tokens, rows 8·half..8·half + 7 of each tile.
template <int T, bool kFive>
EL_YMM_TARGET void q45_half(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                            size_t act_stride, float* y, int64_t y_stride, int half) {
  const int64_t blocks = w.cols / kQK_K;
  const size_t record = kFive ? kQ5Record : kQ4Record, hb = 32 * static_cast<size_t>(half);
  const __m256i low4 = _mm256_set1_epi8(0x0F), six = _mm256_set1_epi8(0x3F), top = _mm256_set1_epi8(0x30);
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const uint8_t* rec = w.tile(tile);
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; ++i, rec += record) {
      const uint8_t* x[T];
      for (int t = 0; t < T; ++t) x[t] = acts + t * act_stride + i * kQ45Act;
      const __m256i a = load(rec + kScalesAt + hb), b = load(rec + kScalesAt + 64 + hb),
                    c = load(rec + kScalesAt + 128 + hb);
      const __m256i sc_lo = _mm256_and_si256(a, six);
      const __m256i sc_hi = _mm256_or_si256(_mm256_and_si256(c, low4), _mm256_and_si256(_mm256_srli_epi16(a, 2), top));
      __m256i isum[T];
      for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
      for (int j = 0; j < 8; ++j) {
        const uint8_t* q = rec + kQ45LevelsAt + (kFive ? kQ5SubBlock : kQ4SubBlock) * j + hb;
        __m256i h = _mm256_setzero_si256();
        if constexpr (kFive) h = load(q + kQ5HighIn);
        __m256i sum[T];
        for (int t = 0; t < T; ++t) sum[t] = _mm256_setzero_si256();
        for (int s = 0; s < 4; ++s) {
          const __m256i v = load(q + 64 * s);
          __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
          if constexpr (kFive) {
            const __m256i bit4 = _mm256_set1_epi8(0x10);
            // Bit s (s + 4) of h to bit 4: 16-bit shifts stay within the byte once masked to bit 4.
            const __m256i hs = s <= 4 ? _mm256_slli_epi16(h, 4 - s) : _mm256_srli_epi16(h, s - 4);
            lo = _mm256_or_si256(lo, _mm256_and_si256(hs, bit4));
            hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_srli_epi16(h, s), bit4));
          }
          for (int t = 0; t < T; ++t) {
            sum[t] = dot4(sum[t], lo, bcast(x[t] + 32 * j + 4 * s));
            sum[t] = dot4(sum[t], hi, bcast(x[t] + 32 * j + 16 + 4 * s));
          }
        }
        const __m256i sc = byte_of_dword(j < 4 ? sc_lo : sc_hi, j % 4);
        for (int t = 0; t < T; ++t) isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(sum[t], sc));
      }
      // Minimums: words (m0, m2), (m1, m3), (m4, m6), (m5, m7) of each row against the sum pairs.
      const __m256i m_lo = _mm256_and_si256(b, six);
      const __m256i m_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(c, 4), low4),
                                           _mm256_and_si256(_mm256_srli_epi16(b, 2), top));
      const __m256i low_byte = _mm256_set1_epi16(0x00FF);
      const __m256 d = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(rec + hb / 2)));
      const __m256 dmin = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(rec + 32 + hb / 2)));
      for (int t = 0; t < T; ++t) {
        const uint8_t* p = x[t] + kActMinsAt;
        __m256i mn = dot2w(_mm256_setzero_si256(), _mm256_and_si256(m_lo, low_byte), bcast(p));
        mn = dot2w(mn, _mm256_srli_epi16(m_lo, 8), bcast(p + 4));
        mn = dot2w(mn, _mm256_and_si256(m_hi, low_byte), bcast(p + 8));
        mn = dot2w(mn, _mm256_srli_epi16(m_hi, 8), bcast(p + 12));
        const __m256 dx = bcast_ps(x[t] + kQ45ActDAt);
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, dx), acc[t]);
        acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mn), _mm256_mul_ps(dmin, dx), acc[t]);
      }
    }
    const int64_t row0 = tile * kRepackRows + 8 * half, n = std::min<int64_t>(8, w.rows - row0);
    for (int t = 0; t < T; ++t) {
      if (n == 8) {
        _mm256_storeu_ps(y + t * y_stride + row0, acc[t]);
      } else if (n > 0) {
        float tmp[8];
        _mm256_storeu_ps(tmp, acc[t]);
        std::memcpy(y + t * y_stride + row0, tmp, static_cast<size_t>(n) * sizeof(float));
      }
    }
  }
}

// Q6_K, T tokens, rows 8·half..8·half + 7 of each tile.
template <int T>
EL_YMM_TARGET void q6_half(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                           size_t act_stride, float* y, int64_t y_stride, int half) {
  const int64_t blocks = w.cols / kQK_K;
  const size_t hb = 32 * static_cast<size_t>(half);
  const __m256i six = _mm256_set1_epi8(0x3F), two = _mm256_set1_epi8(0x03);
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const uint8_t* rec = w.tile(tile);
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; ++i, rec += kQ6Record) {
      const uint8_t* x[T];
      for (int t = 0; t < T; ++t) x[t] = acts + t * act_stride + i * kQ6Act;
      __m256i isum[T];
      for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c) {
        const uint8_t* q = rec + kQ6LevelsAt + 768 * c + hb;
        // Sub-block k = 0..2 are the low 6 bits of vector k; sub-block 3 gathers their top bit pairs.
        for (int k = 0; k < 4; ++k) {
          __m256i sum[T];
          for (int t = 0; t < T; ++t) sum[t] = bcast(x[t] + kQ6ActInitAt + 4 * (4 * c + k));
          for (int s = 0; s < 4; ++s) {
            __m256i u;
            if (k < 3) {
              u = _mm256_and_si256(load(q + 192 * s + 64 * k), six);
            } else {
              const __m256i v0 = _mm256_and_si256(_mm256_srli_epi16(load(q + 192 * s), 6), two);
              const __m256i v1 =
                  _mm256_and_si256(_mm256_srli_epi16(load(q + 192 * s + 64), 4), _mm256_slli_epi16(two, 2));
              const __m256i v2 =
                  _mm256_and_si256(_mm256_srli_epi16(load(q + 192 * s + 128), 2), _mm256_slli_epi16(two, 4));
              u = _mm256_or_si256(v0, _mm256_or_si256(v1, v2));
            }
            for (int t = 0; t < T; ++t) sum[t] = dot4(sum[t], u, bcast(x[t] + 64 * c + 16 * k + 4 * s));
          }
          const __m256i sc = _mm256_cvtepi8_epi32(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rec + kQ6ScalesAt + 16 * (4 * c + k) + hb / 4)));
          for (int t = 0; t < T; ++t) isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(sum[t], sc));
        }
      }
      const __m256 d = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(rec + hb / 2)));
      for (int t = 0; t < T; ++t)
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(d, bcast_ps(x[t] + kQ6ActDAt)), acc[t]);
    }
    const int64_t row0 = tile * kRepackRows + 8 * half, n = std::min<int64_t>(8, w.rows - row0);
    for (int t = 0; t < T; ++t) {
      if (n == 8) {
        _mm256_storeu_ps(y + t * y_stride + row0, acc[t]);
      } else if (n > 0) {
        float tmp[8];
        _mm256_storeu_ps(tmp, acc[t]);
        std::memcpy(y + t * y_stride + row0, tmp, static_cast<size_t>(n) * sizeof(float));
      }
    }
  }
}

// Both halves of each tile, tile by tile (the second half reads the tile from cache).
template <int T, int kType>  // kType: 4, 5 or 6
EL_YMM_TARGET void tiles(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, float* y,
                         int64_t ys) {
  for (int64_t tile = b; tile < e; ++tile)
    for (int half = 0; half < 2; ++half) {
      if constexpr (kType == 6)
        q6_half<T>(w, tile, tile + 1, acts, as, y, ys, half);
      else
        q45_half<T, kType == 5>(w, tile, tile + 1, acts, as, y, ys, half);
    }
}

template <int kType>
void gemv(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n_tokens, float* y,
          int64_t ys) {
  static_assert(kYmmMaxTokens == 2, "one instance per token count");
  if (n_tokens == 1)
    tiles<1, kType>(w, b, e, acts, as, y, ys);
  else
    tiles<2, kType>(w, b, e, acts, as, y, ys);
}

}  // namespace

void gemv_q4_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys) {
  gemv<4>(w, b, e, acts, as, n, y, ys);
}
void gemv_q5_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys) {
  gemv<5>(w, b, e, acts, as, n, y, ys);
}
void gemv_q6_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys) {
  gemv<6>(w, b, e, acts, as, n, y, ys);
}

}  // namespace edgellm::repack_kq::EL_YMM_NS
