// Highway fast paths for the k-quant weight × Q8_K activation dot products used by decode (one token:
// one weight row against one quantized activation row), compiled for every x86 target Highway builds.
// Each has the contract of its scalar oracle vec_dot_q*_k in kernels/quants.h (n a multiple of 256,
// w a row of the weight type, x the Q8_K row); the integer part is exact, so results differ from the
// oracle only by float summation order. Tests compare them per target (simd_kquant_test.cc).
#pragma once

#include <cstdint>

#include "kernels/ggml_type.h"
#include "kernels/simd_dot.h"

namespace edgellm {

// The fast vec_dot for a k-quant weight type: the hand-written x86 kernel of the best variant this CPU
// runs (kernels/x86_kquant.h), else the Highway one resolved for the best target once (no
// dispatch-table lookup per call); nullptr for types without one (callers keep the scalar routine).
VecDotFn simd_kquant_vec_dot(GgmlType weight_type);

// The Q8_K activation quantizer (floats -> Q8_K, n a multiple of 256), bit-exact to q8_k_from_float
// including bsums, resolved for the best Highway target once.
QuantizeRowFn simd_kquant_quantize_q8_k();

// Entry points that dispatch on every call to the target Highway currently chooses, so tests can run
// each compiled target via hwy::SetSupportedTargetsForTest.
float simd_vec_dot_q2_k(int64_t n, const void* w, const void* x);  // w Q2_K, x Q8_K
float simd_vec_dot_q3_k(int64_t n, const void* w, const void* x);  // w Q3_K, x Q8_K
float simd_vec_dot_q4_k(int64_t n, const void* w, const void* x);  // w Q4_K, x Q8_K
float simd_vec_dot_q5_k(int64_t n, const void* w, const void* x);  // w Q5_K, x Q8_K
float simd_vec_dot_q6_k(int64_t n, const void* w, const void* x);  // w Q6_K, x Q8_K
void simd_quantize_q8_k(const float* src, void* dst, int64_t n);    // bit-exact to q8_k_from_float
// The HWY_TARGET bit of the code the entry points above currently dispatch to.
int64_t simd_kquant_dispatched_target();

}  // namespace edgellm
