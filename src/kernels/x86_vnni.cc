// AVX-512 VNNI prompt GEMM (see kernels/simd_gemm.h for the scheme). Highway 1.0.3 has no int8 dot
// product, so this is intrinsics, compiled per function for the VNNI target and chosen at run time.
//
// vpdpbusd multiplies unsigned bytes by signed bytes and sums each 4 into an int32 lane. The repacked
// weights are the unsigned side: every weight type here is w = d·(q − o) with q an unsigned byte
// (Q4_0: o = 8, Q5_0: o = 16, Q8_0: q = w + 128, o = 128), so a group's dot product is
// d_w·d_x·(Σ q·x − o·Σ x), and −o·Σx is where each group's integer accumulator starts. Q4_K's and Q5_K's
// groups are w = s·q − m instead (Q4_1/Q5_1: w = d·q + m, so min = −m): the minimum is applied in float,
// m·d_x·Σx per group.
// Lane r of a packed 64-byte vector holds 4 consecutive columns of row r, so one broadcast of 4
// activation bytes meets 16 rows at once and no horizontal sums are needed.
#include "kernels/x86_vnni.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers (self-initialised on purpose) as maybe-uninitialized
// when intrinsics are inlined into target-attributed functions; the warning says nothing about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"

#define EL_TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace edgellm {
namespace {

constexpr int kGroup = 32;        // columns per scale group (one Q4_0/Q5_0/Q8_0 block)
constexpr int kChunkGroups = 32;  // groups repacked at a time: 16 rows × 1024 columns = 16 KB, in L1
constexpr int kMaxTokens = 8;     // tokens per register tile: 8 int32 + 8 float accumulators

// One repacked tile: q[g][c][r][4] bytes (group g, 4-column step c, row r), scale[g][r] and, for types
// with a per-group minimum (w = scale·q − min), min[g][r].
struct PackedTile {
  alignas(64) uint8_t q[kChunkGroups][8][64];
  alignas(64) float scale[kChunkGroups][16];
  alignas(64) float min[kChunkGroups][16];
};

// Where a pack routine writes: kGroups consecutive groups of a PackedTile.
struct PackOut {
  uint8_t (*q)[8][64];
  float (*scale)[16];
  float (*min)[16];
};

// Byte offsets of the 16 rows from the tile's first row, for gathers.
EL_TARGET_VNNI inline __m512i row_offsets(size_t stride) {
  const __m512i r = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return _mm512_mullo_epi32(r, _mm512_set1_epi32(static_cast<int32_t>(stride)));
}

// The fp16 scale at byte 0 of each row's block, as 16 floats.
EL_TARGET_VNNI inline __m512 gather_scale(const uint8_t* p, __m512i offs, __mmask16 m) {
  const __m512i raw = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, p, 1);
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(raw));
}

// Bits 4c..4c+3 of each lane of qh (the 5th bits of columns 4c..4c+3) as bit 4 of each byte.
// Multiplying 4 bits by 0x00204081 moves bit k to bit 8k (the shifted copies never overlap).
EL_TARGET_VNNI inline __m512i high_bits(__m512i qh, int c) {
  const __m512i h = _mm512_and_si512(_mm512_srli_epi32(qh, 4 * c), _mm512_set1_epi32(0xF));
  const __m512i spread =
      _mm512_and_si512(_mm512_mullo_epi32(h, _mm512_set1_epi32(0x00204081)), _mm512_set1_epi32(0x01010101));
  return _mm512_slli_epi32(spread, 4);
}

// The 4- and 5-bit 32-blocks: Q4_0/Q5_0 are w = d·(q − o); Q4_1/Q5_1 are w = d·q + m, kept as scale d and
// min −m. The low nibbles of qs dword c are columns 4c.., the high nibbles columns 16 + 4c..; bit j of
// the 5-bit types' qh is the 5th bit of column j.
template <class B, bool kFiveBit, bool kMin>
struct PackLegacy {
  using Block = B;
  static constexpr int kOffset = kMin ? 0 : (kFiveBit ? 16 : 8), kGroups = 1;
  static constexpr bool kHasMin = kMin;
  EL_TARGET_VNNI static void pack(const uint8_t* p, __m512i offs, __mmask16 m, int, size_t, const PackOut& out) {
    uint8_t(*q)[64] = out.q[0];
    const auto* b = reinterpret_cast<const B*>(p);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512i qh = _mm512_setzero_si512();
    if constexpr (kFiveBit) qh = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, b->qh, 1);
    for (int c = 0; c < 4; ++c) {
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, b->qs + 4 * c, 1);
      __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi32(v, 4), low4);
      if constexpr (kFiveBit) {
        lo = _mm512_or_si512(lo, high_bits(qh, c));
        hi = _mm512_or_si512(hi, high_bits(qh, c + 4));
      }
      _mm512_store_si512(q[c], lo);
      _mm512_store_si512(q[c + 4], hi);
    }
    _mm512_store_ps(out.scale[0], gather_scale(p, offs, m));
    if constexpr (kMin) {
      const auto* mp = reinterpret_cast<const uint8_t*>(&b->m);
      _mm512_store_ps(out.min[0], _mm512_sub_ps(_mm512_setzero_ps(), gather_scale(mp, offs, m)));
    }
  }
};
using PackQ4_0 = PackLegacy<BlockQ4_0, false, false>;
using PackQ4_1 = PackLegacy<BlockQ4_1, false, true>;
using PackQ5_0 = PackLegacy<BlockQ5_0, true, false>;
using PackQ5_1 = PackLegacy<BlockQ5_1, true, true>;

