// Model shapes as data: the architectures edgellm can synthesize with random weights (for tests,
// benchmarks and cross-checks against llama.cpp). Shapes follow the Hugging Face config.json of
// each named model; `tiny` and `tiny-qwen2` are small enough for unit tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace edgellm {

struct Preset {
  std::string_view name;  // CLI name, e.g. "llama3.2-1b"
  std::string_view arch;  // general.architecture: "llama" or "qwen2"
  std::string_view display_name;  // general.name written into synthesized files
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int n_ff = 0;
  int n_vocab = 0;
  int n_ctx = 0;  // training context length (<arch>.context_length)
  bool tied_output = true;  // no output.weight: the token embedding doubles as the classifier
  bool qkv_bias = false;    // blk.N.attn_{q,k,v}.bias tensors (qwen2)
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  // Llama 3 rope scaling ("rope_type": "llama3" in config.json); factor 0 means none. When set,
  // synthesized files carry rope_freqs.weight computed by llama3_rope_factors().
  float rope_llama3_factor = 0.0f;
  float rope_low_freq_factor = 1.0f;
  float rope_high_freq_factor = 4.0f;
  int rope_original_ctx = 8192;

  int head_dim() const { return n_embd / n_head; }
};

// All presets, in a stable order.
const std::vector<Preset>& presets();
// The preset called `name` (exact match), or nullptr.
const Preset* find_preset(std::string_view name);
// "tiny, tiny-qwen2, smollm2-135m, ..." for help texts and error messages.
std::string preset_names();

// Per-frequency divisors for Llama 3 rope scaling, head_dim/2 floats, computed as llama.cpp's
// converter does (convert_hf_to_gguf.py, LlamaModel): 1 for short wavelengths, `factor` for long
// ones, a smooth blend in between. Empty when the preset has no Llama 3 scaling.
std::vector<float> llama3_rope_factors(const Preset& p);

}  // namespace edgellm
