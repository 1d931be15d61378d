// Llama family (Llama 2, Llama 3/3.1/3.2, TinyLlama, SmolLM/SmolLM2, Mistral dense):
// pre-norm blocks of RMSNorm -> GQA attention with NORMAL-mode RoPE -> RMSNorm -> SwiGLU feed-forward,
// no biases; Llama 3.1+ scales RoPE frequencies per pair (rope_freqs.weight, or derived from
// the llama3 scaling metadata when a converter left that tensor out).
#include <cmath>
#include <numbers>

#include "model/registry.h"

namespace edgellm {
namespace {

// Llama 3.1's frequency factors: long wavelengths slow down by `factor`, short ones are kept, and the
// band between is interpolated smoothly (Meta's apply_scaling).
std::vector<float> llama3_factors(const HParams& hp) {
  std::vector<float> f(static_cast<size_t>(hp.rope_dim / 2));
  const double low_wavelen = hp.rope_orig_ctx / hp.rope_low_freq_factor;
  const double high_wavelen = hp.rope_orig_ctx / hp.rope_high_freq_factor;
  for (size_t i = 0; i < f.size(); ++i) {
    const double freq = std::pow(static_cast<double>(hp.rope_freq_base), -2.0 * static_cast<double>(i) / hp.rope_dim);
    const double wavelen = 2 * std::numbers::pi / freq;
    double factor = 1;
    if (wavelen > low_wavelen) {
      factor = hp.rope_scaling_factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth =
          (hp.rope_orig_ctx / wavelen - hp.rope_low_freq_factor) / (hp.rope_high_freq_factor - hp.rope_low_freq_factor);
      factor = 1.0 / ((1 - smooth) / hp.rope_scaling_factor + smooth);
    }
    f[i] = static_cast<float>(factor);
  }
  return f;
}

}  // namespace

Status build_llama(const GgufFile& file, TransformerModel* m) {
  EL_ASSIGN_OR_RETURN(m->hp, read_hparams(file, "llama", RopeMode::kNormal));
  EL_RETURN_IF_ERROR(load_llama_style(file, ArchFeatures{}, m));
  EL_ASSIGN_OR_RETURN(m->rope_factors, load_optional_vector(file, "rope_freqs.weight", m->hp.rope_dim / 2));
  if (m->rope_factors.empty() && m->hp.rope_scaling == "llama3") m->rope_factors = llama3_factors(m->hp);
  return Status::ok();
}

}  // namespace edgellm
