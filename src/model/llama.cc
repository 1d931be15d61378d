// Llama family (Llama 2, Llama 3/3.1/3.2, TinyLlama, SmolLM/SmolLM2, Mistral dense):
// pre-norm blocks of RMSNorm -> GQA attention with NORMAL-mode RoPE -> RMSNorm -> SwiGLU feed-forward,
// no biases; Llama 3.1+ scales RoPE frequencies per pair (rope_freqs.weight, or derived from
// the llama3 scaling metadata when a converter left that tensor out).
#include "model/registry.h"
#include "model/rope_scaling.h"

namespace edgellm {

Status build_llama(const GgufFile& file, TransformerModel* m) {
  EL_ASSIGN_OR_RETURN(m->hp, read_hparams(file, "llama", RopeMode::kNormal));
  EL_RETURN_IF_ERROR(load_llama_style(file, ArchFeatures{}, m));
  EL_ASSIGN_OR_RETURN(m->rope_factors, load_optional_vector(file, "rope_freqs.weight", m->hp.rope_dim / 2));
  if (m->rope_factors.empty() && m->hp.rope_scaling == "llama3") {
    m->rope_factors = llama3_rope_factors(m->hp.rope_dim, m->hp.rope_freq_base, m->hp.rope_scaling_factor,
                                          m->hp.rope_low_freq_factor, m->hp.rope_high_freq_factor, m->hp.rope_orig_ctx);
  }
  return Status::ok();
}

}  // namespace edgellm
