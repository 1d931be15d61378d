// x86 int8 dot-product GEMM kernels behind kernels/simd_gemm.h. Each is compiled with a per-function
// target attribute, so the rest of the build needs no -march; call one only when simd_gemm.cc's CPU
// check for its instruction set passed.
#pragma once

#include "kernels/ggml_type.h"
#include "kernels/simd_gemm.h"

namespace edgellm {

// The AVX-512 VNNI kernel (x86_vnni.cc) for a weight type (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K … Q6_K),
// or nullptr for other types and on non-x86 builds.
GemmFn x86_vnni_gemm(GgmlType weight_type);
// The AVX-VNNI (256-bit) kernel (x86_avxvnni.cc) for the same types, or nullptr.
GemmFn x86_avxvnni_gemm(GgmlType weight_type);
// The plain-AVX2 kernel (x86_avx2_gemm.cc: vpmaddubsw + vpmaddwd, no VNNI) for the same types, or nullptr.
GemmFn x86_avx2_gemm(GgmlType weight_type);

}  // namespace edgellm
