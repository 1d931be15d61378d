// ARMv8.2 dot-product (sdot) vec_dot kernels (arm_dotprod.cc). Compiled with a per-function target
// attribute, so the rest of the build needs no -march; chosen at run time from the CPU's HWCAP bits.
#pragma once

#include "kernels/ggml_type.h"
#include "kernels/simd_dot.h"

namespace edgellm {

// The sdot vec_dot for a weight type: Q4_0 and Q8_0 (activations Q8_0), Q4_K and Q6_K (activations Q8_K),
// with the contract of the type's scalar traits vec_dot (n a multiple of the block size, rows as stored).
// nullptr for other types, on ARM CPUs without the dot-product extension, and on non-ARM builds.
// Thread-safe; the returned function is stateless.
VecDotFn arm_dotprod_vec_dot(GgmlType weight_type);

}  // namespace edgellm
