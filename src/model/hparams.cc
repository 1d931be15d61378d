#include "model/hparams.h"

#include <climits>
#include <optional>
#include <string>

namespace edgellm {
namespace {

Status get_positive(const GgufFile& f, const std::string& key, int* out, std::optional<int64_t> def) {
  Result<int64_t> r = def ? f.get_int_or(key, *def) : f.get_int(key);
  if (!r) return r.status();
  if (*r <= 0 || *r > INT_MAX) return Status::error(key + " is " + std::to_string(*r) + ", expected a positive int");
  *out = static_cast<int>(*r);
  return Status::ok();
}

Status get_float(const GgufFile& f, const std::string& key, float def, float* out) {
  EL_ASSIGN_OR_RETURN(double v, f.get_float_or(key, def));
  *out = static_cast<float>(v);
  return Status::ok();
}

}  // namespace

Result<HParams> read_hparams(const GgufFile& f, const std::string& arch, RopeMode rope_mode) {
  HParams hp;
  hp.arch = arch;
  hp.rope_mode = rope_mode;
  const std::string p = arch + ".";
  EL_RETURN_IF_ERROR(get_positive(f, p + "context_length", &hp.n_ctx_train, std::nullopt));
  EL_RETURN_IF_ERROR(get_positive(f, p + "embedding_length", &hp.n_embd, std::nullopt));
  EL_RETURN_IF_ERROR(get_positive(f, p + "block_count", &hp.n_layer, std::nullopt));
  EL_RETURN_IF_ERROR(get_positive(f, p + "feed_forward_length", &hp.n_ff, std::nullopt));
  EL_RETURN_IF_ERROR(get_positive(f, p + "attention.head_count", &hp.n_head, std::nullopt));
  EL_RETURN_IF_ERROR(get_positive(f, p + "attention.head_count_kv", &hp.n_head_kv, hp.n_head));
  if (hp.n_head % hp.n_head_kv != 0) {
    return Status::error(p + "attention.head_count_kv " + std::to_string(hp.n_head_kv) + " does not divide " + p +
                         "attention.head_count " + std::to_string(hp.n_head));
  }
  const bool has_key_length = f.find(p + "attention.key_length") != nullptr;
  if (!has_key_length && hp.n_embd % hp.n_head != 0) {
    return Status::error(p + "attention.head_count " + std::to_string(hp.n_head) + " does not divide " + p +
                         "embedding_length " + std::to_string(hp.n_embd));
  }
  EL_RETURN_IF_ERROR(get_positive(f, p + "attention.key_length", &hp.head_dim, hp.n_embd / hp.n_head));
  int value_length = 0;
  EL_RETURN_IF_ERROR(get_positive(f, p + "attention.value_length", &value_length, hp.head_dim));
  if (value_length != hp.head_dim) {
    return Status::error(p + "attention.value_length " + std::to_string(value_length) + " differs from " + p +
                         "attention.key_length " + std::to_string(hp.head_dim) + " (unsupported)");
  }
  EL_RETURN_IF_ERROR(get_float(f, p + "attention.layer_norm_rms_epsilon", 1e-5f, &hp.norm_eps));
  if (!(hp.norm_eps > 0 && hp.norm_eps < 1)) {
    return Status::error(p + "attention.layer_norm_rms_epsilon " + std::to_string(hp.norm_eps) + " is not in (0, 1)");
  }
  EL_RETURN_IF_ERROR(get_float(f, p + "rope.freq_base", 10000.0f, &hp.rope_freq_base));
  if (!(hp.rope_freq_base > 1)) {
    return Status::error(p + "rope.freq_base " + std::to_string(hp.rope_freq_base) + " must be > 1");
  }
  EL_RETURN_IF_ERROR(get_positive(f, p + "rope.dimension_count", &hp.rope_dim, hp.head_dim));
  if (hp.rope_dim > hp.head_dim || hp.rope_dim % 2 != 0) {
    return Status::error(p + "rope.dimension_count " + std::to_string(hp.rope_dim) +
                         " must be even and at most the head size " + std::to_string(hp.head_dim));
  }
  EL_ASSIGN_OR_RETURN(hp.rope_scaling, f.get_string_or(p + "rope.scaling.type", ""));
  EL_RETURN_IF_ERROR(get_float(f, p + "rope.scaling.factor", 1.0f, &hp.rope_scaling_factor));
  if (hp.rope_scaling == "linear") {
    if (!(hp.rope_scaling_factor > 0)) {
      return Status::error(p + "rope.scaling.factor " + std::to_string(hp.rope_scaling_factor) + " must be > 0");
    }
    hp.rope_freq_scale = 1.0f / hp.rope_scaling_factor;
  } else if (hp.rope_scaling == "llama3") {
    EL_RETURN_IF_ERROR(get_float(f, p + "rope.scaling.low_freq_factor", 1.0f, &hp.rope_low_freq_factor));
    EL_RETURN_IF_ERROR(get_float(f, p + "rope.scaling.high_freq_factor", 4.0f, &hp.rope_high_freq_factor));
    EL_RETURN_IF_ERROR(get_positive(f, p + "rope.scaling.original_context_length", &hp.rope_orig_ctx, 8192));
  } else if (!hp.rope_scaling.empty() && hp.rope_scaling != "none") {
    return Status::error(p + "rope.scaling.type '" + hp.rope_scaling + "' is not supported (none, linear, llama3)");
  }
  return hp;
}

}  // namespace edgellm
