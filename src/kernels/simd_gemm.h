// Prompt-processing GEMM (n_tokens > 1): y = x · Wᵀ with int8 dot-product instructions, register-tiled
// over 16 weight rows × up to 8 tokens (AVX-512 VNNI) or 8 rows × 4 tokens (AVX-VNNI, 256-bit; and plain
// AVX2 with vpmaddubsw + vpmaddwd in place of vpdpbusd, for CPUs without VNNI).
//
// Weights stay where they are (usually the mmapped GGUF): each thread repacks the 16-row tile it is about
// to multiply, 1024 columns at a time, into a small stack buffer (kernels/gemm_pack.h: row-interleaved
// signed levels, 4 columns of 16 rows per 64 bytes, plus per-group scales), then runs every token over it.
// The repack costs one pass over the weights per call, which the tokens amortize; nothing is copied at
// load time, so resident memory does not grow and decode keeps reading the mmap directly.
//
// Activations are first quantized to the weight's vec_dot_type (Q8_0, or Q8_K for the k-quants) exactly as
// on the scalar path, and then expanded into tiles of 8 tokens whose 4-byte column steps are interleaved,
// so a register tile reaches all its tokens from one pointer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_type.h"

namespace edgellm {

// One call's work: rows [row_begin, row_end) of W against n_tokens activation rows.
struct GemmTask {
  const uint8_t* w = nullptr;     // row 0 of the weight matrix in its stored type
  size_t w_stride = 0;            // bytes between weight rows
  int64_t rows = 0, cols = 0;     // cols is a multiple of the type's block size (32 or 256)
  const uint8_t* acts = nullptr;  // the expanded activations: gemm_acts_bytes(n_tokens, cols), 64-byte aligned
  int64_t n_tokens = 0;
  float* y = nullptr;                  // y[t * rows + r]
  int64_t row_begin = 0, row_end = 0;  // row_begin a multiple of kGemmTileRows
};
using GemmFn = void (*)(const GemmTask& task);

constexpr int64_t kGemmTileRows = 16;

// The instruction sets a GEMM kernel is written for, fastest first.
enum class GemmIsa { kAvx512Vnni, kAvxVnni, kAvx2 };

// The fastest GEMM kernel for a weight type on this CPU, or nullptr (not even AVX2 here,
// or a type without a GEMM kernel: Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 and Q2_K…Q6_K have one): callers then use the
// per-row dot products. Chosen once per Linear. The environment variable EDGELLM_GEMM_ISA=avxvnni|avx2
// caps the choice at that instruction set (the fastest one at or below it that the CPU runs), so a
// slower variant can be measured end to end on a faster CPU; other values are ignored.
GemmFn gemm_kernel(GgmlType weight_type);
// The kernel of one instruction set, ignoring the CPU check, for tests and benchmarks that already
// checked gemm_isa_supported(isa).
GemmFn gemm_kernel_for(GgmlType weight_type, GemmIsa isa);
// True when this CPU runs the kernels of `isa` (AVX-512 F/BW/VL/DQ + VNNI; AVX2 + FMA + F16C + AVX-VNNI;
// AVX2 + FMA + F16C).
bool gemm_isa_supported(GemmIsa isa);
// True when this CPU runs any GEMM kernel.
bool gemm_supported_cpu();

// Bytes of the expanded activations of n_tokens rows of `cols` elements (cols a multiple of 32).
size_t gemm_acts_bytes(int64_t n_tokens, int64_t cols);
// Expands token t's Q8_0 row of `cols` elements into the expanded activations at acts
// (gemm_acts_bytes(n_tokens, cols) bytes, t < n_tokens). Different tokens may be expanded concurrently.
void gemm_acts_from_q8_0(const void* q8_0_row, int64_t cols, int64_t t, uint8_t* acts);
// The same from a Q8_K row (cols a multiple of 256): every group takes its super-block's scale.
void gemm_acts_from_q8_k(const void* q8_k_row, int64_t cols, int64_t t, uint8_t* acts);

}  // namespace edgellm
