// Plain-AVX2 prompt GEMM for x86 CPUs without any VNNI (Intel Haswell…Comet Lake, AMD Zen 1–3): the
// register tiling of the AVX-VNNI kernel (x86_avxvnni.cc: 8 rows, one half of a packed 16-row tile, × up
// to 4 tokens on ymm), the same packed tiles and expanded activations (kernels/gemm_pack.h), with
// vpdpbusd replaced by vpmaddubsw + vpmaddwd. Intrinsics because Highway 1.0.3 has no int8 dot product
// (its widest integer multiply-add is int16 ReorderWidenMulAccumulate, and nothing maps to vpmaddubsw).
//
// Arithmetic. vpmaddubsw multiplies unsigned bytes (the activations, u = x + 128 in 0..255) by signed
// bytes (the weight levels q) and adds adjacent pairs into SATURATING int16 lanes; vpmaddwd with ones
// then adds the two int16 lanes of each 4-byte word into an int32 row lane. Both multiplies run on the
// same ports, so the kernel adds kFlush steps' vpmaddubsw results in int16 (vpaddw, wrapping) before one
// vpmaddwd. Exactness: one vpmaddubsw lane is u0·q0 + u1·q1, |·| ≤ 2·255·qmax; kFlush of them in one
// lane stay within 510·kFlush·qmax, and flush_steps() picks kFlush so that this is ≤ 32767 — so no
// product pair saturates and no int16 sum, partial or final, leaves the int16 range. With the decoders'
// ranges (gemm_pack.h): Q2_K q ∈ 0..3, Q3_K −4..3 (kFlush 4 = a whole 16-column group), Q4_0 −8..7
// (8 = a whole 32-column group: 510·8·8 = 32640), Q4_1/Q4_K 0..15 and Q5_0 −16..15 (4), Q5_1/Q5_K
// 0..31 and Q6_K −32..31 (2: 510·2·32 = 32640).
//
// Q8_0 (q ∈ −128..127) does not fit: 2·255·127 overflows even one lane. There |q| is the unsigned side
// and the signed side is the activation byte with q's sign folded in by one XOR: u ^ (0x80 ^ m), where
// m = 0xFF where q < 0, is x where q ≥ 0 and ~x = −x − 1 where q < 0. So Σ |q|·that = Σ q·x − Σ_{q<0} |q|,
// a weight-only term the kernel adds back per row and group (in place of the tile's −128·Σq). Products
// lie in [128·−128, 128·127], so a pair is in [−32768, 32512]: no saturation for any x and q. Flushed
// every step (two pairs would not fit).
#include "kernels/x86_vnni.h"

#if defined(__x86_64__)
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm256_undefined_* helpers, as in x86_vnni.cc
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/gemm_pack.h"

