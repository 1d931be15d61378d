// AVX-512 VNNI GEMM kernels (x86_vnni.cc), behind kernels/simd_gemm.h. Compiled with a per-function
// target attribute, so the rest of the build needs no -march; only call them when gemm_supported_cpu().
#pragma once

#include "kernels/ggml_type.h"
#include "kernels/simd_gemm.h"

namespace edgellm {

// The VNNI kernel for a weight type (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K), or nullptr for other types and on non-x86 builds.
GemmFn x86_vnni_gemm(GgmlType weight_type);

}  // namespace edgellm
