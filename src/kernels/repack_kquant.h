// Row-interleaved tiles (kernels/repack.h) for the k-quants Q4_K, Q5_K and Q6_K: the tile layouts, their
// packers/unpackers and the expanded Q8_K activations live in repack_kquant.cc (plain C++); the decode
// kernels per instruction set in repack_kquant_avx512.cc (zmm) and repack_kquant_avx2.cc (ymm: AVX-VNNI
// and AVX2). Internal to the kernels layer.
//
// A tile is 16 rows; its super-blocks (256 columns) follow each other, each a fixed-size record that the
// kernel reads strictly forward. Row r of a 64-byte "step vector" is bytes 4r..4r+3: the same 4 columns of
// all 16 rows, so one 4-byte activation broadcast and one vpdpbusd give every row 4 products in its own
// int32 lane. Levels are unsigned (the vpdpbusd weight operand); offsets and minimums are applied through
// activation sums. Rows past the matrix are zero rows. Byte offsets inside one super-block record:
//
// Q4_K, 2304 B = 16 × 144 (the GGUF size):
//   [0, 32)      d of rows 0..15 (fp16);  [32, 64) dmin of rows 0..15 (fp16)
//   [64, 256)    the rows' 12 packed scale bytes (kquant::unpack_scale_min_k4), as three 64-byte vectors:
//                vector p (p = 0, 1, 2) holds bytes 4p..4p+3 of row r at 64 + 64p + 4r, so one vector op
//                unpacks a scale or minimum of all 16 rows at once (sc0-3, m0-3, sc4-7 / m4-7 nibbles).
//   [256, 2304)  levels q (0..15): sub-block j (columns 32j..32j+31) is 4 vectors at 256 + 256j + 64s
//                (s = 0..3); byte 4r + i = q(r, 32j + 4s + i) | q(r, 32j + 16 + 4s + i) << 4, i.e. the low
//                nibbles are column step s and the high nibbles step s + 4 of the sub-block.
// Q5_K, 2816 B = 16 × 176: Q4_K's record for the low 4 bits of the levels (0..31), except that each
//                sub-block's 4 nibble vectors are followed by its fifth bits (so the record stays one forward
//                stream): sub-block j is 320 B at 256 + 320j, the nibbles as in Q4_K, then one vector at
//                256 + 320j + 256 whose byte 4r + i has bit s (s = 0..7) = bit 4 of q(r, 32j + 4s + i).
// Q6_K, 3392 B = 16 × 210 + 32 (+0.95 %, to keep records 64-byte aligned):
//   [0, 32)      d of rows 0..15 (fp16);  [32, 64) zero
//   [64, 320)    the int8 scale of sub-block g (columns 16g..16g+15) of row r at 64 + 16g + r
//   [320, 3392)  levels q (0..63), 4 chunks of 64 columns, 768 B each: chunk c, step s (0..3), k (0..2) is
//                the vector at 320 + 768c + 192s + 64k; its byte 4r + i is q(r, 64c + 16k + 4s + i) in bits
//                0-5 and bits 2k, 2k+1 of q(r, 64c + 48 + 4s + i) (the chunk's fourth sub-block) in bits 6-7.
//                Three ANDs give three step vectors, and the fourth is the three top bit pairs gathered
//                (three gf2p8affineqb and an OR): 6 bits per level, 7 ops per 4 step vectors.
//
// Expanded activations (act_row_bytes), one record per super-block, from a Q8_K row:
//   Q4_K, Q5_K: 320 B: [0, 256) the int8 values; [256, 272) four dwords of 16-bit pairs of the 32-column
//               sums S_j (Σ of the sub-block's values): (S0, S2), (S1, S3), (S4, S6), (S5, S7) for the
//               minimum term by vpdpwssd; [272, 276) the float scale d.
//   Q6_K:       384 B: [0, 256) the int8 values; [256, 320) −32 × the 16-column sums as int32 (the init of
//               each sub-block's integer sum: Σ(q − 32)·x = Σ q·x − 32·Σx); [320, 324) the float scale d.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/repack.h"

namespace edgellm::repack_kq {

constexpr size_t kQ4Record = 2304, kQ5Record = 2816, kQ6Record = 3392;
constexpr size_t kQ45Act = 320, kQ6Act = 384;
// Offsets inside the records (see above).
constexpr size_t kScalesAt = 64, kQ45LevelsAt = 256, kQ6ScalesAt = 64, kQ6LevelsAt = 320;
// Bytes per 32-column sub-block of levels (Q4_K, Q5_K) and where Q5_K's fifth-bit vector sits in one.
constexpr size_t kQ4SubBlock = 256, kQ5SubBlock = 320, kQ5HighIn = 256;
constexpr size_t kActMinsAt = 256, kQ45ActDAt = 272, kQ6ActInitAt = 256, kQ6ActDAt = 320;

// The AVX-512 VNNI (+ VBMI, GFNI) decode kernels, RepackOps::gemv contract; defined only in x86-64 builds.
void gemv_q4_k_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
void gemv_q5_k_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);
void gemv_q6_k_avx512(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride);

// Tokens per weight pass of the kernels above (RepackOps::max_tokens).
constexpr int64_t kMaxTokens = 4;

// The 256-bit kernels (repack_kquant_avx2.cc) over the same tiles, RepackOps::gemv contract, 1..kYmmMaxTokens
// tokens (16 ymm registers hold no more accumulators); defined only in x86-64 builds.
constexpr int64_t kYmmMaxTokens = 2;
namespace avxvnni {  // AVX2 + FMA + F16C + AVX-VNNI
void gemv_q4_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys);
void gemv_q5_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys);
void gemv_q6_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys);
}  // namespace avxvnni
namespace avx2 {  // AVX2 + FMA + F16C
void gemv_q4_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys);
void gemv_q5_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys);
void gemv_q6_k(const RepackedWeight& w, int64_t b, int64_t e, const uint8_t* acts, size_t as, int64_t n, float* y,
               int64_t ys);
}  // namespace avx2

}  // namespace edgellm::repack_kq