#define EL_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace edgellm {
namespace {

using gemm::ActLayout;
using gemm::kActTokens;
using gemm::PackedTile;

struct ActPtrs {
  const uint8_t* q;   // step s of slot j at q + 32·s + 4·j
  const float* d;     // per 32-column group, slot stride kActTokens
  const float* dsum;  // per kGroup-column group (d·Σx)
};

// The largest |q| a decoder of gemm_pack.h produces; the saturation bound above rests on these.
template <class Dec>
constexpr int kQMax = 0;
template <>
constexpr int kQMax<gemm::DecQ4_0> = 8;
template <>
constexpr int kQMax<gemm::DecQ4_1> = 15;
template <>
constexpr int kQMax<gemm::DecQ5_0> = 16;
template <>
constexpr int kQMax<gemm::DecQ5_1> = 31;
template <>
constexpr int kQMax<gemm::DecQ8_0> = 128;
template <>
constexpr int kQMax<gemm::DecQ2_K> = 3;
template <>
constexpr int kQMax<gemm::DecQ3_K> = 4;
template <>
constexpr int kQMax<gemm::DecQ4_K> = 15;
template <>
constexpr int kQMax<gemm::DecQ5_K> = 31;
template <>
constexpr int kQMax<gemm::DecQ6_K> = 32;

// True for the types whose pair sums can saturate with u unsigned (Q8_0: the sign fold of the header).
template <class Dec>
constexpr bool kSignTrick = kQMax<Dec> > 64;

// Steps (4 columns each) whose vpmaddubsw results are added in int16 before one vpmaddwd: the largest
// power of two dividing the group's steps with 510·steps·qmax ≤ 32767 (1 for the sign fold).
template <class Dec>
constexpr int flush_steps() {
  static_assert(kQMax<Dec> > 0, "every decoder states its level range");
  if constexpr (kSignTrick<Dec>) {
    static_assert(2 * 128 * 127 <= 32767 && 2 * 128 * -128 >= -32768, "one sign-folded pair fits an int16 lane");
    return 1;
  } else {
    constexpr int q = kQMax<Dec>;
    int k = Dec::kGroup / 4;
    while (510 * k * q > 32767) k /= 2;
    return k;
  }
}
static_assert(flush_steps<gemm::DecQ4_0>() == 8 && flush_steps<gemm::DecQ2_K>() == 4 &&
                  flush_steps<gemm::DecQ5_0>() == 4 && flush_steps<gemm::DecQ6_K>() == 2,
              "the flush lengths the header comment proves");

// Lane mask for the first n of 8 floats (n <= 0: none).
EL_TARGET_AVX2 inline __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// T tokens × the 8 rows of half h of the tile over `groups` groups; y (row stride y_stride floats,
// already at the half's first row) receives the sums for its first `nrh` rows, added to what is there
// unless `first`. The token's scale is applied once per block (Dec::kCols columns): for the 32-column
// types that is once per group, folded into the row scale, so no separate per-block sum is kept.
template <int T, class Dec>
EL_TARGET_AVX2 void half_tokens(const PackedTile& tile, int h, int groups, const ActPtrs& a, float* y, int64_t y_stride,
                                int nrh, bool first) {
  constexpr int kGroup = Dec::kGroup, kSteps = kGroup / 4, kSpanGroups = Dec::kCols / kGroup;
  constexpr int kFlush = flush_steps<Dec>();
  constexpr bool kSign = kSignTrick<Dec>;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int g0 = 0; g0 < groups; g0 += kSpanGroups) {
    __m256 span[T];
    for (int t = 0; t < T; ++t) span[t] = _mm256_setzero_ps();
    const float* xd = a.d + (g0 * kGroup / 32) * kActTokens;
    for (int g = g0; g < g0 + kSpanGroups; ++g) {
      __m256i isum[T];
      for (int t = 0; t < T; ++t) isum[t] = _mm256_load_si256(reinterpret_cast<const __m256i*>(&tile.corr[g][8 * h]));
      const uint8_t* xq = a.q + g * kSteps * 32;
      for (int c0 = 0; c0 < kSteps; c0 += kFlush) {
        __m256i s16[T];
        for (int c = c0; c < c0 + kFlush; ++c) {
          const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(&tile.q[g * kSteps + c][32 * h]));
          const __m256i wu = kSign ? _mm256_abs_epi8(w) : w;
          // Q8_0: 0x80 where q ≥ 0, 0x7F where q < 0 (see the header).
          const __m256i flip =
              kSign ? _mm256_xor_si256(_mm256_cmpgt_epi8(_mm256_setzero_si256(), w), _mm256_set1_epi8(-128)) : w;
          for (int t = 0; t < T; ++t) {
            int32_t x4;
            std::memcpy(&x4, xq + 32 * c + 4 * t, sizeof(x4));
            __m256i x = _mm256_set1_epi32(x4);
            __m256i p;
            if constexpr (kSign)
              p = _mm256_maddubs_epi16(wu, _mm256_xor_si256(x, flip));
            else
              p = _mm256_maddubs_epi16(x, w);
            s16[t] = c == c0 ? p : _mm256_add_epi16(s16[t], p);
            // An empty asm keeps each token's int16 sum a chain in step order: vpaddw is a plain vector
            // add to GCC, which otherwise reassociates the sums, hoists every vpmaddubsw of the group
            // first and spills most of them (Q4_0 ran at half speed).
            asm("" : "+x"(s16[t]));
          }
        }
        for (int t = 0; t < T; ++t) isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(s16[t], ones));
      }
      const __m256 s = _mm256_load_ps(&tile.scale[g][8 * h]);
      if constexpr (kSpanGroups == 1) {
        for (int t = 0; t < T; ++t)
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), _mm256_mul_ps(s, _mm256_set1_ps(xd[t])), acc[t]);
      } else {
        for (int t = 0; t < T; ++t) span[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), s, span[t]);
      }
      if constexpr (Dec::kHasMin) {
        const __m256 mn = _mm256_load_ps(&tile.min[g][8 * h]);
        for (int t = 0; t < T; ++t) acc[t] = _mm256_fnmadd_ps(mn, _mm256_set1_ps(a.dsum[g * kActTokens + t]), acc[t]);
      }
    }
    if constexpr (kSpanGroups > 1)
      for (int t = 0; t < T; ++t) acc[t] = _mm256_fmadd_ps(span[t], _mm256_set1_ps(xd[t]), acc[t]);
  }
  const __m256i mask = lane_mask(nrh);
  for (int t = 0; t < T; ++t) {
    float* yt = y + t * y_stride;
    __m256 v = acc[t];
    if (!first) v = _mm256_add_ps(v, _mm256_maskload_ps(yt, mask));
    _mm256_maskstore_ps(yt, mask, v);
  }
}

