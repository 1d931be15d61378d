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

namespace {

// A shape without groups as one type's layers, head and embedding table, its matmul bytes split by parameters.
std::vector<WeightGroup> single_type_groups(const ModelShape& s) {
  const double head = std::min(static_cast<double>(s.n_vocab) * s.n_embd, s.n_params);
  const double matmul_bytes = s.weight_bytes - s.embedding_bytes;
  std::vector<WeightGroup> g;
  if (s.n_params > 0) {
    const double per_param = matmul_bytes / s.n_params;
    g.push_back({GgmlType::F32, WeightRole::kLayer, (s.n_params - head) * per_param, s.n_params - head,
                 prompt_act_elements_per_token(s)});
    g.push_back({GgmlType::F32, WeightRole::kOutputHead, head * per_param, head, static_cast<double>(s.n_embd)});
  } else {
    g.push_back({GgmlType::F32, WeightRole::kOther, matmul_bytes, 0, 0});
  }
  if (s.embedding_bytes > 0) g.push_back({GgmlType::F32, WeightRole::kEmbedding, s.embedding_bytes, 0, 0});
  return g;
}

// predict() with `rates_of(type)` giving each group's kernel rates and `base` the type-independent ones.
template <class RatesOf>
Prediction predict_groups(const ModelShape& s, const MachineInfo& m, int n_prompt, int n_gen, int threads,
                          const KernelRates& base, RatesOf&& rates_of) {
  Prediction p;
  const double bw = m.mem_read_gbs(threads) * 1e9;
  // Compute scales with threads up to the physical cores (as MachineInfo::peak_int8_gops).
  const double cores =
      m.n_cores_physical > 0 ? std::min(std::max(threads, 1), m.n_cores_physical) : std::max(threads, 1);
  // Each term's rate: the type's own probe where it ran, else the generic int8 peak (see the header).
  const double peak = m.peak_int8_gops(threads) * 1e9;
  auto stream_of = [](const KernelRates& r) {
    return r.decode_stream_fraction > 0 ? r.decode_stream_fraction : kDecodeBandwidthEfficiency;
  };
  const double base_stream = stream_of(base);
  const double attn_decode_rate =
      base.attention_decode_gflops_1t > 0 ? base.attention_decode_gflops_1t * 1e9 * cores : peak;
  const double attn_prompt_rate = base.attention_prompt_gflops_1t > 0 ? base.attention_prompt_gflops_1t * 1e9 * cores
                                                                      : peak * kPrefillEfficiency;
  auto div = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  // Norms, RoPE, SwiGLU and adds run per token on the calling thread in both phases.
  const double t_elementwise =
      s.n_layer * layer_elementwise_elements(s.n_embd, s.n_head, s.n_head_kv, s.head_dim, s.n_ff) *
      base.elementwise_ns * 1e-9;
  n_prompt = std::max(n_prompt, 0);
  n_gen = std::max(n_gen, 0);
  const int decode_ctx = n_prompt + n_gen / 2;
  const double batch = std::clamp(n_prompt, 1, 512);
  p.decode_bytes_per_token = decode_bytes_per_token(s, decode_ctx);
  p.prompt_ops_per_token = prompt_ops_per_token(s, n_prompt);

  // Decode: each group's weights stream at its kernel's share of the bandwidth unless its instructions are slower
  // (the kernels run one after the other); one activation row per Linear call is converted on the calling thread
  // before its weights stream, which the DRAM pass's fraction already includes. Prompt: each group's multiply-adds,
  // activation conversions and per-call work at its type's rates, its bytes once per batch.
  double t_decode_weights = 0, t_mem = 0, t_cmp = 0, t_prompt_mem = 0, t_prompt_cmp = 0, matmul_params = 0;
  const std::vector<WeightGroup> derived = s.groups.empty() ? single_type_groups(s) : std::vector<WeightGroup>{};
  for (const WeightGroup& g : s.groups.empty() ? derived : s.groups) {
    const KernelRates& r = rates_of(g.type);
    const bool matmul = g.role == WeightRole::kLayer || g.role == WeightRole::kOutputHead;
    const double stream = matmul ? stream_of(r) : base_stream;
    t_prompt_mem += div(g.bytes / batch, bw * stream);
    if (!matmul) {
      // An untied embedding table gives one row per token; norms and biases are read whole.
      const double bytes = g.role == WeightRole::kEmbedding ? (s.n_vocab > 0 ? g.bytes / s.n_vocab : 0) : g.bytes;
      t_decode_weights += div(bytes, bw * stream);
      t_mem += div(bytes, bw * stream);
      continue;
    }
    matmul_params += g.params;
    const double mem = div(g.bytes, bw * stream);
    const double cmp = div(2.0 * g.params, r.decode_gops_1t > 0 ? r.decode_gops_1t * 1e9 * cores : peak);
    const double act = r.decode_stream_fraction > 0 ? 0.0 : g.act_elements * r.decode_act_ns * 1e-9;
    t_decode_weights += std::max(mem, cmp) + act;
    t_mem += mem;
    t_cmp += cmp + act;
    const double prompt_rate = r.prompt_gops_1t > 0 ? r.prompt_gops_1t * 1e9 * cores : peak * kPrefillEfficiency;
    if (g.role == WeightRole::kOutputHead) {
      // The head runs once per prompt (for the last token): no per-token activation or per-call cost.
      t_prompt_cmp += div(2.0 * g.params / std::max(n_prompt, 1), prompt_rate);
    } else {
      t_prompt_cmp += div(2.0 * g.params, prompt_rate) + g.act_elements * r.prompt_act_ns * 1e-9 / cores +
                      g.params * r.prompt_call_ns_per_weight * 1e-9 / (batch * cores);
    }
  }

  // Attention reads the cache at the plain bandwidth unless its arithmetic is slower.
  const double kv_bytes = kv_bytes_per_token(s) * decode_ctx;
  const double t_kv_mem = div(kv_bytes, bw * (base.attention_decode_gflops_1t > 0 ? 1.0 : base_stream));
  const double t_attn_cmp = div(attention_ops_per_token(s, decode_ctx), attn_decode_rate);
  const double t_decode = t_decode_weights + std::max(t_kv_mem, t_attn_cmp) + t_elementwise;
  t_mem += t_kv_mem;
  t_cmp += t_attn_cmp + t_elementwise;
  p.decode_tokens_per_s = t_decode > 0 && p.decode_bytes_per_token > 0 && bw > 0 ? 1.0 / t_decode : 0;
  p.decode_bound = t_mem >= t_cmp ? "memory" : "compute";

  t_prompt_cmp += div(attention_ops_per_token(s, n_prompt / 2), attn_prompt_rate) + t_elementwise;
  const double t_prompt = t_prompt_mem + t_prompt_cmp;
  p.prompt_tokens_per_s = n_prompt > 0 && t_prompt > 0 && matmul_params > 0 && bw > 0 ? 1.0 / t_prompt : 0;
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

}  // namespace

Prediction predict(const ModelShape& s, const MachineInfo& m, int n_prompt, int n_gen, int threads,
                   const KernelRates& rates) {
  return predict_groups(s, m, n_prompt, n_gen, threads, rates, [&](GgmlType) -> const KernelRates& { return rates; });
}

Prediction predict(const ModelShape& s, const MachineInfo& m, int n_prompt, int n_gen, int threads,
                   const std::vector<TypedKernelRates>& rates) {
  static const KernelRates kNone;
  const KernelRates& base = rates.empty() ? kNone : rates.front().rates;
  return predict_groups(s, m, n_prompt, n_gen, threads, base, [&](GgmlType type) -> const KernelRates& {
    for (const TypedKernelRates& r : rates)
      if (r.type == type) return r.rates;
    return base;
  });
}

}  // namespace edgellm
