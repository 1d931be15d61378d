// AVX-512 VBMI + VNNI table-lookup GEMV over the 16-row tiles of kernels/lut_gemv.h, and an AVX-512 builder of
// the activation tables. Highway 1.0.3 has no 64-byte table lookup (vpermb), no int8 dot product (vpdpbusd) and
// no ternary logic op, so this is intrinsics, compiled per function for those targets and chosen at run time
// from cpu_features().
//
// Why: the Highway kernel widens every looked-up byte to int16 (vpmovsxbw and lane extracts: shuffles) before
// adding, about 15 vector operations per plane, 32 columns and 16 rows. Here the widening and the sum over the 4
// plane bytes of a 32-activation block are one vpdpbusd:
//   1. one vpermb turns the tile's [plane byte b][row r] bytes into [row r][plane byte b] (a row per dword);
//   2. nibble index | 16·b (one vpternlogd; for the ternary "−1" plane the nibble is inverted, since the
//      tables hold T[15 − i] = −T[i]) selects table b of the 64-byte register holding the 4 tables of one
//      nibble half (activation tables are stored in that order: kernels/elq.h);
//   3. vpermb looks the 64 bytes up; vpdpbusd multiplies them by the plane weight 2^k and adds the 4 bytes of
//      each row into its int32 lane.
// That is 8 operations per plane, 32 columns and 16 rows (2 of them shuffles), int32 sums are exact, and they
// are converted to float once per 32 columns (the activation scale) and scaled by the row scales once per group.
#include "kernels/lut_gemv.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers as maybe-uninitialized when intrinsics are inlined into
// target-attributed functions (see x86_vnni.cc).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "core/cpu_features.h"

