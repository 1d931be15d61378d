#include "model/presets.h"

#include "model/rope_scaling.h"

namespace edgellm {

namespace {

Preset make(std::string_view name, std::string_view arch, std::string_view display, int n_embd, int n_layer,
            int n_head, int n_head_kv, int n_ff, int n_vocab, int n_ctx, bool tied, float theta, float eps) {
  Preset p;
  p.name = name;
  p.arch = arch;
  p.display_name = display;
  p.n_embd = n_embd;
  p.n_layer = n_layer;
  p.n_head = n_head;
  p.n_head_kv = n_head_kv;
  p.n_ff = n_ff;
  p.n_vocab = n_vocab;
  p.n_ctx = n_ctx;
  p.tied_output = tied;
  p.rope_theta = theta;
  p.rms_eps = eps;
  return p;
}

Preset with_llama3_rope(Preset p, float factor) {
  p.rope_llama3_factor = factor;
  p.rope_low_freq_factor = 1.0f;
  p.rope_high_freq_factor = 4.0f;
  p.rope_original_ctx = 8192;
  return p;
}

Preset with_qkv_bias(Preset p) {
  p.qkv_bias = true;
  return p;
}

std::vector<Preset> build() {
  std::vector<Preset> v;
  // Test sizes: every row length is a multiple of 256 so that all k-quants apply unchanged. Untied,
  // so that tests cover output.weight (the real presets cover the tied case) and so that a random
  // model does not simply predict its input token (a tied classifier scores it highest).
  v.push_back(make("tiny", "llama", "edgellm tiny llama", 256, 4, 4, 2, 768, 2048, 2048, false, 10000.0f, 1e-5f));
  v.push_back(with_qkv_bias(
      make("tiny-qwen2", "qwen2", "edgellm tiny qwen2", 256, 4, 4, 2, 768, 2048, 2048, false, 1e6f, 1e-6f)));
  // HuggingFaceTB/SmolLM2-135M.
  v.push_back(make("smollm2-135m", "llama", "SmolLM2 135M", 576, 30, 9, 3, 1536, 49152, 8192, true, 1e5f, 1e-5f));
  // Qwen/Qwen2.5-0.5B.
  v.push_back(with_qkv_bias(
      make("qwen2.5-0.5b", "qwen2", "Qwen2.5 0.5B", 896, 24, 14, 2, 4864, 151936, 32768, true, 1e6f, 1e-6f)));
  // meta-llama/Llama-3.2-1B, Llama-3.2-3B, Llama-3.1-8B.
  v.push_back(with_llama3_rope(
      make("llama3.2-1b", "llama", "Llama 3.2 1B", 2048, 16, 32, 8, 8192, 128256, 131072, true, 5e5f, 1e-5f), 32.0f));
  v.push_back(with_llama3_rope(
      make("llama3.2-3b", "llama", "Llama 3.2 3B", 3072, 28, 24, 8, 8192, 128256, 131072, true, 5e5f, 1e-5f), 32.0f));
  v.push_back(with_llama3_rope(
      make("llama3.1-8b", "llama", "Llama 3.1 8B", 4096, 32, 32, 8, 14336, 128256, 131072, false, 5e5f, 1e-5f), 8.0f));
  return v;
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = build();
  return all;
}

const Preset* find_preset(std::string_view name) {
  for (const Preset& p : presets()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string preset_names() {
  std::string s;
  for (const Preset& p : presets()) {
    if (!s.empty()) s += ", ";
    s += p.name;
  }
  return s;
}

std::vector<float> llama3_rope_factors(const Preset& p) {
  if (p.rope_llama3_factor <= 0.0f) return {};
  return llama3_rope_factors(p.head_dim(), p.rope_theta, p.rope_llama3_factor, p.rope_low_freq_factor,
                             p.rope_high_freq_factor, p.rope_original_ctx);
}

}  // namespace edgellm
