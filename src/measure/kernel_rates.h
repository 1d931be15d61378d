// Per-path kernel throughput for the speed predictions: the engine's own matmul (Linear::forward, so whatever
// kernel it picks for the type on this CPU: the int8 GEMM, the row-interleaved decode kernels, the GEMV or the
// table-lookup kernels) and its attention kernel, measured so that they add up the way a model's layers do:
//   - the prompt path at two row counts and two batch sizes, split into a cost per multiply-add, a cost per
//     activation element per call (the conversion of the input rows into the kernel's format, paid once per Linear
//     call and token whatever the rows: a 256-row probe matrix weighs it ~10x more than a real layer) and a cost per
//     weight per call (paid once per call whatever the tokens: a 128-token prompt pays it 4x as often per token as
//     a 512-token one);
//   - the decode path on in-cache weights at the same two row counts (its compute ceiling and its per-call
//     activation cost) and once streaming from DRAM beside a plain read of the same size (what fraction of the read
//     bandwidth the kernel reaches);
//   - attention over an F16 KV cache for a prompt batch and for one decode token, and a layer's element-wise ops.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "kernels/ggml_type.h"

namespace edgellm {

// One core's figures for one weight type (CPU time, so a busy machine slows the probe but not its figures).
struct KernelRates {
  // Prompt path (Linear::forward with several tokens), split as
  //   seconds per call = tokens × cols × act_ns + rows × cols × (tokens × 2 / (gops·1e9) + call_ns_per_weight):
  // 1e9 operations per second per multiply-add (counted as 2) on many rows; CPU nanoseconds per activation element
  // per call (the conversion of each input row into the kernel's format); and CPU nanoseconds per weight per call
  // (what a GEMM pays once per call whatever the tokens: unpacking repacked tiles, expanding lookup codes).
  double prompt_gops_1t = 0;
  double prompt_act_ns = 0;
  double prompt_call_ns_per_weight = 0;
  // Decode path (one token) on in-cache weights, split the same way into 1e9 operations per second per
  // multiply-add and CPU nanoseconds per activation element per call (converting the token's row on the calling
  // thread before any weight is read, so it adds to the streaming time instead of hiding under it).
  double decode_gops_1t = 0;
  double decode_act_ns = 0;
  // Decode path from DRAM (kDramProbeLayer): its bytes per second over a plain streaming read's, back to back on
  // buffers of the same size (> 1 is possible only when the buffer fits a cache); 0 = not measured. Includes the
  // per-call activation conversion, so the predictor adds decode_act_ns only when this is 0.
  double decode_stream_fraction = 0;
  // Attention (kernels/ops.h) in 1e9 floating-point operations per second (a multiply-add counts as 2): a prompt
  // batch from an empty cache, and one decode token over kAttentionProbeDecodeCaches caches (out of the CPU caches)
  // of kAttentionProbeContext positions.
  double attention_prompt_gflops_1t = 0;
  double attention_decode_gflops_1t = 0;
  // A layer's element-wise work per token (kernels/ops.h: two RMS norms, RoPE of the query and key heads, SwiGLU,
  // two residual adds) in CPU nanoseconds per element of layer_elementwise_elements() (measure/roofline.h).
  double elementwise_ns = 0;
  // CPU seconds the probe of this type's matmul fields took (its share of the DRAM pass's plain buffer included),
  // or of the shared fields for probe_shared_rates().
  double probe_cpu_s = 0;
};

// Probe shapes: kProbeCols columns; the prompt path at (kPromptProbeRowsFew, kPromptProbeTokens),
// (kPromptProbeRowsMany, kPromptProbeTokens) and (kPromptProbeRowsMany, kPromptProbeShortTokens). Rows: the
// difference between the two row counts is the per-weight work alone, the rest of the smaller one's time the
// activation conversion; tokens: the difference between the two batches is the per-call work. 1024 rows run at the
// speed of the real 2048-8192-row layers (weights in L2 or L3 and streamed once per call either way); 512 tokens is
// the session's prefill batch.
inline constexpr int64_t kProbeCols = 2048;
inline constexpr int64_t kPromptProbeRowsFew = 256;
inline constexpr int64_t kPromptProbeRowsMany = 1024;
inline constexpr int64_t kPromptProbeTokens = 512;
inline constexpr int64_t kPromptProbeShortTokens = 64;
// The DRAM decode pass streams copies of one Llama-3.2-1B layer (q, k, v, o, gate, up, down as rows × cols, in this
// order: q/k/v and gate/up run as Linear::forward_group, the others alone, like a decode step in blocks.cc): per-call costs (converting the token's row, the kernel's start on each
// matrix) then weigh as in a model, which one long matrix would hide.
struct ProbeMatrix {
  int64_t rows, cols;
};
inline constexpr ProbeMatrix kDramProbeLayer[] = {{2048, 2048}, {512, 2048},  {512, 2048}, {2048, 2048},
                                                  {8192, 2048}, {8192, 2048}, {2048, 8192}};
// Attention probe: a Llama-3.2-1B layer (32 query heads, 8 KV heads of 64); the prompt batch starts at position 0,
// the decode token sees kAttentionProbeContext positions.
inline constexpr int kAttentionProbeHeads = 32, kAttentionProbeKvHeads = 8, kAttentionProbeHeadDim = 64;
inline constexpr int kAttentionProbePromptTokens = 128;
inline constexpr int kAttentionProbeContext = 512;
// The decode token visits this many separate caches of kAttentionProbeContext positions in turn (1 MiB each: 64 MiB
// in all, twice a 32 MiB L3), as a decode step visits its layers' caches from memory. With one hot cache the kernel
// ran ~3x faster than the same attention inside a model (tq1_0 pp512 tg128: 2.7 ms per token for ctx 144 -> 576).
inline constexpr int kAttentionProbeDecodeCaches = 64;

// One prompt-path measurement: operations per CPU-second (a multiply-add counting 2) of a rows × cols matrix
// with `tokens` tokens.
struct PromptSample {
  int64_t rows = 0, tokens = 0;
  double ops_per_s = 0;
};
// Fits KernelRates' prompt model through `few` and `many` (same tokens, rows_few < rows_many) and `short_batch`
// (many's rows, fewer tokens). Noise that makes a term negative drops that term (0) and gives its time to the
// per-operation rate, so the fitted model still reproduces the `many` measurement. Unusable samples (non-positive,
// shapes not as described) give zeros.
void fit_prompt_rates(const PromptSample& few, const PromptSample& many, const PromptSample& short_batch, int64_t cols,
                      KernelRates* out);

// Splits decode-path measurements (one token) at rows_few < rows_many rows of `cols` columns (operations per
// CPU-second) into decode_gops_1t and decode_act_ns, as fit_prompt_rates does for its first two samples.
void fit_decode_rates(double ops_per_s_few, double ops_per_s_many, int64_t rows_few, int64_t rows_many, int64_t cols,
                      KernelRates* out);

// Measures `type` on the calling thread: each path for about `target_s` CPU-seconds, best of `tries`, and the DRAM
// decode pass on at least `stream_bytes` of weights (whole layers; 0 skips it; should be at least twice the L3
// cache: 64 MiB here, which adds ~0.1 s, mostly packing the weights and touching the plain-read buffer's pages).
// Errors: a type edgellm cannot quantize to or multiply with (the message names it), or a buffer that cannot be
// allocated.
Result<KernelRates> probe_kernel_rates(GgmlType type, double target_s = 0.1, int tries = 2,
                                       uint64_t stream_bytes = 0);

// The parts of probe_kernel_rates(): the weight type's matmul fields (prompt and decode paths, the DRAM pass), and
// the fields no weight type changes (attention, element-wise ops) into `out`, so a model of several weight types
// measures those once.
Result<KernelRates> probe_matmul_rates(GgmlType type, double target_s = 0.1, int tries = 2, uint64_t stream_bytes = 0);
// The same for each of `types` in turn (one Result each, in order), their DRAM passes sharing one plain-read
// buffer of `stream_bytes`.
std::vector<Result<KernelRates>> probe_matmul_rates(std::span<const GgmlType> types, double target_s, int tries,
                                                    uint64_t stream_bytes);
Status probe_shared_rates(double target_s, int tries, KernelRates* out);

}  // namespace edgellm
