// Data layouts of the prompt GEMM (kernels/simd_gemm.h) and the weight-tile repack, shared by its
// instruction-set variants (x86_vnni.cc: AVX-512 VNNI, x86_avxvnni.cc: AVX-VNNI). Internal to the
// kernels layer.
//
// The repack here is plain C++ marked always-inline: each variant's kernel, compiled for its own target,
// inlines it, so the compiler vectorizes the same source for AVX-512 and for AVX2. It runs once per
// 16 rows × 1024 columns per call, against 16 × 1024 × n_tokens multiply-adds (~0.1 ns per weight here,
// a few percent at 64 tokens). The AVX-512 variant repacks the 32-column types and Q4_K/Q5_K in
// registers instead (x86_vnni_pack.h: whole-row loads, transposed), a few times faster; these decoders
// are then the AVX-VNNI path for every type and the AVX-512 path for Q2_K, Q3_K and Q6_K.
//
// Integer scheme: vpdpbusd multiplies unsigned bytes by signed bytes. Activations are the unsigned side,
// stored as x + 128; weights are the signed side, decoded to q with w = scale·q − min per group of 16 or
// 32 columns. Then Σ (x + 128)·q = Σ x·q + 128·Σ q, and the tile keeps −128·Σ q per row and group as
// the starting value of the integer sum: one vector shared by every token, no per-token correction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"

#define EL_GEMM_INLINE inline __attribute__((always_inline))

namespace edgellm::gemm {

constexpr int kTileRows = 16;     // weight rows per packed tile
constexpr int kChunkCols = 1024;  // columns packed at a time: a 28 KB tile stays in L1
constexpr int kSteps = kChunkCols / 4;
constexpr int kMaxGroups = kChunkCols / 16;
constexpr int kActTokens = 8;  // tokens interleaved per activation tile

// One packed weight tile. Step s holds columns 4s..4s+3 of the 16 rows, row r at bytes 4r..4r+3, so a
// 64-byte vector meets one broadcast of 4 activation bytes in every row at once.
struct PackedTile {
  alignas(64) int8_t q[kSteps][kTileRows * 4];
  alignas(64) int32_t corr[kMaxGroups][kTileRows];  // −128·Σ q over the group
  alignas(64) float scale[kMaxGroups][kTileRows];
  alignas(64) float min[kMaxGroups][kTileRows];  // only for types with a minimum
};

// Byte offsets inside one activation tile (kActTokens tokens of `cols` elements): the bytes x + 128 as
// [cols/4 steps][8 tokens][4], then per 32-column group the scale d [cols/32][8], per 32- and per
// 16-column group d·Σx [cols/32][8] and [cols/16][8] (floats). Token t lives in tile t/8, slot t%8.
struct ActLayout {
  size_t d, dsum32, dsum16, bytes;  // bytes: size of one tile, a multiple of 64
};
inline ActLayout act_layout(int64_t cols) {
  const size_t c = static_cast<size_t>(cols);
  ActLayout l;
  l.d = c * kActTokens;
  l.dsum32 = l.d + c / 32 * kActTokens * sizeof(float);
  l.dsum16 = l.dsum32 + c / 32 * kActTokens * sizeof(float);
  l.bytes = (l.dsum16 + c / 16 * kActTokens * sizeof(float) + 63) / 64 * 64;
  return l;
}

// Decoders: one block of a weight type to signed levels q[kCols], and per group of kGroup columns the
// float scale and (kHasMin) minimum, with w = scale·q − min.
// Q4_0/Q4_1/Q5_0/Q5_1 (w = d·(q − o), or d·q + m with min −m): the low nibbles of qs are columns 0..15,
// the high nibbles 16..31; bit j of the 5-bit types' qh is the 5th bit of column j. Decoded eight bytes
// per 64-bit word (the byte loops do not vectorize well at 16 bytes).
template <class B, bool kFiveBit, bool kMin>
struct DecLegacy {
  using Block = B;
  static constexpr int kCols = 32, kGroup = 32;
  static constexpr bool kHasMin = kMin;
  static constexpr uint64_t kLow = 0x0F0F0F0F0F0F0F0Full, kTop = 0x8080808080808080ull;
  static constexpr uint64_t kOffset = 0x0101010101010101ull * (kMin ? 0 : (kFiveBit ? 16 : 8));
  // Bit k of the low byte of b as bit 4 of byte k.
  EL_GEMM_INLINE static uint64_t spread(uint32_t b) {
    const uint64_t t = (static_cast<uint64_t>(b & 0xFF) * 0x0101010101010101ull) & 0x8040201008040201ull;
    return ((t + 0x7F7F7F7F7F7F7F7Full) & kTop) >> 3;
  }
  EL_GEMM_INLINE static void decode(const Block& b, int8_t* q, float* scale, float* min) {
    uint64_t v[2], out[4];
    std::memcpy(v, b.qs, sizeof(v));
    uint32_t qh = 0;
    if constexpr (kFiveBit) std::memcpy(&qh, b.qh, sizeof(qh));
    for (int i = 0; i < 2; ++i) {
      uint64_t lo = v[i] & kLow, hi = (v[i] >> 4) & kLow;
      if constexpr (kFiveBit) {
        lo |= spread(qh >> (8 * i));
        hi |= spread(qh >> (16 + 8 * i));
      }
      // q − o per byte without borrows: (q | 0x80) − o stays in its byte (q < 32 <= 0x80 − o), and
      // flipping 0x80 back gives the two's-complement difference.
      if constexpr (!kMin) {
        lo = ((lo | kTop) - kOffset) ^ kTop;
        hi = ((hi | kTop) - kOffset) ^ kTop;
      }
      out[i] = lo;
      out[i + 2] = hi;
    }
    std::memcpy(q, out, sizeof(out));
    scale[0] = fp16_to_fp32(b.d);
    if constexpr (kMin) min[0] = -fp16_to_fp32(b.m);
  }
};
using DecQ4_0 = DecLegacy<BlockQ4_0, false, false>;
using DecQ4_1 = DecLegacy<BlockQ4_1, false, true>;
using DecQ5_0 = DecLegacy<BlockQ5_0, true, false>;
using DecQ5_1 = DecLegacy<BlockQ5_1, true, true>;

struct DecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kCols = 32, kGroup = 32;
  static constexpr bool kHasMin = false;
  EL_GEMM_INLINE static void decode(const Block& b, int8_t* q, float* scale, float*) {
    std::memcpy(q, b.qs, 32);
    scale[0] = fp16_to_fp32(b.d);
  }
};

