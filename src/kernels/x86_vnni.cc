// AVX-512 VNNI prompt GEMM (see kernels/simd_gemm.h for the scheme, kernels/gemm_pack.h for the data
// layouts). Highway 1.0.3 has no int8 dot product, so this is intrinsics, compiled per function for the
// VNNI target and chosen at run time.
//
// Register tile: 16 rows (one zmm) × up to 8 tokens. Per 4 columns, one load of the packed weights meets
// one 4-byte broadcast per token, and vpdpbusd adds 4 products to each row's int32 lane, so no
// horizontal sums are needed. Per group (16 or 32 columns) the integer sum is converted once and scaled
// by the row's scale times the token's scale.
#include "kernels/x86_vnni.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers (self-initialised on purpose) as maybe-uninitialized
// when intrinsics are inlined into target-attributed functions; the warning says nothing about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/gemm_pack.h"

#define EL_TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#include "kernels/x86_vnni_pack.h"

namespace edgellm {
namespace {

using gemm::ActLayout;
using gemm::kActTokens;
using gemm::PackedTile;

// Where one token slot's data starts inside an activation tile, from the chunk's first column.
struct ActPtrs {
  const uint8_t* q;   // step s of slot j at q + 32·s + 4·j
  const float* d;     // per 32-column group, slot stride kActTokens
  const float* dsum;  // per kGroup-column group (d·Σx)
};

// T tokens × 16 rows over `groups` packed groups of kGroup columns; y (row stride y_stride floats)
// receives the sums for the rows in mask m, added to what is there unless `first`. The activation scale
// is constant over kSpan columns (32 for Q8_0, a 256-column super-block for Q8_K): over a span the
// integer sums are scaled by the weight scales only, and the span's sum once by the token's scale, which
// saves a multiply per group and token where one span holds several groups.
template <int T, int kGroup, int kSpan, bool kHasMin>
EL_TARGET_VNNI void tile_tokens(const PackedTile& tile, int groups, const ActPtrs& a, float* y, int64_t y_stride,
                                __mmask16 m, bool first) {
  constexpr int kSteps = kGroup / 4, kSpanGroups = kSpan / kGroup;
  static_assert(kSpan % kGroup == 0 && kSpan % 32 == 0, "groups tile the activation-scale span");
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int g0 = 0; g0 < groups; g0 += kSpanGroups) {
    __m512 span[T];
    for (int t = 0; t < T; ++t) span[t] = _mm512_setzero_ps();
    for (int g = g0; g < g0 + kSpanGroups; ++g) {
      const __m512i corr = _mm512_load_si512(tile.corr[g]);
      __m512i isum[T];
      for (int t = 0; t < T; ++t) isum[t] = corr;
      const uint8_t* xq = a.q + g * kSteps * 32;
      for (int c = 0; c < kSteps; ++c) {
        const __m512i w = _mm512_load_si512(tile.q[g * kSteps + c]);
        for (int t = 0; t < T; ++t) {
          int32_t x4;
          std::memcpy(&x4, xq + 32 * c + 4 * t, sizeof(x4));
          isum[t] = _mm512_dpbusd_epi32(isum[t], _mm512_set1_epi32(x4), w);
        }
      }
      const __m512 s = _mm512_load_ps(tile.scale[g]);
      for (int t = 0; t < T; ++t) span[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), s, span[t]);
      if constexpr (kHasMin) {
        const __m512 mn = _mm512_load_ps(tile.min[g]);
        for (int t = 0; t < T; ++t) acc[t] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(a.dsum[g * kActTokens + t]), acc[t]);
      }
    }
    const float* xd = a.d + (g0 * kGroup / 32) * kActTokens;
    for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(span[t], _mm512_set1_ps(xd[t]), acc[t]);
  }
  for (int t = 0; t < T; ++t) {
    float* yt = y + t * y_stride;
    __m512 v = acc[t];
    if (!first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, yt));
    _mm512_mask_storeu_ps(yt, m, v);
  }
}

// Tile repack policies: in registers (x86_vnni_pack.h) or the portable per-row repack.
template <class G>
struct VecPack : G {
  EL_TARGET_VNNI static void pack(const uint8_t* w, size_t stride, int nr, int cols, PackedTile& tile) {
    const gemm::TileRows rows = gemm::tile_rows(stride, nr);
    for (int k = 0; k < cols / G::kCols; ++k)
      G::pack_block(w + static_cast<size_t>(k) * sizeof(typename G::Block), rows, tile, k);
  }
};
template <class Dec>
struct PortablePack : Dec {
  EL_TARGET_VNNI static void pack(const uint8_t* w, size_t stride, int nr, int cols, PackedTile& tile) {
    gemm::pack_tile<Dec>(w, stride, nr, cols, tile);
  }
};

