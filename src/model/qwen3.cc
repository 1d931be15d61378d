// Qwen3 (dense): the llama block without biases, an RMSNorm over each query and key head (before RoPE),
// NEOX-mode RoPE, and head_dim from qwen3.attention.key_length (often not n_embd / n_head).
#include "model/registry.h"

namespace edgellm {

Status build_qwen3(const GgufFile& file, TransformerModel* m) {
  EL_ASSIGN_OR_RETURN(m->hp, read_hparams(file, "qwen3", RopeMode::kNeox));
  ArchFeatures features;
  features.qk_norm = true;
  return load_llama_style(file, features, m);
}

}  // namespace edgellm
