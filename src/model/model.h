// A loaded transformer: hyper-parameters and weights. Matrices are Linear views into the GGUF mapping
// (not copied; the GgufFile must outlive the TransformerModel); small vectors (norms, biases, rope
// factors) are dequantized to F32 at load.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "format/gguf.h"
#include "kernels/matmul.h"
#include "model/hparams.h"

namespace edgellm {

struct LayerWeights {
  std::vector<float> attn_norm;       // [n_embd]
  Linear wq, wk, wv, wo;              // [q_dim×n_embd], [kv_dim×n_embd] ×2, [n_embd×q_dim]
  std::vector<float> bq, bk, bv;      // qwen2 biases [q_dim], [kv_dim], [kv_dim]; empty when absent
  std::vector<float> q_norm, k_norm;  // qwen3 per-head RMSNorm weights [head_dim]; empty when absent
  std::vector<float> ffn_norm;        // [n_embd]
  Linear w_gate, w_up, w_down;        // [n_ff×n_embd] ×2, [n_embd×n_ff]
};

struct TransformerModel {
  HParams hp;
  WeightView tok_embd;  // [n_vocab rows × n_embd]
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;  // [n_embd]
  Linear output;                   // [n_vocab×n_embd]; the token embedding when tied
  bool tied_output = false;
  std::vector<float> rope_factors;  // [rope_dim/2] llama3 frequency factors; empty when none

  // Every Linear of the model (for sizing matmul scratch).
  std::vector<const Linear*> linears() const;
};

// Builds the model of the file's general.architecture through the architecture registry.
// Errors name the architecture, key or tensor and what is wrong.
Result<std::unique_ptr<TransformerModel>> load_transformer(const GgufFile& file);

// Tensor helpers the architecture files share. Names are llama.cpp's ("blk.3.attn_q.weight").
// A 2-D weight with `rows` output and `cols` input features (GGUF dims {cols, rows}), whose type edgellm
// can compute with. Errors name the tensor and both shapes, or the unsupported type. Load-time weight copies
// come from `arena` when given (one per model, matrices in decode order: core/weight_arena.h).
Result<Linear> load_matrix(const GgufFile& file, const std::string& name, int64_t rows, int64_t cols,
                           WeightArena* arena = nullptr);
// A 1-D F32/F16/BF16 vector of n elements, as floats.
Result<std::vector<float>> load_vector(const GgufFile& file, const std::string& name, int64_t n);
// Same, but an absent tensor gives an empty vector.
Result<std::vector<float>> load_optional_vector(const GgufFile& file, const std::string& name, int64_t n);
// "blk.<i>.<suffix>"
std::string layer_tensor(int i, const char* suffix);

// What differs between the architectures built on the shared llama-style block.
struct ArchFeatures {
  bool qkv_bias = false;  // blk.N.attn_{q,k,v}.bias (qwen2)
  bool qk_norm = false;   // blk.N.attn_{q,k}_norm.weight (qwen3)
};
// Loads token embedding, all layers, output norm and output (tied when output.weight is absent).
Status load_llama_style(const GgufFile& file, const ArchFeatures& features, TransformerModel* m);

}  // namespace edgellm