#define EL_TARGET_LUT_VBMI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,f16c")))
#define EL_TARGET_LUT_ACT __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace edgellm {
namespace {

// Software prefetch distance into the codes, one prefetch per 64-byte line read: the hardware prefetcher alone
// left the kernel at 65-75 % of a plain read of the same bytes from DRAM; 4-32 KB ahead gives 80-95 %
// (lut_bench DecodeDram vs StreamRead, same runs).
constexpr int kPrefetchBytes = 8192;
// The coefficients are a second, 8-16x thinner stream: one prefetch per group.
constexpr int kPrefetchCoeffBytes = 1024;

template <int kPlanes, bool kTernary, bool kZeroPoint>
EL_TARGET_LUT_VBMI void gemv(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
                             int64_t n_tokens, float* y, int64_t y_stride) {
  const ElqFormat& f = *w.format;
  const int64_t groups = w.cols / f.group;
  const int plane_bytes = f.group / 8;
  const int acts = f.group / kElqActBlock;
  const size_t tile_group_codes = static_cast<size_t>(kPlanes * plane_bytes * kLutTileRows);
  const size_t halves = lut_coeff_halves(f);
  const float half_range = 0.5f * static_cast<float>((1 << f.bits) - 1);

  // Byte 4r + b of the transposed vector is byte 16b + r of the tile's 4 plane bytes; its table is number b.
  alignas(64) uint8_t transpose[64], select[64];
  for (int i = 0; i < 64; ++i) {
    transpose[i] = static_cast<uint8_t>(16 * (i % 4) + i / 4);
    select[i] = static_cast<uint8_t>(16 * (i % 4));
  }
  const __m512i vtr = _mm512_load_si512(transpose), vsel = _mm512_load_si512(select);
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  __m512i weight[kPlanes];
  for (int k = 0; k < kPlanes; ++k) weight[k] = _mm512_set1_epi8(static_cast<char>(kTernary ? 1 : 1 << k));
  // vpternlogd truth tables (A = data, B = 0x0F, C = table select): (A & B) | C, and (~A & B) | C.
  constexpr int kIndex = 0xEA, kIndexInverted = 0xAE;

  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    const auto* xt = reinterpret_cast<const BlockElqAct*>(static_cast<const uint8_t*>(x) + tok * x_stride);
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      __m512 acc_d = _mm512_setzero_ps(), acc_e = _mm512_setzero_ps();
      const uint8_t* codes = w.codes.data() + static_cast<size_t>(t * groups) * tile_group_codes;
      const uint16_t* coeffs =
          reinterpret_cast<const uint16_t*>(w.coeffs.data()) + static_cast<size_t>(t * groups) * halves;
      for (int64_t g = 0; g < groups; ++g, codes += tile_group_codes, coeffs += halves) {
        const BlockElqAct* act = xt + g * acts;
        _mm_prefetch(reinterpret_cast<const char*>(coeffs) + kPrefetchCoeffBytes, _MM_HINT_T0);
        __m512 fs = _mm512_setzero_ps();
        float xsum = 0.0f;
        for (int a = 0; a < acts; ++a) {
          const __m512i tl = _mm512_loadu_si512(act[a].tables[0]), th = _mm512_loadu_si512(act[a].tables[4]);
          __m512i isum = _mm512_setzero_si512();
          for (int k = 0; k < kPlanes; ++k) {
            const uint8_t* line = codes + (k * plane_bytes + 4 * a) * kLutTileRows;
            _mm_prefetch(reinterpret_cast<const char*>(line) + kPrefetchBytes, _MM_HINT_T0);
            const __m512i raw = _mm512_loadu_si512(line);
            const __m512i v = _mm512_permutexvar_epi8(vtr, raw);
            const __m512i vh = _mm512_srli_epi16(v, 4);
            constexpr bool kInvert = kTernary;  // plane 1 of a ternary code is the "−1" mask
            __m512i ilo, ihi;
            if (kInvert && k == 1) {
              ilo = _mm512_ternarylogic_epi32(v, nibble, vsel, kIndexInverted);
              ihi = _mm512_ternarylogic_epi32(vh, nibble, vsel, kIndexInverted);
            } else {
              ilo = _mm512_ternarylogic_epi32(v, nibble, vsel, kIndex);
              ihi = _mm512_ternarylogic_epi32(vh, nibble, vsel, kIndex);
            }
            isum = _mm512_dpbusd_epi32(isum, weight[k], _mm512_permutexvar_epi8(ilo, tl));
            isum = _mm512_dpbusd_epi32(isum, weight[k], _mm512_permutexvar_epi8(ihi, th));
          }
          fs = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(act[a].scale), fs);
          if constexpr (kZeroPoint) xsum += act[a].sum;
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(coeffs)));
        acc_d = _mm512_fmadd_ps(d, fs, acc_d);
        if constexpr (kZeroPoint) {
          const __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(coeffs + kLutTileRows)));
          acc_e = _mm512_fmadd_ps(_mm512_fmadd_ps(d, _mm512_set1_ps(half_range), m), _mm512_set1_ps(xsum), acc_e);
        }
      }
      // The lookups sum ±x: q·x = (lookup + Σx) / 2, whose Σx half is in the zero-point term.
      const __m512 out = _mm512_fmadd_ps(acc_d, _mm512_set1_ps(0.5f), acc_e);
      const int64_t valid = w.rows - t * kLutTileRows;
      const auto mask = static_cast<__mmask16>(valid >= kLutTileRows ? 0xFFFF : (1u << valid) - 1);
      _mm512_mask_storeu_ps(y + tok * y_stride + t * kLutTileRows, mask, out);
    }
  }
}

void gemv_any(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
              int64_t n_tokens, float* y, int64_t y_stride) {
  static const LutGemvFn kSymmetric[] = {&gemv<1, false, false>, &gemv<2, false, false>, &gemv<3, false, false>,
                                         &gemv<4, false, false>, &gemv<5, false, false>, &gemv<6, false, false>,
                                         &gemv<7, false, false>, &gemv<8, false, false>};
  static const LutGemvFn kZeroPointFns[] = {&gemv<1, false, true>, &gemv<2, false, true>, &gemv<3, false, true>,
                                            &gemv<4, false, true>, &gemv<5, false, true>, &gemv<6, false, true>,
                                            &gemv<7, false, true>, &gemv<8, false, true>};
  const ElqFormat& f = *w.format;
  const LutGemvFn fn = f.ternary ? &gemv<2, true, false> : (f.zero_point ? kZeroPointFns : kSymmetric)[f.bits - 1];
  fn(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
}

// v broadcast, XOR sign: ±v per lane, in the integer domain (AVX-512 F has no float XOR).
EL_TARGET_LUT_ACT inline __m512 flip(float v, __m512i sign) {
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(_mm512_set1_ps(v)), sign));
}

