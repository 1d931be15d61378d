// Row-interleaved tiles (kernels/repack.h) for the 32-column legacy types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0:
// the layout, packer, unpacker and activation expansion (repack_legacy.cc, plain C++) and the decode kernels
// per instruction set (repack_legacy_avx512.cc: zmm vpdpbusd; repack_legacy_avx2.cc: ymm AVX-VNNI and AVX2;
// repack_legacy_neon.cc: ARM sdot).
//
// Byte layout of one tile (16 rows r = 0..15, cols = 32·nb columns, group g = GGUF block g of every row):
//   The groups go in units of two (g, g+1); when nb is odd the last unit holds one group. A unit of n groups
//   (n = 1 or 2) is, in this order, all sections starting 64-byte aligned:
//   scales  n×16 fp16 d: d[j][r] at 32·j + 2·r (j = group within the unit), then for Q4_1/Q5_1 n×16 fp16 m
//           at 32·n + 32·j + 2·r; the section is zero padded to a multiple of 64 bytes (only when n = 1).
//   hbits   Q5_0/Q5_1 only, 64 bytes per group: the fifth bits as eight little-endian uint64 masks, in the
//           order the kernels use them: for v = 0..3 the mask of step v (columns 4v..4v+3) at 16·v and of
//           step v+4 (columns 16+4v..16+4v+3) at 16·v+8; bit 4·r+i of a mask is column (step·4+i) of row r.
//   levels  4/5-bit types: 256 bytes per group, four 64-byte vectors; byte 4·r+i of vector v (v = 0..3) is
//           row r's GGUF qs[4v+i], i.e. low nibble = column 4v+i, high nibble = column 16+4v+i (the low
//           four bits of the level for the 5-bit types). Q8_0: 512 bytes per group, eight vectors; byte 4·r+i
//           of vector s is row r's qs[4s+i] + 128 as an unsigned byte.
//   Padding rows (past the matrix) are all zero. A unit of two groups is exactly the 16 GGUF rows' bytes of
//   those two blocks (Q4_0 576, Q4_1 640, Q5_0 704, Q5_1 768, Q8_0 1088 bytes); an odd last group adds at
//   most 32 bytes of padding, and the tile is then rounded up to 64 bytes.
//
// Expanded activations (one row per token, act_row_bytes): for each group a 48-byte record
//   int8 x[32] (the Q8_0 values in column order), int32 init = −offset·Σx (offset 8, 16 or 128 for the
//   types stored unsigned with w = d·(q − offset), 0 otherwise), float dx (the block's scale), float
//   xs = dx·Σx (the minimum term of Q4_1/Q5_1: Σ w·x = d·dx·Σq·x + m·xs), 4 zero bytes;
//   the row is zero padded to a multiple of 64 bytes. The Q8_0 values are those of the Q8_0 quantizer,
//   |x| ≤ 127 (d = amax/127), which the plain AVX2 Q8_0 kernel relies on (vpsignb cannot negate −128).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/repack.h"

namespace edgellm {

namespace repack_legacy {

constexpr int kActRecord = 48;  // bytes per group in an expanded activation row (layout above)

// Where a type's sections sit in a unit (the layout above).
struct Layout {
  int level_bytes;  // per group: 256 or 512
  int hbit_bytes;   // per group: 64 for the 5-bit types, else 0
  bool has_min;     // Q4_1, Q5_1
  int32_t offset;   // w = d·(q − offset) (+ m)
  // Bytes of the scale section of a unit of n groups.
  constexpr int scale_bytes(int n) const { return (32 * n * (has_min ? 2 : 1) + 63) / 64 * 64; }
  constexpr int unit_bytes(int n) const { return scale_bytes(n) + n * (hbit_bytes + level_bytes); }
};

constexpr Layout kQ4_0{256, 0, false, 8};
constexpr Layout kQ4_1{256, 0, true, 0};
constexpr Layout kQ5_0{256, 64, false, 16};
constexpr Layout kQ5_1{256, 64, true, 0};
constexpr Layout kQ8_0{512, 0, false, 128};

// Bytes of one tile of `cols` columns.
size_t tile_bytes(const Layout& l, int64_t cols);
// Expands one Q8_0 row into `cols / 32` records with init = −offset·Σx (the layout above).
void expand_acts(const void* q8_0_row, int64_t cols, int32_t offset, uint8_t* dst);
size_t act_row_bytes(int64_t cols);

// Plain AVX2 keeps Q8_0 signed inside its kernel (vpmaddubsw would saturate on q + 128), so its activations
// carry no offset; the tiles are the same as kQ8_0's.
constexpr Layout kQ8_0Signed{512, 0, false, 0};

// The NEON kernels decode the 5-bit levels straight to q − 16 (one bit insert per nibble), so their Q5_0
// activations carry no offset and their Q5_1 ones +16·Σx; the tiles are the same as kQ5_0's and kQ5_1's.
// (offset is only the init's factor here: init = −offset·Σx.)
constexpr Layout kQ5_0Signed{256, 64, false, 0};
constexpr Layout kQ5_1Signed{256, 64, true, -16};

// Decode kernels (the RepackOps::gemv contract) per instruction set, or nullptr for a type outside the
// family or a build for another architecture (x86-64 for the first three, AArch64 for gemv_neondot). The zmm
// kernels take 1..4 tokens, the ymm ones 1..3, the NEON ones 1..2 (registers).
using GemvFn = decltype(RepackOps::gemv);
constexpr int64_t kMaxTokensZmm = 4, kMaxTokensYmm = 3, kMaxTokensNeon = 2;
GemvFn gemv_avx512(GgmlType type);
GemvFn gemv_avxvnni(GgmlType type);
GemvFn gemv_avx2(GgmlType type);
// NEON sdot (repack_legacy_neon.cc); uses kQ8_0Signed, kQ5_0Signed and kQ5_1Signed activations.
GemvFn gemv_neondot(GgmlType type);

}  // namespace repack_legacy
}  // namespace edgellm