struct PackQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kOffset = 128, kGroups = 1;
  static constexpr bool kHasMin = false;
  EL_TARGET_VNNI static void pack(const uint8_t* p, __m512i offs, __mmask16 m, int, size_t, const PackOut& out) {
    uint8_t(*q)[64] = out.q[0];
    float* scale = out.scale[0];
    const auto* b = reinterpret_cast<const BlockQ8_0*>(p);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // int8 w -> uint8 w + 128
    for (int c = 0; c < 8; ++c) {
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, b->qs + 4 * c, 1);
      _mm512_store_si512(q[c], _mm512_xor_si512(v, flip));
    }
    _mm512_store_ps(scale, gather_scale(p, offs, m));
  }
};

// Q4_K/Q5_K: a 256-column super-block is 8 groups with w = d·sc·q − dmin·m (6-bit sc, m). Bytes
// qs[32j + i] hold group 2j in the low nibbles and group 2j + 1 in the high ones; Q5_K's fifth bit of
// group g, column i is bit g of qh[i]. The scales are decoded per row in plain code: 16 per group,
// against 16 × 32 × n_tokens multiply-adds.
template <class B, bool kFiveBit>
struct PackKQuant {
  using Block = B;
  static constexpr int kOffset = 0, kGroups = 8;
  static constexpr bool kHasMin = true;
  EL_TARGET_VNNI static void pack(const uint8_t* p, __m512i offs, __mmask16 m, int nr, size_t stride,
                                  const PackOut& out) {
    const auto* b = reinterpret_cast<const B*>(p);
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    const __m512i bit0 = _mm512_set1_epi8(0x01);
    for (int c = 0; c < 8; ++c) {
      __m512i qh = _mm512_setzero_si512();
      if constexpr (kFiveBit) qh = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, b->qh + 4 * c, 1);
      for (int j = 0; j < 4; ++j) {
        const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, offs, b->qs + 32 * j + 4 * c, 1);
        __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi32(v, 4), low4);
        if constexpr (kFiveBit) {
          lo = _mm512_or_si512(lo, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh, 2 * j), bit0), 4));
          hi = _mm512_or_si512(hi, _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(qh, 2 * j + 1), bit0), 4));
        }
        _mm512_store_si512(out.q[2 * j][c], lo);
        _mm512_store_si512(out.q[2 * j + 1][c], hi);
      }
    }
    for (int r = 0; r < 16; ++r) {
      uint8_t sc[8] = {}, mn[8] = {};
      float d = 0.0f, dmin = 0.0f;
      if (r < nr) {
        const auto* br = reinterpret_cast<const B*>(p + static_cast<size_t>(r) * stride);
        kquant::unpack_scale_min_k4(br->scales, sc, mn);
        d = fp16_to_fp32(br->d);
        dmin = fp16_to_fp32(br->dmin);
      }
      for (int g = 0; g < 8; ++g) {
        out.scale[g][r] = d * static_cast<float>(sc[g]);
        out.min[g][r] = dmin * static_cast<float>(mn[g]);
      }
    }
  }
};

// Where each token's expanded activation row keeps its values, scales and sums (kernels/simd_gemm.h).
struct ActRows {
  const uint8_t* base;
  size_t stride;
  int64_t cols;
  const int8_t* q(int64_t t) const { return reinterpret_cast<const int8_t*>(base + static_cast<size_t>(t) * stride); }
  const float* d(int64_t t) const {
    return reinterpret_cast<const float*>(base + static_cast<size_t>(t) * stride + cols);
  }
  const int32_t* s(int64_t t) const { return reinterpret_cast<const int32_t*>(d(t) + cols / kGroup); }
};