// Q8_0: replaces the tile's correction by Σ_{q<0} |q| per row and group of 32 (see the header), from the
// packed steps: per 8-row half, min(q, 0) pair-summed by vpmaddubsw with ones (≥ −256 per lane), 8 steps
// added in int16 (≥ −2048), widened by vpmaddwd.
EL_TARGET_AVX2 void sign_fold_corr(PackedTile& tile, int groups) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
  for (int g = 0; g < groups; ++g)
    for (int h = 0; h < 2; ++h) {
      __m256i s16 = zero;
      for (int c = 0; c < 8; ++c) {
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(&tile.q[8 * g + c][32 * h]));
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(ones8, _mm256_min_epi8(w, zero)));
      }
      _mm256_store_si256(reinterpret_cast<__m256i*>(&tile.corr[g][8 * h]),
                         _mm256_sub_epi32(zero, _mm256_madd_epi16(s16, ones16)));
    }
}

// Rows [row_begin, row_end) × all tokens: per 16-row tile and 1024-column chunk, repack once, prefetch the
// next chunk, then run every token over each 8-row half in register tiles of 4, 2 and 1 tokens.
template <class Dec>
EL_TARGET_AVX2 void gemm_avx2(const GemmTask& task) {
  static_assert(gemm::kChunkCols % Dec::kCols == 0, "a chunk holds whole blocks");
  static_assert(gemm::kTileRows == 16, "a packed tile is covered in two halves of 8 rows");
  constexpr int kGroup = Dec::kGroup;
  using Block = typename Dec::Block;
  PackedTile tile;
  const ActLayout layout = gemm::act_layout(task.cols);
  const size_t dsum_off = kGroup == 32 ? layout.dsum32 : layout.dsum16;
  for (int64_t r0 = task.row_begin; r0 < task.row_end; r0 += gemm::kTileRows) {
    const int nr = static_cast<int>(std::min<int64_t>(gemm::kTileRows, task.row_end - r0));
    const uint8_t* wrow = task.w + static_cast<size_t>(r0) * task.w_stride;
    for (int64_t c0 = 0; c0 < task.cols; c0 += gemm::kChunkCols) {
      const int cols = static_cast<int>(std::min<int64_t>(gemm::kChunkCols, task.cols - c0));
      gemm::pack_tile<Dec>(wrow + static_cast<size_t>(c0 / Dec::kCols) * sizeof(Block), task.w_stride, nr, cols, tile);
      if constexpr (kSignTrick<Dec>) {
        static_assert(kGroup == 32, "sign_fold_corr() sums groups of 8 steps");
        sign_fold_corr(tile, cols / kGroup);
      }
      if (c0 + gemm::kChunkCols < task.cols)
        gemm::prefetch_chunk(wrow + static_cast<size_t>((c0 + gemm::kChunkCols) / Dec::kCols) * sizeof(Block),
                             task.w_stride, nr, gemm::chunk_bytes<Dec>(task.cols - c0 - gemm::kChunkCols));
      else if (r0 + gemm::kTileRows < task.row_end)
        gemm::prefetch_chunk(wrow + gemm::kTileRows * task.w_stride, task.w_stride,
                             static_cast<int>(std::min<int64_t>(gemm::kTileRows, task.row_end - r0 - gemm::kTileRows)),
                             gemm::chunk_bytes<Dec>(task.cols));
      const int groups = cols / kGroup;
      const bool first = c0 == 0;
      for (int h = 0; h * 8 < nr; ++h) {
        for (int64_t t0 = 0; t0 < task.n_tokens; t0 += kActTokens) {
          const uint8_t* base = task.acts + static_cast<size_t>(t0 / kActTokens) * layout.bytes;
          const int n = static_cast<int>(std::min<int64_t>(kActTokens, task.n_tokens - t0));
          auto run = [&](auto tokens, int j) {
            const ActPtrs a{base + c0 * 8 + 4 * j, reinterpret_cast<const float*>(base + layout.d) + c0 / 32 * 8 + j,
                            reinterpret_cast<const float*>(base + dsum_off) + c0 / kGroup * 8 + j};
            half_tokens<decltype(tokens)::value, Dec>(tile, h, groups, a, task.y + (t0 + j) * task.rows + r0 + 8 * h,
                                                      task.rows, nr - 8 * h, first);
          };
          int j = 0;
          for (; n - j >= 4; j += 4) run(std::integral_constant<int, 4>{}, j);
          if (n - j >= 2) run(std::integral_constant<int, 2>{}, j), j += 2;
          if (n - j >= 1) run(std::integral_constant<int, 1>{}, j);
        }
      }
    }
  }
}

}  // namespace

