// Roofline placement of a measured run, and speed/memory predictions from a model's shapes and the
// machine probe without running the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "measure/kernel_rates.h"
#include "measure/machine.h"

namespace edgellm {

struct RooflinePoint {
  double achieved_gbs = 0;        // bytes_per_token × tokens/s / 1e9
  double bandwidth_fraction = 0;  // achieved_gbs / MachineInfo::mem_read_gbs(threads)
  double achieved_gops = 0;       // ops_per_token × tokens/s / 1e9
  double compute_fraction = 0;    // achieved_gops / MachineInfo::peak_int8_gops(threads)
  double intensity = 0;           // ops per byte
  double roof_tokens_per_s = 0;   // min(bandwidth roof, compute roof) for this intensity
  double roofline_fraction = 0;   // tokens_per_s / roof_tokens_per_s: how close to the roof the run is
};
// Places a measured run (decode: bytes ≈ weights + KV read per token; prefill: ops per token)
// on the roofline of `m` at `threads` threads. Zero machine figures give zero fractions.
RooflinePoint roofline(double bytes_per_token, double ops_per_token, double tokens_per_s, const MachineInfo& m,
                       int threads);

// What a weight tensor does in a token's work, which decides how often its bytes are read and multiplied.
enum class WeightRole {
  kLayer,       // a matrix of a transformer block: multiplied by every token
  kOutputHead,  // the output head (the embedding table when tied): every decode token, once per prompt
  kEmbedding,   // an untied token-embedding table: looked up, one row read per token, never multiplied
  kOther,       // norms, biases, RoPE factors: read whole every token, no matmul
};

// The weight tensors of one type and role, summed (from a GGUF tensor table: no weight is read).
struct WeightGroup {
  GgmlType type = GgmlType::F32;
  WeightRole role = WeightRole::kLayer;
  double bytes = 0;         // as stored
  double params = 0;        // elements
  double act_elements = 0;  // input-row elements one token converts for its matrices (ne[0] summed per matrix)
};

// The shape numbers a prediction needs (all from GGUF metadata and tensor sizes).
struct ModelShape {
  double weight_bytes = 0;     // bytes of all weight tensors as stored
  double n_params = 0;         // parameters in the matmuls (embeddings looked up, not multiplied, excluded)
  double embedding_bytes = 0;  // bytes of the token-embedding table when NOT tied to the output head: decode
                               // reads one row of it per token, not all (tied: 0, the head reads it all)
  int n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_vocab = 0, n_ff = 0;
  int kv_bytes_per_element = 2;  // F16 KV cache
  // Per type and role (their bytes add up to weight_bytes, their 2-D params to n_params). Empty: predict() splits
  // the totals above into layers, head and embedding of a single type.
  std::vector<WeightGroup> groups;
};

// Bytes of KV cache one token adds (K and V, all layers).
double kv_bytes_per_token(const ModelShape& s);
// Bytes read to decode one token at context length `ctx`: every weight once plus the KV cache so far.
double decode_bytes_per_token(const ModelShape& s, int ctx);
// Operations (multiply-add = 2) for one token at context `ctx`: matmuls plus attention scores and mix.
double ops_per_token(const ModelShape& s, int ctx);
// Operations per prompt token, averaged over an n_prompt-token prefill: every matmul but the output head per
// token (the head, n_vocab × n_embd, runs once, for the last token's logits) and attention at the mean context.
double prompt_ops_per_token(const ModelShape& s, int n_prompt);

// Elements of activation rows converted per prompt token (one input row per Linear call: q, k, v, gate and up read
// n_embd, the attention output n_head × head_dim, down n_ff); the head, once per prompt, is left out.
double prompt_act_elements_per_token(const ModelShape& s);
// Elements a layer's element-wise ops touch per token: two RMS norms and two residual adds over n_embd, RoPE over
// the query and key heads, SwiGLU over n_ff (the unit of KernelRates::elementwise_ns).
double layer_elementwise_elements(int n_embd, int n_head, int n_head_kv, int head_dim, int n_ff);
// Attention operations (q·k and the weighted sum, multiply-add = 2) of one token seeing `ctx` cached positions.
double attention_ops_per_token(const ModelShape& s, int ctx);

struct Prediction {
  double prompt_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  double memory_bytes = 0;            // weights (mmapped) + KV cache for n_prompt + n_gen + activations
  double decode_bytes_per_token = 0;  // at the mean decode context
  double prompt_ops_per_token = 0;
  std::string decode_bound;  // "memory" or "compute": which roof limits decode
  std::string prompt_bound;
};
// Predicts speeds from the probe and, when given (non-zero), the kernel rates of the model's weight type
// (measure/kernel_rates.h) for every group of s.groups (or of the groups the totals give), with `cores` =
// min(threads, physical cores) and bw = MachineInfo::mem_read_gbs(threads):
//   decode time per token = Σ groups max(bytes / (bw × decode_stream_fraction), ops / (decode rate × cores))
//                         + max(KV bytes / bw, attention ops / (attention decode rate × cores))
//                         + activation elements × decode_act_ns (0 with a measured stream fraction, which has it)
//                         + n_layer × element-wise elements × elementwise_ns
//                           at context n_prompt + n_gen/2;
//   prompt time per token = matmul ops / (prompt rate × cores) + activation elements × prompt_act_ns / cores
//                         + layer weights × prompt_call_ns_per_weight / (batch × cores)
//                         + attention ops at the mean context / (attention prompt rate × cores)
//                         + n_layer × element-wise elements × elementwise_ns (on the calling thread)
//                         + one pass over the weights per batch of up to 512 tokens at bw.
// Every figure comes from the probes; a rate the probe did not give falls back to the older constants below
// (decode_stream_fraction 0: kDecodeBandwidthEfficiency; no kernel rates at all: the int8 peak with
// kPrefillEfficiency). Zero machine figures or an empty shape give zero predictions.
Prediction predict(const ModelShape& s, const MachineInfo& m, int n_prompt, int n_gen, int threads,
                   const KernelRates& rates = {});

// Kernel rates per weight type for a mixed model. The first entry is the fallback: a group whose type has no entry
// uses it (types carrying a few % of the bytes need no probe of their own), and its attention and element-wise
// figures serve the whole model (they do not depend on the weight type).
struct TypedKernelRates {
  GgmlType type = GgmlType::F32;
  KernelRates rates;
};
// As above, each group of s.groups at its own type's rates (an empty `rates` is the probe-less fallback): decode sums
// per group max(bytes / (bw × its stream fraction), 2 × params / its decode rate) (its activation cost added when
// its stream fraction is 0), the embedding row and kOther bytes at the fallback's stream; prompt sums per group its
// multiply-adds, activation and per-call costs at its own rates and its bytes once per batch.
Prediction predict(const ModelShape& s, const MachineInfo& m, int n_prompt, int n_gen, int threads,
                   const std::vector<TypedKernelRates>& rates);

// Fallbacks for a probe that did not run (see predict()): decode streaming vs a pure read loop, and whole-model
// prefill vs the int8 peak, both measured end to end on this project's first machine (docs/benchmarks.md).
inline constexpr double kDecodeBandwidthEfficiency = 0.8;
inline constexpr double kPrefillEfficiency = 0.6;

}  // namespace edgellm