// The tables of elq_act_from_float, 16 entries per vector: entry i of table j is the sum, in the scalar order,
// of x[4j + l] with sign + where bit l of i is set, so the int8 entries and the scale are bit-exact.
EL_TARGET_LUT_ACT void act_from_float(const float* in, void* dst, int64_t n) {
  auto* out = static_cast<BlockElqAct*>(dst);
  alignas(64) int32_t idx[16];
  for (int i = 0; i < 16; ++i) idx[i] = i;
  const __m512i lane = _mm512_load_si512(idx);
  __m512i sign[4];
  for (int l = 0; l < 4; ++l) {
    // −0.0 (sign bit) where bit l of the entry index is clear: x XOR sign = −x there.
    const __mmask16 clear = _mm512_testn_epi32_mask(lane, _mm512_set1_epi32(1 << l));
    sign[l] = _mm512_maskz_mov_epi32(clear, _mm512_set1_epi32(INT32_MIN));
  }

  alignas(64) float src[kElqActBlock];
  for (int64_t b = 0; b < n / kElqActBlock; ++b, in += kElqActBlock) {
    // Non-finite activations become 0, as in the scalar builder (x − x is 0 only for finite x).
    __m512 sum_v = _mm512_setzero_ps();
    for (int h = 0; h < 2; ++h) {
      const __m512 v = _mm512_loadu_ps(in + 16 * h);
      const __mmask16 finite = _mm512_cmp_ps_mask(_mm512_sub_ps(v, v), _mm512_setzero_ps(), _CMP_EQ_OQ);
      const __m512 clean = _mm512_maskz_mov_ps(finite, v);
      _mm512_store_ps(src + 16 * h, clean);
      sum_v = _mm512_add_ps(sum_v, clean);
    }
    __m512 t[8];
    __m512 amax = _mm512_setzero_ps();
    for (int j = 0; j < 8; ++j) {
      __m512 s = flip(src[4 * j], sign[0]);
      for (int l = 1; l < 4; ++l) s = _mm512_add_ps(s, flip(src[4 * j + l], sign[l]));
      t[j] = s;
      amax = _mm512_max_ps(amax, _mm512_abs_ps(s));
    }
    const float scale = _mm512_reduce_max_ps(amax) / 127.0f;
    const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    out[b].scale = scale;
    out[b].sum = _mm512_reduce_add_ps(sum_v);
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    for (int j = 0; j < 8; ++j) {
      // cvtps rounds to nearest even under the default MXCSR, as nearbyint does.
      __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(t[j], vinv));
      q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].tables[elq_act_table_slot(j)]), _mm512_cvtepi32_epi8(q));
    }
  }
}

}  // namespace

LutGemvFn lut_gemv_vbmi() {
  const CpuFeatures& c = cpu_features();
  const bool ok = c.avx512f && c.avx512bw && c.avx512vl && c.avx512vnni && c.avx512vbmi && c.f16c;
  return ok ? &gemv_any : nullptr;
}

LutActFn lut_act_avx512() {
  const CpuFeatures& c = cpu_features();
  return c.avx512f && c.avx512bw && c.avx512vl ? &act_from_float : nullptr;
}

}  // namespace edgellm

#else  // not x86-64

namespace edgellm {
LutGemvFn lut_gemv_vbmi() { return nullptr; }
LutActFn lut_act_avx512() { return nullptr; }
}  // namespace edgellm

#endif
