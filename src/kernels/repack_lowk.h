// Row-interleaved repack (kernels/repack.h) of the 2-bit k-quant Q2_K: the tile layout, its exact packer and
// unpacker, the expanded activations, and the per-ISA decode kernels (repack_lowk_avx512.cc).
//
// Q2_K (blocks.h): per row and super-block of 256 columns, 16 sub-blocks of 16 columns, a scale byte per
// sub-block (low nibble sc, high nibble m), 2-bit levels q, fp16 d and dmin: w = d·sc·q − dmin·m.
//
// Tile = 16 rows × cols; super-block kb of the tile takes 1344 bytes (= 16 × 84, the GGUF size) at
// kb × 1344, laid out as (r = row in the tile 0..15, all offsets in bytes from the super-block's start):
//   [0, 64)      fp16 d of row r at 2r, fp16 dmin of row r at 32 + 2r.
//   then 4 groups i = 0..3 of 320 bytes each, at 64 + 320·i:
//     +0    64 bytes "S_i": byte 4r + k = row r's GGUF scale byte of sub-block 4i + k (k = 0..3).
//     +64   4 × 64 bytes "L_i,s" (s = 0..3, at +64 + 64·s): byte 4r + c holds in bits 2k..2k+1 (k = 0..3)
//           the level of row r, column 16·(4i + k) + 4s + c.
// So one 64-byte load L_i,s masked with 3 << 2k is the "step vector" of sub-block 4i + k, columns 4s..4s+3:
// 16 rows × 4 levels, times 4^k, ready for vpdpbusd against a 4-byte activation broadcast; the 4^k is divided
// out once per sub-block sum (an exact arithmetic shift), not once per step. Rows past the matrix are zero
// (d = dmin = 0), so they add nothing.
//
// Activations (Q8_K → expanded, per super-block 320 bytes): int8 qs[256] as in Q8_K; int8 h[16] and
// uint8 l[16] with bsum_g = 16·h_g + l_g (h in [-127, 127], l in [0, 15]: both fit the vpdpbusd operands, so
// Σ_g m_g·bsum_g is two vpdpbusd chains on the scale bytes masked with 0xF0); float d at 288; zero padding.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/repack.h"

namespace edgellm {

namespace lowk {

constexpr size_t kQ2kTileBlockBytes = 1344;  // 16 rows × one super-block
constexpr size_t kQ2kActBlockBytes = 320;    // one expanded Q8_K super-block
constexpr size_t kQ2kActHOffset = 256, kQ2kActLOffset = 272, kQ2kActDOffset = 288;

// Q2_K tile layout (above): bytes of a tile of `cols` columns (a multiple of 256).
size_t q2k_tile_bytes(int64_t cols);
// Packs rows [0, n_rows) (GGUF Q2_K rows row_stride bytes apart) into one tile; rows n_rows..15 are zero.
void q2k_pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst);
// The exact inverse of q2k_pack_tile for rows [0, n_rows).
void q2k_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride);
// Expanded activations of one Q8_K row (cols a multiple of 256): act_row_bytes and the expansion.
size_t q2k_act_row_bytes(int64_t cols);
void q2k_expand_acts(const void* q8k_row, int64_t cols, uint8_t* dst);

// The AVX-512 VNNI decode kernel (RepackOps::gemv contract) and its token limit; nullptr on non-x86 builds.
using RepackGemvFn = void (*)(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                              size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
RepackGemvFn q2k_gemv_avx512();
constexpr int64_t kQ2kMaxTokens = 4;

}  // namespace lowk

}  // namespace edgellm
