// Random-weight models with the exact shapes, tensor names and metadata of a Preset, as GGUF files
// llama.cpp loads too. Used by `edgellm synth`, `edgellm bench` and the llama.cpp cross-check.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "format/gguf.h"
#include "kernels/ggml_type.h"
#include "model/presets.h"

namespace edgellm {

struct SynthOptions {
  uint64_t seed = 42;      // same seed, preset and type -> byte-identical file
  int64_t n_vocab = 0;     // > 0 overrides the preset's vocabulary size (built-in vocabulary only)
  std::string vocab_path;  // a GGUF whose tokenizer.* keys are copied; its token count sets n_vocab
  int n_threads = 0;       // threads generating and quantizing weights; 0 = max(2, physical cores)
};

// Builds the writer for `preset` with weight matrices (token embedding and output included) in `type`.
// Norm weights, biases and rope_freqs are F32. Tensor bytes are produced lazily while the writer
// writes, one tensor at a time, so memory stays bounded by the largest tensor. Weights are seeded
// approximately Gaussian (sum of four uniforms) with std 0.02, norm weights 1 + N(0, 0.05^2),
// biases N(0, 0.02^2). Errors: a type edgellm cannot write, an unreadable vocabulary file, a bad n_vocab.
Result<GgufWriter> synthesize(const Preset& preset, GgmlType type, const SynthOptions& opts = {});

// The type synthesize() stores a weight matrix with rows of `row_len` elements in when `requested`
// was asked for: `requested` itself, or, when row_len is not a multiple of its block size (k-quants
// need 256; e.g. SmolLM2's 576), the fallback llama.cpp's quantizer uses (q4_K -> q5_0, q5_K -> q5_1,
// q6_K -> q8_0; q2_K/q3_K -> q4_0 since edgellm does not write iq4_nl).
GgmlType synth_weight_type(GgmlType requested, int64_t row_len);

// llama.cpp's general.file_type (llama_ftype) for files whose weights are mostly `type`; -1 if none.
int llama_file_type(GgmlType type);

}  // namespace edgellm
