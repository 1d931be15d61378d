// The 256-bit decode GEMV body (kernels/x86_gemv.h), included twice by x86_gemv_ymm.cc: once for AVX-VNNI
// (EL_YMM_VNNI 1: ymm vpdpbusd) and once for plain AVX2 (vpmaddubsw + vpmaddwd). A target attribute
// cannot depend on a template parameter, and a function may only inline intrinsics of its own target, so
// the variants are separate definitions of the same text (as Highway does with foreach_target).
// Expects EL_YMM_NS (namespace), EL_YMM_TARGET (the function attribute) and EL_YMM_VNNI (0 or 1).
// No include guard on purpose.

namespace edgellm::gemv_detail::EL_YMM_NS {
namespace {

// One block: 32 unsigned values in activation order, the scale and the minimum.
struct YmmBlock {
  __m256i q;
  __m256 d, m;
};

template <const BlockLayout& L>
EL_YMM_TARGET inline YmmBlock decode_block(const uint8_t* p) {
  YmmBlock out;
  uint16_t d, m = 0;
  std::memcpy(&d, p + L.d, 2);
  if constexpr (L.m >= 0) std::memcpy(&m, p + L.m, 2);
  out.d = _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(d)));
  out.m = _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(m)));
  if constexpr (!L.nibbles) {
    out.q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + L.qs));
    // AVX2 keeps Q8_0 signed (see dot below); VNNI flips it to q + 128 like the 4/5-bit offsets.
    if (EL_YMM_VNNI) out.q = _mm256_xor_si256(out.q, _mm256_set1_epi8(static_cast<char>(0x80)));
  } else {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + L.qs));
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), _mm256_set1_epi8(0x0F));
    if constexpr (L.qh >= 0) {
      uint32_t qh;
      std::memcpy(&qh, p + L.qh, 4);
      // Byte k takes qh byte k / 8 (vpshufb works per 128-bit half; every dword holds all 4 bytes), then
      // keeps bit k % 8 of it.
      const __m256i spread =
          _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                              _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
      const __m256i bits = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bits), bits);
      q = _mm256_or_si256(q, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
    }
    out.q = q;
  }
  return out;
}

// Lane sums of q·x over 4 bytes each, starting from the lane's −offset·Σx.
template <const BlockLayout& L>
EL_YMM_TARGET inline __m256i dot(__m256i q, __m256i x, __m256i init) {
#if EL_YMM_VNNI
  return _mm256_dpbusd_avx_epi32(init, q, x);
#else
  __m256i pairs;
  if constexpr (!L.nibbles) {
    // Unsigned 255 × 127 pairs would saturate vpmaddubsw's int16, so Q8_0 uses |w| × (x with w's sign).
    pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(q), _mm256_sign_epi8(x, q));
  } else {
    pairs = _mm256_maddubs_epi16(q, x);  // q ≤ 31: |pair| ≤ 2·31·128, no saturation
  }
  return _mm256_add_epi32(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)), init);
#endif
}

struct YmmActs {
  const uint8_t* q;
  const float* dx;
  const int32_t* init;
  const float* xs;
};

template <const BlockLayout& L>
EL_YMM_TARGET inline void accumulate(const YmmBlock& w, const YmmActs& a, int64_t blk, __m256& acc, __m256& accm) {
  const __m256i x = _mm256_load_si256(reinterpret_cast<const __m256i*>(a.q + blk * 32));
  const __m256i isum = dot<L>(w.q, x, _mm256_load_si256(reinterpret_cast<const __m256i*>(a.init + blk * 8)));
  acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(w.d, _mm256_load_ps(a.dx + blk * 8)), acc);
  if constexpr (L.m >= 0) accm = _mm256_fmadd_ps(w.m, _mm256_load_ps(a.xs + blk * 8), accm);
}

EL_YMM_TARGET inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <const BlockLayout& L, int T>
EL_YMM_TARGET void gemv_ymm(const GemvTask& task) {
  const ActOffsets o = act_offsets(task.cols);
  YmmActs acts[T];
  for (int t = 0; t < T; ++t) {
    const uint8_t* row = task.acts + static_cast<size_t>(t) * 4 * o.padded;
    acts[t] = {row, reinterpret_cast<const float*>(row + o.dx()), reinterpret_cast<const int32_t*>(row + o.init()),
               reinterpret_cast<const float*>(row + o.xs())};
  }
  const int64_t blocks = task.cols / 32;
  for (int64_t r = task.row_begin; r < task.row_end; ++r) {
    const uint8_t* w = task.w + static_cast<size_t>(r) * task.w_stride;
    __m256 acc[T][2], accm[T][2];
    for (int t = 0; t < T; ++t)
      for (int u = 0; u < 2; ++u) acc[t][u] = accm[t][u] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2) {
      const YmmBlock w0 = decode_block<L>(w + i * L.bytes), w1 = decode_block<L>(w + (i + 1) * L.bytes);
      for (int t = 0; t < T; ++t) {
        accumulate<L>(w0, acts[t], i, acc[t][0], accm[t][0]);
        accumulate<L>(w1, acts[t], i + 1, acc[t][1], accm[t][1]);
      }
    }
    if (i < blocks) {
      const YmmBlock w0 = decode_block<L>(w + i * L.bytes);
      for (int t = 0; t < T; ++t) accumulate<L>(w0, acts[t], i, acc[t][0], accm[t][0]);
    }
    for (int t = 0; t < T; ++t) {
      __m256 s = _mm256_add_ps(acc[t][0], acc[t][1]);
      if constexpr (L.m >= 0) s = _mm256_add_ps(s, _mm256_add_ps(accm[t][0], accm[t][1]));
      task.y[t * task.y_stride + r] = hsum(s);
    }
  }
}

template <const BlockLayout& L>
void gemv_ymm_any(const GemvTask& task) {
  switch (task.n_tokens) {
    case 1:
      return gemv_ymm<L, 1>(task);
    case 2:
      return gemv_ymm<L, 2>(task);
    default:
      return gemv_ymm<L, 3>(task);
  }
}

}  // namespace

GemvKernel kernel_for(GgmlType type) {
  // AVX2's Q8_0 keeps signed weights, so its activations carry no offset.
  constexpr int32_t q8_offset = EL_YMM_VNNI ? kQ8_0.offset : 0;
  switch (type) {
    case GgmlType::Q4_0:
      return {&gemv_ymm_any<kQ4_0>, kQ4_0.offset};
    case GgmlType::Q4_1:
      return {&gemv_ymm_any<kQ4_1>, kQ4_1.offset};
    case GgmlType::Q5_0:
      return {&gemv_ymm_any<kQ5_0>, kQ5_0.offset};
    case GgmlType::Q5_1:
      return {&gemv_ymm_any<kQ5_1>, kQ5_1.offset};
    case GgmlType::Q8_0:
      return {&gemv_ymm_any<kQ8_0>, q8_offset};
    default:
      return {};
  }
}

}  // namespace edgellm::gemv_detail::EL_YMM_NS
