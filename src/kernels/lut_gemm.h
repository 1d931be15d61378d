// Prompt-processing GEMM (several tokens) over the table-lookup weight layout (kernels/lut_gemv.h).
//
// Per token the lookup kernel costs as much as a decode step, so a prompt of n tokens would cost n GEMVs.
// Here each 16-row tile is instead expanded, 1024 columns at a time, from its bit planes into unsigned byte
// codes (row-interleaved: 4 columns of 16 rows per 64-byte vector) and multiplied by every token with int8
// dot-product instructions (AVX-512 VNNI, kernels/lut_vnni.cc); the expansion is paid once per tile and
// call, and the tokens amortize it. Activations are int8 per 32 columns (Q8_0's quantizer) in the GemmActs
// row layout of kernels/simd_gemm.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/lut_gemv.h"

namespace edgellm {

// y[t * y_stride + r] = dot(row r, token t) for the rows of tiles [tile_begin, tile_end) and t < n_tokens;
// acts holds n_tokens rows of lut_gemm_act_row_bytes(w.cols) bytes (64-byte aligned) from
// lut_gemm_acts_from_float. Thread-safe on distinct tile ranges.
using LutGemmFn = void (*)(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                           int64_t n_tokens, float* y, int64_t y_stride);

// The GEMM for this CPU (AVX-512 VNNI + BW + VL), or nullptr: callers then run the lookup kernel per token.
// It expands lut_tuning().gemm_chunk_subs sub-blocks per step (kernels/lut_tune.h: tuned at first use).
LutGemmFn lut_gemm_kernel();
// The same kernel without the CPU check (tests call it after checking lut_gemm_kernel() != nullptr), and
// the plain C++ version over the same inputs (the oracle of the tests; slow).
LutGemmFn lut_gemm_kernel_unchecked();
void lut_gemm_reference(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                        int64_t n_tokens, float* y, int64_t y_stride);

// The kernel with the expansion chunk as an argument: chunk_subs sub-blocks of 32 columns (clamped to
// 1..kLutGemmMaxChunkSubs) are expanded per step; every value gives the same integer sums per 32 columns.
// nullptr where lut_gemm_kernel_unchecked() is. For the self-tune and its tests.
constexpr int kLutGemmMaxChunkSubs = 32;
using LutGemmChunkedFn = void (*)(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                                  int64_t n_tokens, float* y, int64_t y_stride, int chunk_subs);
LutGemmChunkedFn lut_gemm_chunked_kernel_unchecked();

// Bytes of one activation row of `cols` elements (a multiple of 32): int8 values, float scales and int32
// sums per 32 columns, padded to a multiple of 64.
size_t lut_gemm_act_row_bytes(int64_t cols);
// Quantizes `cols` floats into that layout at dst (Q8_0's rounding: scale max|x| / 127 per 32 columns).
void lut_gemm_acts_from_float(const float* x, int64_t cols, uint8_t* dst);

// The default of the token count from which Linear runs the GEMM instead of the lookup kernel per token
// (the value in use is lut_tuning().gemm_min_tokens, kernels/lut_tune.h). Measured with bench/lut_bench.cc
// (Prompt/, one thread, 2048x2048): at 2 tokens the GEMM is 5-15% faster than two lookup GEMVs
// (elq4/elq2/tq1_0), at 4 tokens 1.6-1.8x, at 64 tokens 2-3x.
constexpr int64_t kLutGemmMinTokens = 2;

}  // namespace edgellm
