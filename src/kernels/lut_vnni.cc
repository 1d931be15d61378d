// AVX-512 VNNI prompt GEMM over the table-lookup tile layout (kernels/lut_gemm.h). Highway 1.0.3 has no int8
// dot product (vpdpbusd), nor a byte-mask test/masked add, so this is intrinsics, compiled per function for
// the VNNI target and chosen at run time by lut_gemm_kernel().
//
// Expansion: a tile stores, per plane k and plane byte p, the byte of 16 rows side by side (bit i = column
// 8p + i). Broadcasting those 16 bytes to the 4 lanes and shuffling byte r to positions 4r..4r+3 puts each
// row's byte under the 4 dword bytes that will hold its columns; a test against the per-position bit
// (1 << (column % 8)) yields a 64-bit mask, and a masked add of 2^k sets bit k of the code. Two tests per
// shuffle give the vectors of columns 8p..8p+3 and 8p+4..8p+7 (4 columns of 16 rows each, as vpdpbusd wants).
// The codes are unsigned (ternary: 1 + t), so w = d·(q − h) + e per group gives
// y = d·Σ dx·Σ q·xq − (d·h − e)·Σ dx·Σ xq, the second term applied in float per 32 columns.
#include <algorithm>
#include <cstring>

#include "kernels/lut_gemm.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers as maybe-uninitialized when intrinsics are inlined into
// target-attributed functions (see x86_vnni.cc).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#define EL_TARGET_LUT_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

namespace edgellm {
namespace {

constexpr int kSub = 32;         // columns per activation scale
// At most 1024 columns of 16 rows expanded at a time (16 KB of codes, in L1); the chunk actually used is a
// run-time value (kernels/lut_tune.h), because the best size depends on the L1 and on the prompt length.
constexpr int kChunkSubs = kLutGemmMaxChunkSubs;
constexpr int kTokenTile = 8;    // tokens per register tile: 8 int32 + 8 float accumulators

struct Expanded {
  alignas(64) uint8_t q[kChunkSubs][8][64];  // sub-block, 4-column step, row-interleaved codes
  alignas(64) float scale[kChunkSubs][16];   // d per row
  alignas(64) float min[kChunkSubs][16];     // d·h − e per row
};

struct Acts {
  const uint8_t* base;
  size_t stride;
  int64_t cols;
  const int8_t* q(int64_t t) const { return reinterpret_cast<const int8_t*>(base + static_cast<size_t>(t) * stride); }
  const float* d(int64_t t) const {
    return reinterpret_cast<const float*>(base + static_cast<size_t>(t) * stride + cols);
  }
  const int32_t* s(int64_t t) const { return reinterpret_cast<const int32_t*>(d(t) + cols / kSub); }
};

// Expands sub-blocks [s0, s0 + n) (32 columns each) of tile t.
template <int kBits, bool kTernary>
EL_TARGET_LUT_VNNI void expand(const LutPacked& w, int64_t t, int64_t s0, int n, Expanded& out) {
  const int group = w.format->group;
  const int plane_bytes = group / 8, subs = group / kSub;
  const int64_t groups = w.cols / group;
  const size_t tile_group_codes = static_cast<size_t>(kBits * plane_bytes * kLutTileRows);
  const float h = kTernary ? 1.0f : 0.5f * static_cast<float>((1 << kBits) - 1);
  // Byte 4r + j of a vector takes row r's byte, tested against bit j (low half) or 4 + j (high half).
  alignas(64) uint8_t idx[64], bit_lo[64], bit_hi[64];
  for (int i = 0; i < 64; ++i) {
    idx[i] = static_cast<uint8_t>(i / 4);
    bit_lo[i] = static_cast<uint8_t>(1u << (i % 4));
    bit_hi[i] = static_cast<uint8_t>(1u << (4 + i % 4));
  }
  const __m512i vidx = _mm512_load_si512(idx), vlo = _mm512_load_si512(bit_lo), vhi = _mm512_load_si512(bit_hi);
  const __m512i start = _mm512_set1_epi8(kTernary ? 1 : 0);
  for (int i = 0; i < n; ++i) {
    const int64_t sub = s0 + i, g = sub / subs;
    const int sl = static_cast<int>(sub % subs);
    const size_t tg = static_cast<size_t>(t * groups + g);
    const uint8_t* codes = w.codes.data() + tg * tile_group_codes;
    for (int c2 = 0; c2 < 4; ++c2) {
      __m512i lo = start, hi = start;
      for (int k = 0; k < kBits; ++k) {
        const __m128i rows16 =
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + (k * plane_bytes + 4 * sl + c2) * kLutTileRows));
        const __m512i v = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(rows16), vidx);
        const __mmask64 ml = _mm512_test_epi8_mask(v, vlo), mh = _mm512_test_epi8_mask(v, vhi);
        if constexpr (kTernary) {
          const __m512i one = _mm512_set1_epi8(1);
          lo = k == 0 ? _mm512_mask_add_epi8(lo, ml, lo, one) : _mm512_mask_sub_epi8(lo, ml, lo, one);
          hi = k == 0 ? _mm512_mask_add_epi8(hi, mh, hi, one) : _mm512_mask_sub_epi8(hi, mh, hi, one);
        } else {
          const __m512i bit = _mm512_set1_epi8(static_cast<char>(1 << k));
          lo = _mm512_mask_add_epi8(lo, ml, lo, bit);
          hi = _mm512_mask_add_epi8(hi, mh, hi, bit);
        }
      }
      _mm512_store_si512(out.q[i][2 * c2], lo);
      _mm512_store_si512(out.q[i][2 * c2 + 1], hi);
    }
    // d·h − e is −m with a zero point (e = m + d·h), d·h without.
    const uint8_t* coeffs = w.coeffs.data() + tg * lut_coeff_halves(*w.format) * sizeof(uint16_t);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(coeffs)));
    _mm512_store_ps(out.scale[i], d);
    if (w.format->zero_point) {
      const __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(coeffs + 32)));
      _mm512_store_ps(out.min[i], _mm512_sub_ps(_mm512_setzero_ps(), m));
    } else {
      _mm512_store_ps(out.min[i], _mm512_mul_ps(d, _mm512_set1_ps(h)));
    }
  }
}

