// Per-type traits table: one row per tensor element type edgellm can read.
// Every row describes the storage layout and the plain scalar reference routines; the fast
// kernels (kernels/matmul.h) are checked against these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_type.h"

namespace edgellm {

struct TypeTraits {
  GgmlType type;
  const char* name;
  int64_t block_size;   // elements per block (1 for F32/F16/BF16)
  size_t type_size;     // bytes per block
  bool is_quantized;
  // Dequantize n elements (n a multiple of block_size) from `src` to floats.
  void (*to_float)(const void* src, float* dst, int64_t n);
  // Quantize n floats (n a multiple of block_size); nullptr if edgellm cannot write this type.
  void (*from_float)(const float* src, void* dst, int64_t n);
  // The type activations are quantized to for dot products with this weight type
  // (Q8_0 for the legacy quants, Q8_K for k-quants, F32 for float weights).
  GgmlType vec_dot_type;
  // Dot product of one weight row `w` (this type) with one activation row `x` (vec_dot_type), n elements.
  float (*vec_dot)(int64_t n, const void* w, const void* x);
};

// The row for `type`, or nullptr if edgellm cannot read it (IQ*, TQ*, unknown ids).
const TypeTraits* type_traits(GgmlType type);
const TypeTraits* type_traits(uint32_t type_id);

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(const TypeTraits& t, int64_t n) {
  return static_cast<size_t>(n / t.block_size) * t.type_size;
}

}  // namespace edgellm
