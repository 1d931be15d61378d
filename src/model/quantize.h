// Model quantization (`edgellm quantize`): converts the weight matrices of a GGUF model from F32/F16/BF16
// (or, when allowed, from another quantized type) to a target type, tensor by tensor, with per-tensor rules
// in the spirit of llama.cpp's mixes: 1-D tensors (norms, biases) stay F32, the token embedding and output
// matrix keep a higher precision, and rows that do not fit the target's block fall back to a type that fits.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/ggml_type.h"

namespace edgellm {

struct QuantizeOptions {
  GgmlType type = GgmlType::Q8_0;  // target of the weight matrices
  bool keep_output_f16 = false;    // store output.weight (or a tied token_embd.weight) as F16
  bool allow_requantize = false;   // accept inputs whose matrices are already quantized (quality suffers)
  int n_threads = 1;               // threads quantizing the rows of one tensor
  // Called after each tensor is written (index from 1, of total), e.g. for a progress bar. May be empty.
  std::function<void(size_t done, size_t total, const std::string& name)> progress;
};

// One tensor's decision: its name, element count, source and chosen type and sizes in bytes.
struct QuantizedTensor {
  std::string name;
  uint64_t n_elements = 0;
  GgmlType from = GgmlType::F32, to = GgmlType::F32;
  uint64_t bytes_in = 0, bytes_out = 0;
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

// The type a tensor is stored in. `dims` innermost first; `tied_output` is true for token_embd.weight when
// the model has no output.weight. Rules: anything not 2-D or not named *.weight stays F32; output.weight
// (and a tied embedding) becomes F16 with keep_output_f16, else Q6_K when the target is below 6 bits, else the
// target; token_embd.weight becomes Q8_0 when the target is below 8 bits; a row length that is not a
// multiple of the chosen block falls back (k-quants as llama.cpp does, elq to a smaller group, then F16).
GgmlType choose_tensor_type(const std::string& name, const std::vector<int64_t>& dims, bool tied_output,
                            const QuantizeOptions& opts);

// Reads `in_path`, writes `out_path` (metadata copied, general.file_type updated). Fails before writing
// anything on: an unreadable input, a target edgellm cannot write, a tensor type it cannot read, or an
// already-quantized matrix without allow_requantize (the message names the tensor and its type).
Result<QuantizeSummary> quantize_model(const std::string& in_path, const std::string& out_path,
                                       const QuantizeOptions& opts);

}  // namespace edgellm
