#include "measure/roofline.h"

#include <algorithm>

namespace edgellm {

RooflinePoint roofline(double bytes_per_token, double ops_per_token, double tokens_per_s, const MachineInfo& m,
                       int threads) {
  RooflinePoint r;
  const double bw = m.mem_read_gbs(threads), peak = m.peak_int8_gops(threads);
  r.achieved_gbs = bytes_per_token * tokens_per_s * 1e-9;
  r.achieved_gops = ops_per_token * tokens_per_s * 1e-9;
  r.bandwidth_fraction = bw > 0 ? r.achieved_gbs / bw : 0;
  r.compute_fraction = peak > 0 ? r.achieved_gops / peak : 0;
  r.intensity = bytes_per_token > 0 ? ops_per_token / bytes_per_token : 0;
  // The roof is whichever limit bites first; a missing figure (0) imposes no limit of its own.
  double roof = 0;
  if (bw > 0 && bytes_per_token > 0) roof = bw * 1e9 / bytes_per_token;
  if (peak > 0 && ops_per_token > 0) {
    const double compute_roof = peak * 1e9 / ops_per_token;
    roof = roof > 0 ? std::min(roof, compute_roof) : compute_roof;
  }
  r.roof_tokens_per_s = roof;
  r.roofline_fraction = roof > 0 ? tokens_per_s / roof : 0;
  return r;
}

double kv_bytes_per_token(const ModelShape& s) {
  return 2.0 * s.n_layer * s.n_head_kv * s.head_dim * static_cast<double>(s.kv_bytes_per_element);
}

double decode_bytes_per_token(const ModelShape& s, int ctx) {
  const double embedding_row = s.n_vocab > 0 ? s.embedding_bytes / s.n_vocab : 0;
  return s.weight_bytes - s.embedding_bytes + embedding_row + kv_bytes_per_token(s) * std::max(ctx, 0);
}

double ops_per_token(const ModelShape& s, int ctx) {
  // Matmuls: one multiply-add per parameter. Attention: q·k over ctx keys and the weighted sum of ctx
  // values, head_dim multiply-adds each, per query head and layer.
  return 2.0 * s.n_params + 4.0 * s.n_layer * s.n_head * s.head_dim * static_cast<double>(std::max(ctx, 0));
}

double prompt_ops_per_token(const ModelShape& s, int n_prompt) {
  n_prompt = std::max(n_prompt, 1);
  const double head = std::min(static_cast<double>(s.n_vocab) * s.n_embd, s.n_params);
  return ops_per_token(s, n_prompt / 2) - 2.0 * head + 2.0 * head / n_prompt;
}

double prompt_act_elements_per_token(const ModelShape& s) {
  return static_cast<double>(s.n_layer) *
         (5.0 * s.n_embd + static_cast<double>(s.n_head) * s.head_dim + static_cast<double>(s.n_ff));
}

double layer_elementwise_elements(int n_embd, int n_head, int n_head_kv, int head_dim, int n_ff) {
  return 4.0 * n_embd + (static_cast<double>(n_head) + n_head_kv) * head_dim + static_cast<double>(n_ff);
}

double attention_ops_per_token(const ModelShape& s, int ctx) {
  return 4.0 * s.n_layer * s.n_head * s.head_dim * static_cast<double>(std::max(ctx, 0));
}

Prediction predict(const ModelShape& s, const MachineInfo& m, int n_prompt, int n_gen, int threads,
                   const KernelRates& rates) {
  Prediction p;
  const double bw = m.mem_read_gbs(threads) * 1e9;
  // Compute scales with threads up to the physical cores (as MachineInfo::peak_int8_gops).
  const double cores =
      m.n_cores_physical > 0 ? std::min(std::max(threads, 1), m.n_cores_physical) : std::max(threads, 1);
  // Each term's rate: the type's own probe where it ran, else the generic int8 peak (see the header).
  const double peak = m.peak_int8_gops(threads) * 1e9;
  const double stream = rates.decode_stream_fraction > 0 ? rates.decode_stream_fraction : kDecodeBandwidthEfficiency;
  const double decode_rate = rates.decode_gops_1t > 0 ? rates.decode_gops_1t * 1e9 * cores : peak;
  const double attn_decode_rate =
      rates.attention_decode_gflops_1t > 0 ? rates.attention_decode_gflops_1t * 1e9 * cores : peak;
  const double prompt_rate =
      rates.prompt_gops_1t > 0 ? rates.prompt_gops_1t * 1e9 * cores : peak * kPrefillEfficiency;
  const double attn_prompt_rate =
      rates.attention_prompt_gflops_1t > 0 ? rates.attention_prompt_gflops_1t * 1e9 * cores : peak * kPrefillEfficiency;
  auto div = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  // Norms, RoPE, SwiGLU and adds run per token on the calling thread in both phases.
  const double t_elementwise =
      s.n_layer * layer_elementwise_elements(s.n_embd, s.n_head, s.n_head_kv, s.head_dim, s.n_ff) *
      rates.elementwise_ns * 1e-9;
  n_prompt = std::max(n_prompt, 0);
  n_gen = std::max(n_gen, 0);

  // Decode: the weights stream at the kernel's share of the bandwidth unless its instructions are slower; the
  // attention reads the cache at the plain bandwidth unless its arithmetic is slower.
  const int decode_ctx = n_prompt + n_gen / 2;
  p.decode_bytes_per_token = decode_bytes_per_token(s, decode_ctx);
  const double kv_bytes = kv_bytes_per_token(s) * decode_ctx;
  const double t_weights_mem = div(p.decode_bytes_per_token - kv_bytes, bw * stream);
  const double t_weights_cmp = div(2.0 * s.n_params, decode_rate);
  const double t_kv_mem = div(kv_bytes, bw * (rates.attention_decode_gflops_1t > 0 ? 1.0 : stream));
  const double t_attn_cmp = div(attention_ops_per_token(s, decode_ctx), attn_decode_rate);
  // One activation row per Linear call (and the head's), converted on the calling thread before its weights stream;
  // the DRAM pass's fraction already includes it.
  const double t_act = rates.decode_stream_fraction > 0
                           ? 0.0
                           : (prompt_act_elements_per_token(s) + s.n_embd) * rates.decode_act_ns * 1e-9;
  const double t_decode =
      std::max(t_weights_mem, t_weights_cmp) + std::max(t_kv_mem, t_attn_cmp) + t_act + t_elementwise;
  const double t_mem = t_weights_mem + t_kv_mem, t_cmp = t_weights_cmp + t_attn_cmp + t_act + t_elementwise;
  p.decode_tokens_per_s = t_decode > 0 && p.decode_bytes_per_token > 0 && bw > 0 ? 1.0 / t_decode : 0;
  p.decode_bound = t_mem >= t_cmp ? "memory" : "compute";

  p.prompt_ops_per_token = prompt_ops_per_token(s, n_prompt);
  const double batch = std::clamp(n_prompt, 1, 512);
  const double attn_ops = attention_ops_per_token(s, n_prompt / 2);
  const double t_prompt_mem = div(s.weight_bytes / batch, bw * stream);
  // The head runs once per prompt (for the last token), so its weights pay no per-call prompt cost.
  const double layer_weights = s.n_params - std::min(static_cast<double>(s.n_vocab) * s.n_embd, s.n_params);
  const double t_prompt_cmp = div(p.prompt_ops_per_token - attn_ops, prompt_rate) +
                              prompt_act_elements_per_token(s) * rates.prompt_act_ns * 1e-9 / cores +
                              layer_weights * rates.prompt_call_ns_per_weight * 1e-9 / (batch * cores) +
                              div(attn_ops, attn_prompt_rate) + t_elementwise;
  const double t_prompt = t_prompt_mem + t_prompt_cmp;
  p.prompt_tokens_per_s =
      n_prompt > 0 && t_prompt > 0 && s.n_params > 0 && prompt_rate > 0 ? 1.0 / t_prompt : 0;
  p.prompt_bound = t_prompt_cmp >= t_prompt_mem ? "compute" : "memory";

  // Weights are mmapped and all touched; the KV cache holds every token; activations are a prompt batch
  // of residual, norm, q/k/v/out and two FFN rows in f32 plus the f32 logits row.
  const double ctx = static_cast<double>(n_prompt) + n_gen;
  const double activations =
      batch * 4.0 * (4.0 * s.n_embd + 2.0 * s.n_ff + static_cast<double>(s.n_head) * std::max(ctx, 1.0)) +
      4.0 * s.n_vocab;
  p.memory_bytes = s.weight_bytes + kv_bytes_per_token(s) * ctx + activations;
  return p;
}

}  // namespace edgellm
