// Prompt-processing GEMM (n_tokens > 1): y = x · Wᵀ with int8 dot-product instructions, register-tiled
// over 16 weight rows × up to 8 tokens.
//
// Weights stay where they are (usually the mmapped GGUF): each thread repacks the 16-row tile it is about
// to multiply, 1024 columns at a time, into a small stack buffer (row-interleaved unsigned bytes, 4 columns
// of 16 rows per 64-byte vector, plus 16 float scales per 32-column group), then runs every token over it.
// The repack costs one pass over the weights per call, which the tokens amortize; nothing is copied at
// load time, so resident memory does not grow and decode keeps reading the mmap directly.
//
// Activations are first quantized to the weight's vec_dot_type (Q8_0, or Q8_K for Q4_K) exactly as on the
// scalar path, and then expanded once per token into GemmActs rows: the 32-element int8 groups contiguous, with each
// group's float scale and int sum.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_type.h"

namespace edgellm {

// One call's work: rows [row_begin, row_end) of W against n_tokens activation rows.
struct GemmTask {
  const uint8_t* w = nullptr;     // row 0 of the weight matrix in its stored type
  size_t w_stride = 0;            // bytes between weight rows
  int64_t rows = 0, cols = 0;     // cols is a multiple of 32
  const uint8_t* acts = nullptr;  // n_tokens rows, each gemm_act_row_bytes(cols) bytes (64-byte aligned)
  int64_t n_tokens = 0;
  float* y = nullptr;                  // y[t * rows + r]
  int64_t row_begin = 0, row_end = 0;  // row_begin a multiple of kGemmTileRows
};
using GemmFn = void (*)(const GemmTask& task);

constexpr int64_t kGemmTileRows = 16;

// The GEMM kernel for a weight type on this CPU, or nullptr (no int8 dot-product instruction here, or a
// type without a GEMM kernel): callers then use the per-row dot products. Chosen once per Linear.
GemmFn gemm_kernel(GgmlType weight_type);
// The same, ignoring the CPU check, for tests that already checked gemm_supported_cpu().
GemmFn gemm_kernel_unchecked(GgmlType weight_type);
// True when this CPU runs the GEMM kernels (AVX-512 VNNI + BW + VL).
bool gemm_supported_cpu();

// Bytes of one expanded activation row of `cols` elements (cols a multiple of 32), a multiple of 64.
size_t gemm_act_row_bytes(int64_t cols);
// Expands one Q8_0 row of `cols` elements into the GemmActs layout at dst (gemm_act_row_bytes(cols) bytes):
// int8 values [cols], then float scales [cols/32], then int32 group sums [cols/32].
void gemm_acts_from_q8_0(const void* q8_0_row, int64_t cols, uint8_t* dst);
// The same from a Q8_K row (cols a multiple of 256): every group takes its super-block's scale, and its
// sum from the two 16-element sums Q8_K already stores.
void gemm_acts_from_q8_k(const void* q8_k_row, int64_t cols, uint8_t* dst);

}  // namespace edgellm
