// Per-path kernel throughput for the speed predictions: the engine's own matmul (Linear::forward, so whatever
// kernel it picks for the type on this CPU: the int8 GEMM, the batched dot products, the GEMV or the table-lookup
// kernel) on weights small enough to stay in cache, once as a prompt batch and once as a single decode token.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "kernels/ggml_type.h"

namespace edgellm {

// One core's throughput for one weight type, in 1e9 operations per CPU-second (a multiply-add counts as 2).
struct KernelRates {
  double prompt_gops_1t = 0;  // Linear::forward with kPromptProbeTokens tokens (the prompt path)
  double decode_gops_1t = 0;  // Linear::forward with one token (the decode path)
};

// Tokens of the prompt-path probe: the session's prefill batch, so per-call costs (activation quantization, the
// GEMM's tile repacking) weigh as they do in a prefill. (At 64 tokens Q4_K's GEMM measured 221 GOPS, at 512 224;
// Q8_0 351 vs 409.)
inline constexpr int64_t kPromptProbeTokens = 512;

// Measures `type` on a 256 × 2048 random matrix (in L2/L3) on the calling thread, each path for about
// `target_s` CPU-seconds, best of `tries`; CPU time, so a busy machine slows the probe but not its figures. Errors: a
// type edgellm cannot quantize to or multiply with (the message names it).
Result<KernelRates> probe_kernel_rates(GgmlType type, double target_s = 0.1, int tries = 2);

}  // namespace edgellm