template <class Pack>
EL_TARGET_VNNI void gemm_avx512(const GemmTask& task) {
  static_assert(gemm::kChunkCols % Pack::kCols == 0, "a chunk holds whole blocks");
  constexpr int kGroup = Pack::kGroup;
  PackedTile tile;
  const ActLayout layout = gemm::act_layout(task.cols);
  const size_t dsum_off = kGroup == 32 ? layout.dsum32 : layout.dsum16;
  for (int64_t r0 = task.row_begin; r0 < task.row_end; r0 += gemm::kTileRows) {
    const int64_t nr = std::min<int64_t>(gemm::kTileRows, task.row_end - r0);
    const __mmask16 m = static_cast<__mmask16>((1u << nr) - 1);
    const uint8_t* wrow = task.w + static_cast<size_t>(r0) * task.w_stride;
    for (int64_t c0 = 0; c0 < task.cols; c0 += gemm::kChunkCols) {
      const int cols = static_cast<int>(std::min<int64_t>(gemm::kChunkCols, task.cols - c0));
      Pack::pack(wrow + static_cast<size_t>(c0 / Pack::kCols) * sizeof(typename Pack::Block), task.w_stride,
                 static_cast<int>(nr), cols, tile);
      const int groups = cols / kGroup;
      const bool first = c0 == 0;
      if (c0 + gemm::kChunkCols < task.cols)
        gemm::prefetch_chunk(
            wrow + static_cast<size_t>((c0 + gemm::kChunkCols) / Pack::kCols) * sizeof(typename Pack::Block),
            task.w_stride, static_cast<int>(nr), gemm::chunk_bytes<Pack>(task.cols - c0 - gemm::kChunkCols));
      else if (r0 + gemm::kTileRows < task.row_end)
        gemm::prefetch_chunk(wrow + gemm::kTileRows * task.w_stride, task.w_stride,
                             static_cast<int>(std::min<int64_t>(gemm::kTileRows, task.row_end - r0 - gemm::kTileRows)),
                             gemm::chunk_bytes<Pack>(task.cols));
      for (int64_t t0 = 0; t0 < task.n_tokens; t0 += kActTokens) {
        const uint8_t* base = task.acts + static_cast<size_t>(t0 / kActTokens) * layout.bytes;
        const int n = static_cast<int>(std::min<int64_t>(kActTokens, task.n_tokens - t0));
        // Token slots j.. of this tile, in register tiles of 8, 4, 2 and 1 tokens.
        auto run = [&](auto tokens, int j) {
          const ActPtrs a{base + c0 * 8 + 4 * j, reinterpret_cast<const float*>(base + layout.d) + c0 / 32 * 8 + j,
                          reinterpret_cast<const float*>(base + dsum_off) + c0 / kGroup * 8 + j};
          tile_tokens<decltype(tokens)::value, kGroup, Pack::kCols, Pack::kHasMin>(
              tile, groups, a, task.y + (t0 + j) * task.rows + r0, task.rows, m, first);
        };
        int j = 0;
        if (n == 8) {
          run(std::integral_constant<int, 8>{}, 0);
          continue;
        }
        if (n - j >= 4) run(std::integral_constant<int, 4>{}, j), j += 4;
        if (n - j >= 2) run(std::integral_constant<int, 2>{}, j), j += 2;
        if (n - j >= 1) run(std::integral_constant<int, 1>{}, j);
      }
    }
  }
}

static_assert(kActTokens == 8, "gemm_avx512() peels register tiles of 8, 4, 2, 1 tokens");
static_assert(gemm::kTileRows == kGemmTileRows, "one packed tile is one zmm of rows");

}  // namespace

GemmFn x86_vnni_gemm(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::Q4_0:
      return &gemm_avx512<VecPack<gemm::VecQ4_0>>;
    case GgmlType::Q4_1:
      return &gemm_avx512<VecPack<gemm::VecQ4_1>>;
    case GgmlType::Q5_0:
      return &gemm_avx512<VecPack<gemm::VecQ5_0>>;
    case GgmlType::Q5_1:
      return &gemm_avx512<VecPack<gemm::VecQ5_1>>;
    case GgmlType::Q8_0:
      return &gemm_avx512<VecPack<gemm::VecQ8_0>>;
    case GgmlType::Q2_K:
      return &gemm_avx512<PortablePack<gemm::DecQ2_K>>;
    case GgmlType::Q3_K:
      return &gemm_avx512<PortablePack<gemm::DecQ3_K>>;
    case GgmlType::Q4_K:
      return &gemm_avx512<VecPack<gemm::VecQ4_K>>;
    case GgmlType::Q5_K:
      return &gemm_avx512<VecPack<gemm::VecQ5_K>>;
    case GgmlType::Q6_K:
      return &gemm_avx512<PortablePack<gemm::DecQ6_K>>;
    default:
      return nullptr;
  }
}

}  // namespace edgellm

#else  // not x86-64: no VNNI kernels

namespace edgellm {
GemmFn x86_vnni_gemm(GgmlType) { return nullptr; }
}  // namespace edgellm

#endif
