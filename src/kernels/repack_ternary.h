// Row-interleaved tiles (kernels/repack.h) for llama.cpp's ternary TQ2_0 and TQ1_0: 16 rows of codes q ∈ {0,1,2}
// (value q − 1) times one fp16 scale per row and 256-column block, multiplied with Q8_K activations (the types'
// vec_dot_type) by vpdpbusd, with no table of activation sums. Both tiles keep the GGUF size (2.0625 and
// 1.6875 bits per weight), rounded up to 64 bytes.
//
// Tiles of 16 rows × cols columns (nb = cols / 256 blocks) are a sequence of block pairs, each
// [64 bytes: fp16 scales of its two blocks, row r at 2r, second block at +32][codes of block 2p][codes of
// block 2p + 1] (an odd last block has a pair of its own), so the kernel walks one tile strictly forward with
// the scales next to their codes; L bytes of codes per block: 1024 for TQ2_0, 832 for TQ1_0.
//
// TQ2_0 codes of one block: 16 vectors of 64 bytes; in vector v (at 64·v), byte 4r + c holds in bits
// 2l..2l+1 the code of row r, column 4·(v + 16·l) + c of the block (l = 0..3). So one 64-byte load gives, with
// four AND masks (0x03, 0x0C, 0x30, 0xC0, no shifts), the codes of 4 column steps of all 16 rows, the one of
// crumb l multiplied by 4^l: vpdpbusd accumulates each crumb position into its own int32 accumulator, and the
// block's sum is acc0 + (acc1 >> 2) + (acc2 >> 4) + (acc3 >> 6) — exact, as each acc_l is a multiple of 4^l.
//
// TQ1_0 codes of one block: 13 vectors of 64 bytes (832 = 16 rows × 52): vector w (at 64·w), bytes
// 4r..4r+3 = bytes 4w..4w+3 of row r's GGUF block (qs[48] then qh[4]) recoded by tq1_tile_byte, i.e. the rows
// interleaved in 4-byte words. ggml's digit k of a byte (trit k of the column ggml assigns it) then covers 4
// consecutive columns for every word: vector w, digit k is column step (4 columns) 8k + w for w < 8,
// 40 + 4k + (w − 8) for w < 12, and 60 + k for w = 12 (4 digits only).
// The recoding keeps the byte's 5 digits g0..g4 (3^5 = 243 of 256 codes) but places digit 4 in the low 6 bits:
// with c = g0 + 3·g1 + 9·g2 + 27·g3, the tile byte is (c mod 4) · 64 + 21 · g4 + c / 4, so the kernel reads g4
// with one 64-entry vpermb (it ignores bits 6-7) instead of a 256-entry lookup (two vpermi2b and a blend).
// Unpacking writes the canonical GGUF byte of the same digits (ceil(v · 256 / 243), as the quantizer does):
// byte-exact for quantizer output, digit-exact for any byte.
//
// Zero rows pad the last tile (scale 0).
//
// Expanded activations of one token (tq2_act_row_bytes(cols) bytes, from one Q8_K row; both types):
//   [0, 256·nb)          the int8 activations of block b at 256·b, in column order;
//   [256·nb, +4·nb)      float d of block b;
//   [260·nb, +4·nb)      int32 −Σx of block b (the −1 offset of the codes, the accumulators' start);
//   rounded up to 64 bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/repack.h"
#include "kernels/tq.h"

namespace edgellm {

constexpr size_t kTq2TileBlockBytes = 1024;  // codes of one 256-column block of 16 rows
constexpr int kTq1Words = 13;                // 4-byte words of trits per TQ1_0 block row (qs[48], qh[4])
constexpr size_t kTq1TileBlockBytes = 64 * kTq1Words;

// The tile byte of GGUF byte q (layout above).
constexpr uint8_t tq1_tile_byte(int q) {
  const int c = tq1_digit(q, 0) + 3 * tq1_digit(q, 1) + 9 * tq1_digit(q, 2) + 27 * tq1_digit(q, 3);
  return static_cast<uint8_t>((c % 4) * 64 + 21 * tq1_digit(q, 4) + c / 4);
}
// Digit n of tile byte e (e from tq1_tile_byte; other codes give digits of no byte).
constexpr int tq1_tile_digit(int e, int n) {
  const int low = e & 63, c = 4 * (low % 21) + (e >> 6);
  if (n == 4) return low / 21;
  int v = c;
  for (int i = 0; i < n; ++i) v /= 3;
  return v % 3;
}
// The canonical GGUF byte of tile byte e: ceil(v · 256 / 243) for v the digits as a base-3 number.
constexpr uint8_t tq1_gguf_byte(int e) {
  int v = 0;
  for (int n = 0; n < 5; ++n) v = 3 * v + tq1_tile_digit(e, n);
  return static_cast<uint8_t>((v * 256 + 242) / 243);
}

// Offsets in a tile of block b's 16 scales and codes, and the tile's size, for L = level_bytes per block.
constexpr size_t tern_scales_at(int64_t b, size_t level_bytes) {
  return static_cast<size_t>(b / 2) * (64 + 2 * level_bytes) + 32 * static_cast<size_t>(b % 2);
}
constexpr size_t tern_levels_at(int64_t b, size_t level_bytes) {
  return static_cast<size_t>(b / 2) * (64 + 2 * level_bytes) + 64 + static_cast<size_t>(b % 2) * level_bytes;
}
constexpr size_t tern_tile_bytes(int64_t cols, size_t level_bytes) {
  const int64_t nb = cols / 256;
  return static_cast<size_t>(nb / 2) * (64 + 2 * level_bytes) + static_cast<size_t>(nb % 2) * (64 + level_bytes);
}

size_t tq2_act_row_bytes(int64_t cols);  // TQ1_0 uses the same activations

// The AVX-512 VNNI decode kernels (repack_ternary_avx512.cc): RepackOps::gemv for TQ2_0, 1..4 tokens.
// Only called where repack_isa_supported(kAvx512Vnni) holds (VBMI included, for TQ1_0's vpermi2b).
void tq2_gemv_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                     size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
// The same for TQ1_0.
void tq1_gemv_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                     size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
constexpr int64_t kTq2MaxTokens = 4;
// Recodes n_vectors × 64 bytes at p from GGUF TQ1_0 bytes to tile bytes (tq1_tile_byte) in place, with the
// kernel's 256-entry lookup: tq1_pack_tile's step (TQ1_0 tiles exist only where tq1_gemv_avx512 runs), where a
// scalar table per byte made packing ~2.5x slower than the plain interleave.
void tq1_recode_avx512(uint8_t* p, int64_t n_vectors);
// The 256-bit TQ2_0 kernels (repack_ternary_avx2.cc), 1..2 tokens, where repack_isa_supported(kAvxVnni) or
// (kAvx2) holds.
void tq2_gemv_avxvnni(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
void tq2_gemv_avx2(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                   size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
constexpr int64_t kTq2YmmMaxTokens = 2;

}  // namespace edgellm
