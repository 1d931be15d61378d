// Roofline placement of a measured run, and speed/memory predictions from a model's shapes and the
// machine probe without running the model.
#pragma once

#include <cstdint>
#include <string>

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

// The shape numbers a prediction needs (all from GGUF metadata and tensor sizes).
struct ModelShape {
  double weight_bytes = 0;     // bytes of all weight tensors as stored
  double n_params = 0;         // parameters in the matmuls (embeddings looked up, not multiplied, excluded)
  double embedding_bytes = 0;  // bytes of the token-embedding table when NOT tied to the output head: decode
                               // reads one row of it per token, not all (tied: 0, the head reads it all)
  int n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_vocab = 0, n_ff = 0;
  int kv_bytes_per_element = 2;  // F16 KV cache
};

// Bytes of KV cache one token adds (K and V, all layers).
double kv_bytes_per_token(const ModelShape& s);
// Bytes read to decode one token at context length `ctx`: every weight once plus the KV cache so far.
double decode_bytes_per_token(const ModelShape& s, int ctx);
// Operations (multiply-add = 2) for one token at context `ctx`: matmuls plus attention scores and mix.
double ops_per_token(const ModelShape& s, int ctx);

struct Prediction {
  double prompt_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  double memory_bytes = 0;            // weights (mmapped) + KV cache for n_prompt + n_gen + activations
  double decode_bytes_per_token = 0;  // at the mean decode context
  double prompt_ops_per_token = 0;
  std::string decode_bound;  // "memory" or "compute": which roof limits decode
  std::string prompt_bound;
};
// Predicts speeds from the probe: decode time per token = max(bytes / bandwidth, ops / int8 peak) at the
// mean context n_prompt + n_gen/2, with the efficiencies below; prompt time per token =
// ops / (int8 peak × kPrefillEfficiency) at mean context n_prompt/2, plus one pass over the weights per batch of
// up to 512 tokens. Zero machine figures or an empty shape give zero predictions.
Prediction predict(const ModelShape& s, const MachineInfo& m, int n_prompt, int n_gen, int threads);

// Fractions of the probe's roofs the engine reaches, calibrated on the measurements in docs/benchmarks.md
// (see docs/energy.md, "Prediction"): streaming matvec vs a pure read loop, and whole-model prefill vs the
// in-cache int8 matmul micro-benchmark.
inline constexpr double kDecodeBandwidthEfficiency = 0.8;
inline constexpr double kPrefillEfficiency = 0.6;

}  // namespace edgellm
