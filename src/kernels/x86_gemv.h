// Decode GEMV (1..3 tokens) with x86 int8 dot-product instructions for the 32-element block types
// Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (x86_gemv.cc). Weights are read in place (usually the mmapped GGUF),
// row after row, so the hardware prefetcher sees one linear stream.
//
// Activations come in as the Q8_0 row the scalar path uses and are expanded once per token into a
// GemvActs row, laid out for 4-byte dot-product lanes (lane j covers columns 4j..4j+3, so a 32-column
// block is 8 lanes):
//   int8 values [P]                      P = cols rounded up to 64 (two blocks), zero padded
//   float dx[P/4]                        the block's activation scale, repeated in each of its 8 lanes
//   int32 init[P/4]                      −offset · (sum of the lane's 4 values): the correction for
//                                        weights stored as unsigned q with w = d·(q − offset)
//   float xs[P/4]                        dx · (sum of the lane's 4 values): the per-block minimum term of
//                                        Q4_1/Q5_1 (w = d·q + m) is m·Σ_lanes xs
// The padding lanes are all zero, so a kernel may read a whole pair of blocks past an odd block count.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_type.h"

namespace edgellm {

// One call's work: rows [row_begin, row_end) of W against n_tokens (1..3) expanded activation rows.
struct GemvTask {
  const uint8_t* w = nullptr;     // row 0 of the weight matrix in its stored type
  size_t w_stride = 0;            // bytes between weight rows
  int64_t cols = 0;               // a multiple of 32
  const uint8_t* acts = nullptr;  // n_tokens rows, gemv_act_row_bytes(cols) bytes apart, 64-byte aligned
  int64_t n_tokens = 1;           // 1..kGemvMaxTokens
  float* y = nullptr;             // y[t * y_stride + r]
  int64_t y_stride = 0;
  int64_t row_begin = 0, row_end = 0;
};
using GemvFn = void (*)(const GemvTask& task);

constexpr int64_t kGemvMaxTokens = 3;

// Instruction-set variants; tests run every one the CPU supports.
enum class GemvIsa {
  kAvx512Vnni,  // zmm vpdpbusd (+ AVX-512 VBMI byte permutes), two blocks per vector
  kAvxVnni,     // ymm vpdpbusd (AVX-VNNI), one block per vector
  kAvx2,        // ymm vpmaddubsw + vpmaddwd, one block per vector
};

// A kernel and the weight offset its activation rows must be expanded with (gemv_expand_acts).
struct GemvKernel {
  GemvFn fn = nullptr;
  int32_t offset = 0;
};

// The kernel of `isa` for a weight type, or {nullptr} when this CPU cannot run that variant, the type has
// none (only Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 do) or the build is not x86-64.
GemvKernel x86_gemv_kernel(GgmlType weight_type, GemvIsa isa);
// The fastest variant this CPU runs for the type, or {nullptr}. Chosen once per Linear.
GemvKernel x86_gemv_best(GgmlType weight_type);

// Bytes of one expanded activation row of `cols` elements; a multiple of 64.
size_t gemv_act_row_bytes(int64_t cols);
// Expands one Q8_0 row (cols/32 blocks) into the layout above at dst (gemv_act_row_bytes(cols) bytes).
void gemv_expand_acts(const void* q8_0_row, int64_t cols, int32_t offset, uint8_t* dst);

}  // namespace edgellm
