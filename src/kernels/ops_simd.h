// Highway fast paths for the ops that touch the F16 KV cache (ops_simd.cc), resolved once for this CPU.
#pragma once

#include <cstdint>

namespace edgellm {

struct F16OpKernels {
  // sum_i k[i] * q[i]: an F16 key row against an F32 query.
  float (*dot)(int64_t n, const uint16_t* k, const float* q);
  // y[i] += a * v[i]: accumulates an F16 value row, scaled, into F32.
  void (*axpy)(int64_t n, float a, const uint16_t* v, float* y);
};

// The kernels for the best target of this CPU (chosen on the first call).
const F16OpKernels& f16_op_kernels();

}  // namespace edgellm
