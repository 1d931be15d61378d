// Tensor element types, numbered as in the GGUF specification (ggml_type).
// Types edgellm adds for its own kernels take ids from 1024 upwards, which other tools refuse cleanly.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace edgellm {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // 4 and 5 were Q4_2/Q4_3, removed from the format.
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

// Name as llama.cpp prints it ("q4_0", "q6_K", "bf16"...), or nullptr for an id outside the known set.
const char* ggml_type_name(uint32_t id);
// Parses a name case-insensitively ("Q4_0", "q4_k", "f16").
std::optional<GgmlType> ggml_type_from_name(std::string_view name);

// Storage geometry of every type the GGUF format defines (including ones edgellm cannot compute
// with, so that such files can still be inspected): elements per block and bytes per block.
// Both return 0 for an id that is not a known type.
int64_t ggml_type_block_size(uint32_t id);
uint64_t ggml_type_block_bytes(uint32_t id);

}  // namespace edgellm
