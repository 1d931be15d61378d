// The 256-bit Q2_K and Q3_K tile kernels (repack_lowk_avx2.cc), included once per target with LOWK_YMM_TARGET (the
// function attribute) and LOWK_YMM_VNNI (1: AVX-VNNI vpdpbusd/vpdpwssd, 0: AVX2 vpmaddubsw/vpmaddwd) defined,
// inside a namespace of its own. No include guard on purpose.

// Shifts that remove each crumb's factor from a sub-block sum (crumb k masked as 3 << 2k, crumb 3 as 0x30).
constexpr int kCrumbShift[4] = {0, 2, 4, 4};

// acc + Σ of 4 u·x products per int32 lane (AVX2: u <= 128, so the int16 pair sums stay exact).
LOWK_YMM_TARGET inline __m256i dot4(__m256i acc, __m256i u, __m256i x) {
#if LOWK_YMM_VNNI
  return _mm256_dpbusd_avx_epi32(acc, u, x);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
#endif
}
// acc + lo16(a)·lo16(b) + hi16(a)·hi16(b) per int32 lane.
LOWK_YMM_TARGET inline __m256i dotw(__m256i acc, __m256i a, __m256i b) {
#if LOWK_YMM_VNNI
  return _mm256_dpwssd_avx_epi32(acc, a, b);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}
// vpshufb control moving byte k of every int32 lane to byte `to` (0 or 1) and zeroing the other bytes.
LOWK_YMM_TARGET inline __m256i byte_k_ctrl(int k, int to = 0) {
  const auto c = [k, to](int j) {
    return static_cast<int>((0x80808080u & ~(0xFFu << (8 * to))) | (static_cast<uint32_t>(4 * j + k) << (8 * to)));
  };
  return _mm256_setr_epi32(c(0), c(1), c(2), c(3), c(0), c(1), c(2), c(3));
}
LOWK_YMM_TARGET inline __m256i bcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

// The lines 4 KB ahead of the super-block about to be decoded, one prefetch each (as the AVX-512 kernels). Used
// by Q2_K only: 22 -> 26-31 GB/s from DRAM with AVX-VNNI (same-run A/B, 8192x2048), while the compute-bound
// Q3_K and plain AVX2 kernels measured no gain (Q3_K AVX-VNNI a little less).
LOWK_YMM_TARGET inline void prefetch_ahead(const uint8_t* t, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(t + 4096 + off), _MM_HINT_T0);
}

// Tiles [tile_begin, tile_end) against 1 token, one half of the rows (8·half .. 8·half + 7) of each
// super-block at a time.
LOWK_YMM_TARGET void gemv_q2k_one(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                                  float* y) {
  const int64_t nb = w.cols / 256;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i crumb[4] = {_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0C), _mm256_set1_epi8(0x30),
                            _mm256_set1_epi8(0x30)};
  const __m256i ctrl[4] = {byte_k_ctrl(0), byte_k_ctrl(1), byte_k_ctrl(2), byte_k_ctrl(3)};
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const uint8_t* t = w.tile(tile);
    for (int64_t kb = 0; kb < nb; ++kb, t += kQ2kTileBlockBytes) {
      prefetch_ahead(t, kQ2kTileBlockBytes);
      const uint8_t* a = acts + static_cast<size_t>(kb) * kQ2kActBlockBytes;
      float dx;
      std::memcpy(&dx, a + kQ2kActDOffset, sizeof(dx));
      for (int half = 0; half < 2; ++half) {
        const uint8_t* th = t + 32 * half;
        // Σ m·bsum = 16·Σ m·h + Σ m·l.
        __m256i mins = _mm256_setzero_si256(), q = _mm256_setzero_si256();
        for (int i = 0; i < 4; ++i) {
          const __m256i m = _mm256_and_si256(
              _mm256_srli_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(th + 64 + 320 * i)), 4), low4);
          mins = dot4(mins, m, bcast4(a + kQ2kActHOffset + 4 * i));
        }
        mins = _mm256_slli_epi32(mins, 4);
        for (int i = 0; i < 4; ++i) {
          const uint8_t* g = th + 64 + 320 * i;
          const __m256i sv = _mm256_load_si256(reinterpret_cast<const __m256i*>(g));
          mins = dot4(mins, _mm256_and_si256(_mm256_srli_epi16(sv, 4), low4), bcast4(a + kQ2kActLOffset + 4 * i));
          __m256i sum[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256()};
          for (int s = 0; s < 4; ++s) {
            const __m256i lv = _mm256_load_si256(reinterpret_cast<const __m256i*>(g + 64 + 64 * s));
            for (int k = 0; k < 4; ++k) {
              const __m256i u = _mm256_and_si256(k == 3 ? _mm256_srli_epi16(lv, 2) : lv, crumb[k]);
              sum[k] = dot4(sum[k], u, bcast4(a + 16 * (4 * i + k) + 4 * s));
            }
          }
          const __m256i sc = _mm256_and_si256(sv, low4);
          for (int k = 0; k < 4; ++k) {
            const __m256i s16 = k == 0 ? sum[0] : _mm256_srai_epi32(sum[k], kCrumbShift[k]);
            q = dotw(q, s16, _mm256_shuffle_epi8(sc, ctrl[k]));
          }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(t + 16 * half)));
        const __m256 dmin = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(t + 32 + 16 * half)));
        acc[half] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_mul_ps(d, _mm256_set1_ps(dx)), acc[half]);
        acc[half] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_mul_ps(dmin, _mm256_set1_ps(dx)), acc[half]);
      }
    }
    const int64_t row0 = tile * 16;
    const int64_t n = std::min<int64_t>(16, w.rows - row0);
    alignas(32) float out[16];
    _mm256_store_ps(out, acc[0]);
    _mm256_store_ps(out + 8, acc[1]);
    std::copy_n(out, n, y + row0);
  }
}

