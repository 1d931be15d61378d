// Import of Andrej Karpathy's llama2.c checkpoints (the legacy float32 "version 0" export) and their
// tokenizer.bin into a GGUF file of architecture "llama" that edgellm (and llama.cpp) can run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/ggml_type.h"

namespace edgellm {

// The 7-int32 header of a llama2.c checkpoint. A negative vocab_size in the file means the classifier
// (wcls) is stored separately; here vocab_size is always positive and `shared_classifier` says which.
struct Llama2cConfig {
  int32_t dim = 0;
  int32_t hidden_dim = 0;
  int32_t n_layers = 0;
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;
  int32_t vocab_size = 0;
  int32_t seq_len = 0;
  bool shared_classifier = true;

  int32_t head_size() const { return dim / n_heads; }
  int32_t kv_dim() const { return n_kv_heads * head_size(); }
  // Number of float32 values after the header, the classifier included when it is not shared.
  uint64_t n_floats() const;
};

// Parses and validates the header against the file size (`file_size` bytes in all). Errors name `name`,
// the field and the expected versus actual size.
Result<Llama2cConfig> parse_llama2c_header(const uint8_t* data, uint64_t file_size, const std::string& name);

// The pieces of a llama2.c tokenizer.bin as GGUF's tokenizer.ggml.{tokens,scores,token_type} want them.
struct Llama2cVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // GGUF token types: 1 normal, 2 unknown, 3 control, 6 byte
};

// Parses a tokenizer.bin held in memory (`size` bytes at `data`) for a model of `vocab_size` tokens: int32
// max_token_length, then per token a float score, an int32 length and the bytes. The file must end exactly
// after the last token. Errors name `name`, the token id and its byte offset.
Result<Llama2cVocab> parse_llama2c_tokenizer(const uint8_t* data, uint64_t size, int32_t vocab_size,
                                             const std::string& name);

// Converts `model_bin` + `tokenizer_bin` into `out_gguf` (written to a temporary name, then renamed).
// Matrices are stored as `out_type` (F32, F16, BF16 or any type whose traits have from_float); a matrix
// whose rows are not a whole number of blocks of that type is stored as F16 instead. Norm weights stay F32.
// Q/K rows are not permuted: llama2.c rotates adjacent pairs (2i, 2i+1), which is ggml's normal RoPE
// mode used for architecture "llama". Token texts get SentencePiece's "▁" for spaces back; ids 0, 1, 2
// become <unk>, <s>, </s>; pieces "<0xAB>" are byte tokens.
Status convert_llama2c(const std::string& model_bin, const std::string& tokenizer_bin, const std::string& out_gguf,
                       GgmlType out_type = GgmlType::F32);

}  // namespace edgellm