// T tokens starting at t0 × the 16 rows of `ex` over its n sub-blocks (global sub-block s0 on); adds into y
// (row stride y_stride) for the rows in mask m, or overwrites when `first`.
template <int T>
EL_TARGET_LUT_VNNI void tokens(const Expanded& ex, int n, int64_t s0, const Acts& acts, int64_t t0, float* y,
                               int64_t y_stride, __mmask16 m, bool first) {
  const int8_t* xq[T];
  const float* xd[T];
  const int32_t* xs[T];
  for (int t = 0; t < T; ++t) {
    xq[t] = acts.q(t0 + t) + s0 * kSub;
    xd[t] = acts.d(t0 + t) + s0;
    xs[t] = acts.s(t0 + t) + s0;
  }
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int i = 0; i < n; ++i) {
    __m512i isum[T];
    for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
    for (int c = 0; c < 8; ++c) {
      const __m512i wq = _mm512_load_si512(ex.q[i][c]);
      for (int t = 0; t < T; ++t) {
        int32_t x4;
        std::memcpy(&x4, xq[t] + i * kSub + 4 * c, sizeof(x4));
        isum[t] = _mm512_dpbusd_epi32(isum[t], wq, _mm512_set1_epi32(x4));
      }
    }
    const __m512 d = _mm512_load_ps(ex.scale[i]), mn = _mm512_load_ps(ex.min[i]);
    for (int t = 0; t < T; ++t) {
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, _mm512_set1_ps(xd[t][i])), acc[t]);
      acc[t] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(xd[t][i] * static_cast<float>(xs[t][i])), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float* yt = y + (t0 + t) * y_stride;
    __m512 v = acc[t];
    if (!first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, yt));
    _mm512_mask_storeu_ps(yt, m, v);
  }
}

template <int kBits, bool kTernary>
EL_TARGET_LUT_VNNI void gemm(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts_base,
                             int64_t n_tokens, float* y, int64_t y_stride, int chunk_subs) {
  chunk_subs = std::clamp(chunk_subs, 1, kChunkSubs);
  Expanded ex;
  const Acts acts{acts_base, lut_gemm_act_row_bytes(w.cols), w.cols};
  const int64_t n_subs = w.cols / kSub;
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const int64_t nr = std::min<int64_t>(kLutTileRows, w.rows - t * kLutTileRows);
    const auto m = static_cast<__mmask16>((1u << nr) - 1);
    float* yt = y + t * kLutTileRows;
    for (int64_t s0 = 0; s0 < n_subs; s0 += chunk_subs) {
      const int n = static_cast<int>(std::min<int64_t>(chunk_subs, n_subs - s0));
      expand<kBits, kTernary>(w, t, s0, n, ex);
      const bool first = s0 == 0;
      int64_t tok = 0;
      for (; tok + kTokenTile <= n_tokens; tok += kTokenTile)
        tokens<kTokenTile>(ex, n, s0, acts, tok, yt, y_stride, m, first);
      if (tok + 4 <= n_tokens) {
        tokens<4>(ex, n, s0, acts, tok, yt, y_stride, m, first);
        tok += 4;
      }
      if (tok + 2 <= n_tokens) {
        tokens<2>(ex, n, s0, acts, tok, yt, y_stride, m, first);
        tok += 2;
      }
      if (tok < n_tokens) tokens<1>(ex, n, s0, acts, tok, yt, y_stride, m, first);
    }
  }
}

}  // namespace

LutGemmChunkedFn lut_vnni_gemm_chunked() {
  static constexpr LutGemmChunkedFn kByBits[] = {&gemm<1, false>, &gemm<2, false>, &gemm<3, false>, &gemm<4, false>,
                                                 &gemm<5, false>, &gemm<6, false>, &gemm<7, false>, &gemm<8, false>};
  return [](const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts, int64_t n_tokens, float* y,
            int64_t y_stride, int chunk_subs) {
    const LutGemmChunkedFn fn = w.format->ternary ? &gemm<2, true> : kByBits[w.format->bits - 1];
    fn(w, tile_begin, tile_end, acts, n_tokens, y, y_stride, chunk_subs);
  };
}

}  // namespace edgellm

#else  // not x86-64: no VNNI kernel

namespace edgellm {
LutGemmChunkedFn lut_vnni_gemm_chunked() { return nullptr; }
}  // namespace edgellm

#endif