// RepackOps::gemv: every token in turn (the 256-bit kernels keep one token's accumulators in registers).
LOWK_YMM_TARGET void gemv_q2k(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                              size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  for (int64_t j = 0; j < n_tokens; ++j) gemv_q2k_one(w, tile_begin, tile_end, acts + j * act_stride, y + j * y_stride);
}

// Q3_K (layout in repack_lowk.h), the AVX-512 scheme per half: the step's 32 high bits (of this half's 8 rows)
// become a byte mask by vpshufb (byte j takes mask byte j/8) + vpand + vpcmpeqb, and 4·the crumb factor is added
// under it (at most 112, so vpmaddubsw stays exact).
LOWK_YMM_TARGET void gemv_q3k_one(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                                  float* y) {
  const int64_t nb = w.cols / 256;
  const __m256i low4 = _mm256_set1_epi8(0x0F), top2 = _mm256_set1_epi8(0x30), bias = _mm256_set1_epi8(32);
  const __m256i crumb[4] = {_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0C), _mm256_set1_epi8(0x30),
                            _mm256_set1_epi8(0x30)};
  const __m256i high[4] = {_mm256_set1_epi8(4), _mm256_set1_epi8(16), _mm256_set1_epi8(64), _mm256_set1_epi8(64)};
  const __m256i ctrl[4] = {byte_k_ctrl(0, 1), byte_k_ctrl(1, 1), byte_k_ctrl(2, 1), byte_k_ctrl(3, 1)};
  const __m256i spread = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
  const __m256i bitsel = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201u));
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const uint8_t* t = w.tile(tile);
    for (int64_t kb = 0; kb < nb; ++kb, t += kQ3kTileBlockBytes) {
      const uint8_t* a = acts + static_cast<size_t>(kb) * kQ3kActBlockBytes;
      float dx;
      std::memcpy(&dx, a + kQ3kActDOffset, sizeof(dx));
      for (int half = 0; half < 2; ++half) {
        const uint8_t* th = t + 32 * half;
        __m256i q = _mm256_setzero_si256();
        const __m256i tv = _mm256_load_si256(reinterpret_cast<const __m256i*>(th + 192));
        for (int i = 0; i < 4; ++i) {
          const __m256i nv = _mm256_load_si256(reinterpret_cast<const __m256i*>(th + 64 + 64 * (i / 2)));
          const __m256i nib = _mm256_and_si256(i % 2 == 0 ? nv : _mm256_srli_epi16(nv, 4), low4);
          const __m256i tops = i == 0   ? _mm256_slli_epi16(tv, 4)
                               : i == 1 ? _mm256_slli_epi16(tv, 2)
                               : i == 2 ? tv
                                        : _mm256_srli_epi16(tv, 2);
          const __m256i sc = _mm256_sub_epi8(_mm256_or_si256(nib, _mm256_and_si256(tops, top2)), bias);
          const uint8_t* g = t + 256 + 384 * i;
          __m256i sum[4];
          for (int k = 0; k < 4; ++k) {
            int32_t init;
            std::memcpy(&init, a + kQ3kActInitOffset + 4 * (4 * i + k), sizeof(init));
            sum[k] = _mm256_set1_epi32(init);
          }
          for (int s = 0; s < 4; ++s) {
            const __m256i lv = _mm256_load_si256(reinterpret_cast<const __m256i*>(g + 128 + 64 * s + 32 * half));
            for (int k = 0; k < 4; ++k) {
              __m256i u = _mm256_and_si256(k == 3 ? _mm256_srli_epi16(lv, 2) : lv, crumb[k]);
              int32_t bits;
              std::memcpy(&bits, g + 8 * (4 * k + s) + 4 * half, sizeof(bits));
              const __m256i hb = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(bits), spread), bitsel);
              u = _mm256_add_epi8(u, _mm256_and_si256(_mm256_cmpeq_epi8(hb, bitsel), high[k]));
              sum[k] = dot4(sum[k], u, bcast4(a + 16 * (4 * i + k) + 4 * s));
            }
          }
          for (int k = 0; k < 4; ++k) {
            const __m256i s16 = k == 0 ? sum[0] : _mm256_srai_epi32(sum[k], kCrumbShift[k]);
            q = dotw(q, s16, _mm256_shuffle_epi8(sc, ctrl[k]));
          }
        }
        const __m256 d = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(t + 16 * half)));
        acc[half] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q), _mm256_mul_ps(d, _mm256_set1_ps(dx / 256.0f)), acc[half]);
      }
    }
    const int64_t row0 = tile * 16;
    const int64_t n = std::min<int64_t>(16, w.rows - row0);
    alignas(32) float out[16];
    _mm256_store_ps(out, acc[0]);
    _mm256_store_ps(out + 8, acc[1]);
    std::copy_n(out, n, y + row0);
  }
}

LOWK_YMM_TARGET void gemv_q3k(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                              size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  for (int64_t j = 0; j < n_tokens; ++j) gemv_q3k_one(w, tile_begin, tile_end, acts + j * act_stride, y + j * y_stride);
}
