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

// The fast vec_dot for a k-quant weight type, resolved for the best target of this CPU once (no
// dispatch-table lookup per call); nullptr for types without one (callers keep the scalar routine).
VecDotFn simd_kquant_vec_dot(GgmlType weight_type);

// Entry points that dispatch on every call to the target Highway currently chooses, so tests can run
// each compiled target via hwy::SetSupportedTargetsForTest.
float simd_vec_dot_q2_k(int64_t n, const void* w, const void* x);  // w Q2_K, x Q8_K
float simd_vec_dot_q3_k(int64_t n, const void* w, const void* x);  // w Q3_K, x Q8_K
float simd_vec_dot_q4_k(int64_t n, const void* w, const void* x);  // w Q4_K, x Q8_K
float simd_vec_dot_q5_k(int64_t n, const void* w, const void* x);  // w Q5_K, x Q8_K
float simd_vec_dot_q6_k(int64_t n, const void* w, const void* x);  // w Q6_K, x Q8_K
// The HWY_TARGET bit of the code the entry points above currently dispatch to.
int64_t simd_kquant_dispatched_target();

}  // namespace edgellm
