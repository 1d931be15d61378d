// Hand-written x86 decode kernels for the k-quants: one weight row (Q2_K..Q6_K) against one Q8_K
// activation row, in two instruction-set variants (x86_kquant_avx512.cc, x86_kquant_avx2.cc). Each is
// compiled with a per-function target attribute, so the rest of the build needs no -march; callers must
// check the CPU first (x86_kquant_supported). simd_kquant_vec_dot() picks the best one at prepare time.
// Contract of each kernel: that of its scalar oracle vec_dot_q*_k in kernels/quants.h (n a multiple of
// 256); the integer part is exact, so results differ from the oracle only by float summation order.
#pragma once

#include "kernels/ggml_type.h"
#include "kernels/simd_dot.h"

namespace edgellm {

enum class KquantIsa {
  kAvx512Vnni,  // AVX-512 F/BW/VL + VNNI: vpdpbusd on 512-bit vectors
  kAvx2,        // AVX2 + FMA + F16C: vpmaddubsw / vpmaddwd on 256-bit vectors (also what AVX-VNNI CPUs run)
};

// Whether this CPU runs the variant (false on non-x86 builds).
bool x86_kquant_supported(KquantIsa isa);

// The variant's kernel for a weight type, or nullptr (no kernel for the type, or a non-x86 build).
// Does not check the CPU.
VecDotFn x86_kquant_vec_dot(GgmlType weight_type, KquantIsa isa);

// Per-variant tables behind x86_kquant_vec_dot, one per source file.
VecDotFn x86_kquant_avx512_vec_dot(GgmlType weight_type);
VecDotFn x86_kquant_avx2_vec_dot(GgmlType weight_type);

}  // namespace edgellm