// Q4_K/Q5_K: 8 groups of 32, w = d·sc·q − dmin·m; qs[32j + i] holds group 2j (low nibble) and 2j + 1
// (high nibble); Q5_K's fifth bit of group g, column i is bit g of qh[i].
template <class B, bool kFiveBit>
struct DecK45 {
  using Block = B;
  static constexpr int kCols = 256, kGroup = 32;
  static constexpr bool kHasMin = true;
  EL_GEMM_INLINE static void decode(const Block& b, int8_t* q, float* scale, float* min) {
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 32; ++i) {
        int lo = b.qs[32 * j + i] & 0x0F, hi = b.qs[32 * j + i] >> 4;
        if constexpr (kFiveBit) {
          lo |= ((b.qh[i] >> (2 * j)) & 1) << 4;
          hi |= ((b.qh[i] >> (2 * j + 1)) & 1) << 4;
        }
        q[64 * j + i] = static_cast<int8_t>(lo);
        q[64 * j + 32 + i] = static_cast<int8_t>(hi);
      }
    uint8_t sc[8], mn[8];
    kquant::unpack_scale_min_k4(b.scales, sc, mn);
    const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
    for (int g = 0; g < 8; ++g) {
      scale[g] = d * static_cast<float>(sc[g]);
      min[g] = dmin * static_cast<float>(mn[g]);
    }
  }
};
using DecQ4_K = DecK45<BlockQ4_K, false>;
using DecQ5_K = DecK45<BlockQ5_K, true>;

// The 2 low bits of Q2_K and Q3_K element 128h + 32j + l sit in qs[32h + l] at bit 2j.
EL_GEMM_INLINE void low2(const uint8_t* qs, int8_t* q) {
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) q[128 * h + 32 * j + l] = static_cast<int8_t>((qs[32 * h + l] >> (2 * j)) & 3);
}

// Q2_K: 16 groups of 16, w = d·(sc & 15)·q − dmin·(sc >> 4), q in 0..3.
struct DecQ2_K {
  using Block = BlockQ2_K;
  static constexpr int kCols = 256, kGroup = 16;
  static constexpr bool kHasMin = true;
  EL_GEMM_INLINE static void decode(const Block& b, int8_t* q, float* scale, float* min) {
    low2(b.qs, q);
    const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
    for (int g = 0; g < 16; ++g) {
      scale[g] = d * static_cast<float>(b.scales[g] & 0x0F);
      min[g] = dmin * static_cast<float>(b.scales[g] >> 4);
    }
  }
};