GemmFn x86_avx2_gemm(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::Q4_0:
      return &gemm_avx2<gemm::DecQ4_0>;
    case GgmlType::Q4_1:
      return &gemm_avx2<gemm::DecQ4_1>;
    case GgmlType::Q5_0:
      return &gemm_avx2<gemm::DecQ5_0>;
    case GgmlType::Q5_1:
      return &gemm_avx2<gemm::DecQ5_1>;
    case GgmlType::Q8_0:
      return &gemm_avx2<gemm::DecQ8_0>;
    case GgmlType::Q2_K:
      return &gemm_avx2<gemm::DecQ2_K>;
    case GgmlType::Q3_K:
      return &gemm_avx2<gemm::DecQ3_K>;
    case GgmlType::Q4_K:
      return &gemm_avx2<gemm::DecQ4_K>;
    case GgmlType::Q5_K:
      return &gemm_avx2<gemm::DecQ5_K>;
    case GgmlType::Q6_K:
      return &gemm_avx2<gemm::DecQ6_K>;
    default:
      return nullptr;
  }
}

}  // namespace edgellm

#else  // not x86-64: no AVX2 kernels

namespace edgellm {
GemmFn x86_avx2_gemm(GgmlType) { return nullptr; }
}  // namespace edgellm

#endif
