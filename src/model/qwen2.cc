// Qwen2 / Qwen2.5: the llama block with biases on the q, k and v projections and NEOX-mode RoPE
// (pairs i, i + rot_dim/2); small models tie the output to the token embedding.
#include "model/registry.h"

namespace edgellm {

Status build_qwen2(const GgufFile& file, TransformerModel* m) {
  EL_ASSIGN_OR_RETURN(m->hp, read_hparams(file, "qwen2", RopeMode::kNeox));
  ArchFeatures features;
  features.qkv_bias = true;
  return load_llama_style(file, features, m);
}

}  // namespace edgellm