// Q3_K: 16 groups of 16, w = d·sc·q with q in −4..3 (a clear bit e/32 of hmask[e%32] subtracts 4) and
// sc a signed 6-bit scale.
struct DecQ3_K {
  using Block = BlockQ3_K;
  static constexpr int kCols = 256, kGroup = 16;
  static constexpr bool kHasMin = false;
  EL_GEMM_INLINE static void decode(const Block& b, int8_t* q, float* scale, float*) {
    low2(b.qs, q);
    for (int k = 0; k < 8; ++k)
      for (int l = 0; l < 32; ++l) q[32 * k + l] = static_cast<int8_t>(q[32 * k + l] - 4 + 4 * ((b.hmask[l] >> k) & 1));
    int8_t sc[16];
    kquant::unpack_q3_scales(b.scales, sc);
    const float d = fp16_to_fp32(b.d);
    for (int g = 0; g < 16; ++g) scale[g] = d * static_cast<float>(sc[g]);
  }
};

// Q6_K: 16 groups of 16, w = d·sc·(q6 − 32) with sc a signed byte. In each 128-element half, ql[l]
// holds elements l (low nibble) and l + 64 (high), ql[l + 32] elements l + 32 and l + 96, and qh[l]
// the top 2 bits of elements l, l + 32, l + 64, l + 96 at bits 0, 2, 4, 6.
struct DecQ6_K {
  using Block = BlockQ6_K;
  static constexpr int kCols = 256, kGroup = 16;
  static constexpr bool kHasMin = false;
  EL_GEMM_INLINE static void decode(const Block& b, int8_t* q, float* scale, float*) {
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      int8_t* y = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        y[l] = static_cast<int8_t>(((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32);
        y[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
        y[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        y[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    const float d = fp16_to_fp32(b.d);
    for (int g = 0; g < 16; ++g) scale[g] = d * static_cast<float>(b.scales[g]);
  }
};

// Bytes of a chunk's blocks in one row, for `cols` remaining columns (at most kChunkCols are used).
template <class Dec>
constexpr size_t chunk_bytes(int64_t cols) {
  return static_cast<size_t>((cols < kChunkCols ? cols : kChunkCols) / Dec::kCols) * sizeof(typename Dec::Block);
}

// Asks for the next chunk's weights (nr rows from w, `bytes` per row) in L2 while the tokens run over the
// current one: the repack's 16-row reads otherwise wait on memory, 16 streams being more than the
// hardware prefetchers follow.
EL_GEMM_INLINE void prefetch_chunk(const uint8_t* w, size_t stride, int nr, size_t bytes) {
  for (int r = 0; r < nr; ++r)
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(w + static_cast<size_t>(r) * stride + b, 0, 2);
}

// Packs rows [0, nr) of a tile (row 0 at w, rows `stride` bytes apart, blocks from the chunk's first
// column) over `cols` columns (a multiple of Dec::kCols, at most kChunkCols); rows nr..15 become zero.
// Each row is decoded into contiguous bytes first (vectorizable per type), then the 4-byte words are
// interleaved into the tile.
template <class Dec>
EL_GEMM_INLINE void pack_tile(const uint8_t* w, size_t stride, int nr, int cols, PackedTile& tile) {
  constexpr int kGroups = Dec::kCols / Dec::kGroup;
  const int blocks = cols / Dec::kCols;
  alignas(64) int8_t rows[kTileRows][kChunkCols];
  for (int r = 0; r < kTileRows; ++r) {
    const auto* row = reinterpret_cast<const typename Dec::Block*>(w + static_cast<size_t>(r) * stride);
    for (int k = 0; k < blocks; ++k) {
      int8_t* q = rows[r] + k * Dec::kCols;
      float scale[kGroups] = {}, min[kGroups] = {};
      if (r < nr)
        Dec::decode(row[k], q, scale, min);
      else
        std::memset(q, 0, Dec::kCols);
      for (int g = 0; g < kGroups; ++g) {
        tile.scale[k * kGroups + g][r] = scale[g];
        if constexpr (Dec::kHasMin) tile.min[k * kGroups + g][r] = min[g];
      }
    }
  }
  // The sums read the decoded rows only after all of them are written: a decoder's narrow stores read
  // back at once by one wide load would stall store-to-load forwarding.
  for (int r = 0; r < kTileRows; ++r)
    for (int g = 0; g < cols / Dec::kGroup; ++g) {
      int32_t sum = 0;
      for (int i = 0; i < Dec::kGroup; ++i) sum += rows[r][g * Dec::kGroup + i];
      tile.corr[g][r] = -128 * sum;
    }
  for (int s = 0; s < cols / 4; ++s)
    for (int r = 0; r < kTileRows; ++r) std::memcpy(&tile.q[s][4 * r], &rows[r][4 * s], 4);
}

}  // namespace edgellm::gemm
