// Model quantization (`edgellm quantize`): converts the weight matrices of a GGUF model from F32/F16/BF16
// (or, when allowed, from another quantized type) to a target type, tensor by tensor, with per-tensor rules
// in the spirit of llama.cpp's mixes: 1-D tensors (norms, biases) stay F32, the token embedding and output
// matrix keep a higher precision, and rows that do not fit the target's block fall back to a type that fits.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "kernels/ggml_type.h"

namespace edgellm {

// Named per-tensor recipes on top of a base type, like llama.cpp's *_M mixes: the attention value and FFN
// down projections (the tensors quantization hurts most) get more bits in some layers.
enum class QuantizeMix {
  kNone,
  // llama.cpp's Q3_K_M: attn_v Q5_K in layers 0-1 else Q4_K; ffn_down Q5_K in the first 1/16 of the layers,
  // Q4_K where use_more_bits (first and last eighth and every third layer between), else Q3_K; attn_output Q4_K.
  kQ3_K_M,
  kQ4_K_M,  // llama.cpp's Q4_K_M: attn_v and ffn_down Q6_K where use_more_bits, else Q4_K
  kQ5_K_M,  // llama.cpp's Q5_K_M: attn_v and ffn_down Q6_K where use_more_bits, else Q5_K
};

struct QuantizeOptions {
  GgmlType type = GgmlType::Q8_0;  // target of the weight matrices (the base type of a mix)
  QuantizeMix mix = QuantizeMix::kNone;
  int n_layer = 0;                // layers of the model, for the mixes; quantize_model() fills it in
  bool measure_error = false;     // dequantize every written row again and sum the squared error (slower)
  bool keep_output_f16 = false;   // store output.weight (or a tied token_embd.weight) as F16
  bool allow_requantize = false;  // accept inputs whose matrices are already quantized (quality suffers)
  int n_threads = 1;              // threads quantizing the rows of one tensor
  // Called after each tensor is written (index from 1, of total), e.g. for a progress bar. May be empty.
  std::function<void(size_t done, size_t total, const std::string& name)> progress;
};

// One tensor's decision: its name, element count, source and chosen type and sizes in bytes.
struct QuantizedTensor {
  std::string name;
  uint64_t n_elements = 0;
  GgmlType from = GgmlType::F32, to = GgmlType::F32;
  uint64_t bytes_in = 0, bytes_out = 0;
  // With measure_error: sums over the elements of (output - source)^2 and source^2, both in float as read.
  double sq_err = 0, sq_src = 0;
  double rmse() const { return n_elements ? std::sqrt(sq_err / static_cast<double>(n_elements)) : 0; }
  // RMSE relative to the source's RMS (scale-free, so tensors of different magnitudes compare).
  double rel_rmse() const { return sq_src > 0 ? std::sqrt(sq_err / sq_src) : 0; }
};

struct QuantizeSummary {
  std::vector<QuantizedTensor> tensors;
  uint64_t bytes_in = 0, bytes_out = 0;  // sums over tensor data (metadata not counted)
  uint64_t n_elements = 0;
  double bpw_in() const {
    return n_elements ? 8.0 * static_cast<double>(bytes_in) / static_cast<double>(n_elements) : 0;
  }
  double bpw_out() const {
    return n_elements ? 8.0 * static_cast<double>(bytes_out) / static_cast<double>(n_elements) : 0;
  }
};

// Whether edgellm can write `type` as a weight type (a traits row with a quantizer and a dot product).
bool is_quantize_target(GgmlType type);
// Comma-separated names of every target type, for help and error messages.
std::string quantize_target_names();
// A mix name ("q3_K_M", "q4_K_M", "q5_K_M"; case-insensitive, also "Q4_K_M") as its base type and mix;
// nullopt for anything else (llama.cpp's other mix names, e.g. q4_K_S, are not offered).
std::optional<std::pair<GgmlType, QuantizeMix>> find_quantize_mix(std::string_view name);
// Comma-separated mix names, for help and error messages.
std::string quantize_mix_names();

// The type a tensor is stored in. `dims` innermost first; `tied_output` is true for token_embd.weight when
// the model has no output.weight. Rules: anything not 2-D or not named *.weight stays F32; output.weight
// (and a tied embedding) becomes F16 with keep_output_f16, else Q6_K when the target is below 6 bits, else the
// target; token_embd.weight becomes Q8_0 when the target is below 8 bits; a row length that is not a
// multiple of the chosen block falls back (k-quants as llama.cpp does, elq to a smaller group, then F16).
// With a mix, the layer index is read from the name ("blk.<i>.") and opts.n_layer must be set.
GgmlType choose_tensor_type(const std::string& name, const std::vector<int64_t>& dims, bool tied_output,
                            const QuantizeOptions& opts);

// Reads `in_path`, writes `out_path` (metadata copied, general.file_type updated). Fails before writing
// anything on: an unreadable input, a target edgellm cannot write, a tensor type it cannot read, or an
// already-quantized matrix without allow_requantize (the message names the tensor and its type).
// With measure_error, every tensor's sq_err/sq_src are filled (0 for tensors copied unchanged).
Result<QuantizeSummary> quantize_model(const std::string& in_path, const std::string& out_path,
                                       const QuantizeOptions& opts);

}  // namespace edgellm
