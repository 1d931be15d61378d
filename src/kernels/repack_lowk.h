// Row-interleaved repack (kernels/repack.h) of the low-bit k-quants Q2_K and Q3_K: the tile layouts, their exact
// packers and unpackers, the expanded activations, and the per-ISA decode kernels (repack_lowk_avx512.cc;
// repack_lowk_avx2.cc for AVX-VNNI and AVX2).
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
//
// Q3_K (blocks.h): 16 sub-blocks of 16 with signed 6-bit scales sc (stored +32 in 12 bytes), levels u = 2 low
// bits (qs) + 4·high bit (hmask) in 0..7: w = d·sc·(u − 4). Tile super-block kb at kb × 1792 (16 × 110 = 1760
// bytes of GGUF + 32 bytes of padding, +1.8 %), offsets from its start:
//   [0, 64)      fp16 d of row r at 2r; bytes 32..63 zero.
//   [64, 192)    2 × 64 bytes "N_p" (p = 0, 1): byte 4r + k holds the low 4 bits of sc + 32 of row r, sub-block
//                4·(2p) + k in its low nibble and of sub-block 4·(2p + 1) + k in its high nibble.
//   [192, 256)   "T": byte 4r + k holds in bits 2i..2i+1 the top 2 bits of sc + 32 of row r, sub-block 4i + k.
//   then 4 groups i = 0..3 of 384 bytes each, at 256 + 384·i:
//     +0    16 little-endian uint64 masks, mask (k, s) at 8·(4k + s): bit 4r + c = the high bit of the level
//           of row r, column 16·(4i + k) + 4s + c (the byte mask of that step vector).
//     +128  4 × 64 bytes "L_i,s" as in Q2_K: bits 2k..2k+1 of byte 4r + c = low 2 bits of the level of row r,
//           column 16·(4i + k) + 4s + c.
// The kernel masks crumb k in place (times 4^k; for k = 3 shifted down to times 16 so the high bit, added as
// 4·that factor under the step's byte mask, still fits a byte), so a sub-block's sum carries a factor
// kQ3kCrumbScale[k] that one exact shift removes.
//
// Q3_K activations (per super-block 384 bytes): int8 qs[256] as in Q8_K; int32 init[16] at 256 with
// init_g = −4·kQ3kCrumbScale[g % 4]·bsum_g (the −4 offset of the levels, pre-scaled like the crumb sums);
// float d at 320; zero padding.
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

constexpr size_t kQ3kTileBlockBytes = 1792;  // 16 rows × one super-block, with 32 bytes of padding
constexpr size_t kQ3kActBlockBytes = 384;
constexpr size_t kQ3kActInitOffset = 256, kQ3kActDOffset = 320;
constexpr int kQ3kCrumbScale[4] = {1, 4, 16, 16};

size_t q3k_tile_bytes(int64_t cols);
void q3k_pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst);
void q3k_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride);
size_t q3k_act_row_bytes(int64_t cols);
void q3k_expand_acts(const void* q8k_row, int64_t cols, uint8_t* dst);

// The AVX-512 VNNI decode kernel (RepackOps::gemv contract) and its token limit; nullptr on non-x86 builds.
using RepackGemvFn = void (*)(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                              size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
RepackGemvFn q2k_gemv_avx512();
RepackGemvFn q3k_gemv_avx512();
// The 256-bit kernels (repack_lowk_avx2.cc: AVX-VNNI, plain AVX2), one token per pass; nullptr off x86.
RepackGemvFn q2k_gemv_avxvnni();
RepackGemvFn q2k_gemv_avx2();
RepackGemvFn q3k_gemv_avxvnni();
RepackGemvFn q3k_gemv_avx2();
constexpr int64_t kQ2kMaxTokens = 4, kQ3kMaxTokens = 4;

}  // namespace lowk

}  // namespace edgellm