// T tokens × 16 rows over `groups` packed groups starting at group g0; y (row stride y_stride floats)
// receives the sums for the rows in mask m, added to what is there unless `first`.
template <int T, bool kHasMin>
EL_TARGET_VNNI void tile_tokens(const PackedTile& tile, int groups, int32_t offset, const ActRows& acts, int64_t t0,
                                int64_t g0, float* y, int64_t y_stride, __mmask16 m, bool first) {
  const int8_t* xq[T];
  const float* xd[T];
  const int32_t* xs[T];
  for (int t = 0; t < T; ++t) {
    xq[t] = acts.q(t0 + t) + g0 * kGroup;
    xd[t] = acts.d(t0 + t) + g0;
    xs[t] = acts.s(t0 + t) + g0;
  }
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int g = 0; g < groups; ++g) {
    __m512i isum[T];
    for (int t = 0; t < T; ++t) isum[t] = _mm512_set1_epi32(-offset * xs[t][g]);
    for (int c = 0; c < 8; ++c) {
      const __m512i w = _mm512_load_si512(tile.q[g][c]);
      for (int t = 0; t < T; ++t) {
        int32_t x4;
        std::memcpy(&x4, xq[t] + g * kGroup + 4 * c, sizeof(x4));
        isum[t] = _mm512_dpbusd_epi32(isum[t], w, _mm512_set1_epi32(x4));
      }
    }
    const __m512 s = _mm512_load_ps(tile.scale[g]);
    for (int t = 0; t < T; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(s, _mm512_set1_ps(xd[t][g])), acc[t]);
    if constexpr (kHasMin) {
      const __m512 mn = _mm512_load_ps(tile.min[g]);
      for (int t = 0; t < T; ++t)
        acc[t] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(xd[t][g] * static_cast<float>(xs[t][g])), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float* yt = y + (t0 + t) * y_stride;
    __m512 v = acc[t];
    if (!first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, yt));
    _mm512_mask_storeu_ps(yt, m, v);
  }
}

template <class Pack>
EL_TARGET_VNNI void gemm(const GemmTask& task) {
  static_assert(kChunkGroups % Pack::kGroups == 0, "a chunk holds whole blocks");
  PackedTile tile;
  const ActRows acts{task.acts, gemm_act_row_bytes(task.cols), task.cols};
  const __m512i offs = row_offsets(task.w_stride);
  const int64_t n_groups = task.cols / kGroup;
  for (int64_t r0 = task.row_begin; r0 < task.row_end; r0 += kGemmTileRows) {
    const int64_t nr = std::min<int64_t>(kGemmTileRows, task.row_end - r0);
    const __mmask16 m = static_cast<__mmask16>((1u << nr) - 1);
    const uint8_t* wrow = task.w + static_cast<size_t>(r0) * task.w_stride;
    for (int64_t g0 = 0; g0 < n_groups; g0 += kChunkGroups) {
      const int groups = static_cast<int>(std::min<int64_t>(kChunkGroups, n_groups - g0));
      for (int g = 0; g < groups; g += Pack::kGroups)
        Pack::pack(wrow + static_cast<size_t>((g0 + g) / Pack::kGroups) * sizeof(typename Pack::Block), offs, m,
                   static_cast<int>(nr), task.w_stride, PackOut{&tile.q[g], &tile.scale[g], &tile.min[g]});
      const bool first = g0 == 0;
      float* y = task.y + r0;
      int64_t t = 0;
      for (; t + 8 <= task.n_tokens; t += 8)
        tile_tokens<8, Pack::kHasMin>(tile, groups, Pack::kOffset, acts, t, g0, y, task.rows, m, first);
      if (t + 4 <= task.n_tokens) {
        tile_tokens<4, Pack::kHasMin>(tile, groups, Pack::kOffset, acts, t, g0, y, task.rows, m, first);
        t += 4;
      }
      if (t + 2 <= task.n_tokens) {
        tile_tokens<2, Pack::kHasMin>(tile, groups, Pack::kOffset, acts, t, g0, y, task.rows, m, first);
        t += 2;
      }
      if (t < task.n_tokens)
        tile_tokens<1, Pack::kHasMin>(tile, groups, Pack::kOffset, acts, t, g0, y, task.rows, m, first);
    }
  }
}

static_assert(kMaxTokens == 8, "gemm() peels token tiles of 8, 4, 2, 1");

}  // namespace

GemmFn x86_vnni_gemm(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::Q4_0:
      return &gemm<PackQ4_0>;
    case GgmlType::Q4_1:
      return &gemm<PackQ4_1>;
    case GgmlType::Q5_0:
      return &gemm<PackQ5_0>;
    case GgmlType::Q5_1:
      return &gemm<PackQ5_1>;
    case GgmlType::Q8_0:
      return &gemm<PackQ8_0>;
    case GgmlType::Q4_K:
      return &gemm<PackKQuant<BlockQ4_K, false>>;
    case GgmlType::Q5_K:
      return &gemm<PackKQuant<BlockQ5_K, true>>;
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
