// Transformer hyper-parameters read from GGUF metadata (`<arch>.*` keys, llama.cpp naming) and validated.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "format/gguf.h"
#include "kernels/ops.h"

namespace edgellm {

struct HParams {
  std::string arch;        // general.architecture
  int n_vocab = 0;         // from token_embd.weight dims
  int n_ctx_train = 0;     // <arch>.context_length
  int n_embd = 0;          // <arch>.embedding_length
  int n_layer = 0;         // <arch>.block_count
  int n_ff = 0;            // <arch>.feed_forward_length
  int n_head = 0;          // <arch>.attention.head_count
  int n_head_kv = 0;       // <arch>.attention.head_count_kv (default n_head)
  int head_dim = 0;        // <arch>.attention.key_length (default n_embd / n_head); value_length must match
  float norm_eps = 1e-5f;  // <arch>.attention.layer_norm_rms_epsilon
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / rope.scaling.factor for "linear" scaling
  int rope_dim = 0;              // <arch>.rope.dimension_count (default head_dim)
  RopeMode rope_mode = RopeMode::kNormal;
  std::string rope_scaling;  // "", "none", "linear", "llama3"
  // llama3 scaling parameters, used to derive frequency factors when rope_freqs.weight is absent.
  float rope_scaling_factor = 1.0f;
  float rope_low_freq_factor = 1.0f;
  float rope_high_freq_factor = 4.0f;
  int rope_orig_ctx = 8192;

  int q_dim() const { return n_head * head_dim; }
  int kv_dim() const { return n_head_kv * head_dim; }
};

// Reads and validates the hyper-parameters of architecture `arch` (n_vocab is taken from
// token_embd.weight). Errors name the key and the values involved, e.g.
// "qwen2.attention.head_count 14 does not divide qwen2.embedding_length 900".
Result<HParams> read_hparams(const GgufFile& file, const std::string& arch, RopeMode rope_mode);

}  // namespace edgellm
