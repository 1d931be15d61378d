// Highway fast paths for the hot dot products and the Q8_0 activation quantizer (simd_dot.cc), written
// once and compiled for every x86 target Highway builds (AVX3, AVX2, SSE4, SSSE3, SCALAR).
// Each has the same contract as its scalar oracle in kernels/quants.h; tests compare them per target.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_type.h"

namespace edgellm {

using VecDotFn = float (*)(int64_t n, const void* w, const void* x);
// One weight row against 4 activation rows x, x + x_stride, ... (bytes): out[t] = dot(w, x_t).
using VecDot4Fn = void (*)(int64_t n, const void* w, const void* x, size_t x_stride, float* out);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);

// Kernels resolved for the best target of this CPU, for a weight type; a member is nullptr where no fast
// path exists (callers then use the scalar routine from the traits table). Resolving once at prepare
// time means no dispatch-table lookup per call.
struct SimdKernels {
  VecDotFn vec_dot = nullptr;          // weight row × activation row of the type's vec_dot_type
  VecDot4Fn vec_dot4 = nullptr;        // the same for 4 tokens at once (prompt processing)
  QuantizeRowFn quantize_x = nullptr;  // floats → vec_dot_type (nullptr when activations stay F32)
};
SimdKernels simd_kernels(GgmlType weight_type);

// Entry points that dispatch on every call to the target Highway currently chooses, so tests can run
// each compiled target via hwy::SetSupportedTargetsForTest.
float simd_vec_dot_q4_0(int64_t n, const void* w, const void* x);  // w Q4_0, x Q8_0
float simd_vec_dot_q8_0(int64_t n, const void* w, const void* x);  // w Q8_0, x Q8_0
float simd_vec_dot_q4_1(int64_t n, const void* w, const void* x);  // w Q4_1, x Q8_0
float simd_vec_dot_q5_0(int64_t n, const void* w, const void* x);  // w Q5_0, x Q8_0
float simd_vec_dot_q5_1(int64_t n, const void* w, const void* x);  // w Q5_1, x Q8_0
float simd_vec_dot_bf16(int64_t n, const void* w, const void* x);  // w BF16, x F32
float simd_vec_dot_f16(int64_t n, const void* w, const void* x);   // w F16, x F32
float simd_vec_dot_f32(int64_t n, const void* w, const void* x);   // w F32, x F32
void simd_vec_dot4_q4_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out);
void simd_vec_dot4_q5_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out);
void simd_vec_dot4_q8_0(int64_t n, const void* w, const void* x, size_t x_stride, float* out);
void simd_quantize_q8_0(const float* src, void* dst, int64_t n);  // bit-exact to q8_0_from_float
// The HWY_TARGET bit of the code the entry points above currently dispatch to.
int64_t simd_dispatched_target();

}  // namespace edgellm
