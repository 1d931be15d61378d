// AVX-VNNI (256-bit, VEX-encoded vpdpbusd) prompt GEMM for x86 CPUs without AVX-512 VNNI (Alder Lake
// and later client cores, some Zen 4/5 parts); same scheme and data layouts as the AVX-512 kernel
// (kernels/x86_vnni.cc, kernels/gemm_pack.h). Intrinsics because Highway 1.0.3 has no int8 dot product.
//
// With 16 ymm registers the register tile is 8 rows (one half of a packed 16-row tile: bytes 0..31 of
// each 64-byte step) × 4 tokens: 4 int32 sums, 4 float accumulators, the weights and a broadcast.
#include "kernels/x86_vnni.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm256_undefined_* helpers, as in x86_vnni.cc
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/gemm_pack.h"

#define EL_TARGET_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

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

// Lane mask for the first n of 8 floats (n <= 0: none).
EL_TARGET_AVXVNNI inline __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// T tokens × the 8 rows of half h of the tile; y (row stride y_stride floats, already at the half's
// first row) receives the sums for its first `nrh` rows, added to what is there unless `first`. The token's
// scale is applied once per kSpan columns, as in x86_vnni.cc.
template <int T, int kGroup, int kSpan, bool kHasMin>
EL_TARGET_AVXVNNI void half_tokens(const PackedTile& tile, int h, int groups, const ActPtrs& a, float* y,
                                   int64_t y_stride, int nrh, bool first) {
  constexpr int kSteps = kGroup / 4, kSpanGroups = kSpan / kGroup;
  static_assert(kSpan % kGroup == 0 && kSpan % 32 == 0, "groups tile the activation-scale span");
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int g0 = 0; g0 < groups; g0 += kSpanGroups) {
    __m256 span[T];
    for (int t = 0; t < T; ++t) span[t] = _mm256_setzero_ps();
    for (int g = g0; g < g0 + kSpanGroups; ++g) {
      const __m256i corr = _mm256_load_si256(reinterpret_cast<const __m256i*>(&tile.corr[g][8 * h]));
      __m256i isum[T];
      for (int t = 0; t < T; ++t) isum[t] = corr;
      const uint8_t* xq = a.q + g * kSteps * 32;
      for (int c = 0; c < kSteps; ++c) {
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(&tile.q[g * kSteps + c][32 * h]));
        for (int t = 0; t < T; ++t) {
          int32_t x4;
          std::memcpy(&x4, xq + 32 * c + 4 * t, sizeof(x4));
          isum[t] = _mm256_dpbusd_avx_epi32(isum[t], _mm256_set1_epi32(x4), w);
        }
      }
      const __m256 s = _mm256_load_ps(&tile.scale[g][8 * h]);
      for (int t = 0; t < T; ++t) span[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), s, span[t]);
      if constexpr (kHasMin) {
        const __m256 mn = _mm256_load_ps(&tile.min[g][8 * h]);
        for (int t = 0; t < T; ++t) acc[t] = _mm256_fnmadd_ps(mn, _mm256_set1_ps(a.dsum[g * kActTokens + t]), acc[t]);
      }
    }
    const float* xd = a.d + (g0 * kGroup / 32) * kActTokens;
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

template <class Dec>
EL_TARGET_AVXVNNI void gemm_avx2(const GemmTask& task) {
  static_assert(gemm::kChunkCols % Dec::kCols == 0, "a chunk holds whole blocks");
  constexpr int kGroup = Dec::kGroup;
  PackedTile tile;
  const ActLayout layout = gemm::act_layout(task.cols);
  const size_t dsum_off = kGroup == 32 ? layout.dsum32 : layout.dsum16;
  for (int64_t r0 = task.row_begin; r0 < task.row_end; r0 += gemm::kTileRows) {
    const int nr = static_cast<int>(std::min<int64_t>(gemm::kTileRows, task.row_end - r0));
    const uint8_t* wrow = task.w + static_cast<size_t>(r0) * task.w_stride;
    for (int64_t c0 = 0; c0 < task.cols; c0 += gemm::kChunkCols) {
      const int cols = static_cast<int>(std::min<int64_t>(gemm::kChunkCols, task.cols - c0));
      gemm::pack_tile<Dec>(wrow + static_cast<size_t>(c0 / Dec::kCols) * sizeof(typename Dec::Block), task.w_stride, nr,
                           cols, tile);
      const int groups = cols / kGroup;
      const bool first = c0 == 0;
      if (c0 + gemm::kChunkCols < task.cols)
        gemm::prefetch_chunk(
            wrow + static_cast<size_t>((c0 + gemm::kChunkCols) / Dec::kCols) * sizeof(typename Dec::Block),
            task.w_stride, nr, gemm::chunk_bytes<Dec>(task.cols - c0 - gemm::kChunkCols));
      else if (r0 + gemm::kTileRows < task.row_end)
        gemm::prefetch_chunk(wrow + gemm::kTileRows * task.w_stride, task.w_stride,
                             static_cast<int>(std::min<int64_t>(gemm::kTileRows, task.row_end - r0 - gemm::kTileRows)),
                             gemm::chunk_bytes<Dec>(task.cols));
      for (int h = 0; h * 8 < nr; ++h) {
        for (int64_t t0 = 0; t0 < task.n_tokens; t0 += kActTokens) {
          const uint8_t* base = task.acts + static_cast<size_t>(t0 / kActTokens) * layout.bytes;
          const int n = static_cast<int>(std::min<int64_t>(kActTokens, task.n_tokens - t0));
          // Token slots j.. of this tile, in register tiles of 4, 2 and 1 tokens.
          auto run = [&](auto tokens, int j) {
            const ActPtrs a{base + c0 * 8 + 4 * j, reinterpret_cast<const float*>(base + layout.d) + c0 / 32 * 8 + j,
                            reinterpret_cast<const float*>(base + dsum_off) + c0 / kGroup * 8 + j};
            half_tokens<decltype(tokens)::value, kGroup, Dec::kCols, Dec::kHasMin>(
                tile, h, groups, a, task.y + (t0 + j) * task.rows + r0 + 8 * h, task.rows, nr - 8 * h, first);
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

static_assert(gemm::kTileRows == 16, "gemm_avx2() covers a packed tile in two halves of 8 rows");

}  // namespace

GemmFn x86_avxvnni_gemm(GgmlType weight_type) {
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

#else  // not x86-64: no VNNI kernels

namespace edgellm {
GemmFn x86_avxvnni_gemm(GgmlType) { return nullptr; }
}  // namespace edgellm

#endif
