// The 256-bit decode kernels over the k-quant tiles (kernels/repack_kquant.h) for x86 CPUs without AVX-512
// VNNI: AVX-VNNI (ymm vpdpbusd) and plain AVX2 (vpmaddubsw + vpmaddwd), one body in repack_kquant_ymm_inl.h
// compiled once per target. Intrinsics because Highway 1.0.3 has no int8 dot-product op (only the int16
// ReorderWidenMulAccumulate, which would need the levels widened first).
#include "kernels/repack_kquant.h"

#if defined(__x86_64__)
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm256_undefined_* helpers, see x86_gemv.cc
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/blocks.h"

#define EL_YMM_NS avxvnni
#define EL_YMM_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define EL_YMM_VNNI 1
#include "kernels/repack_kquant_ymm_inl.h"
#undef EL_YMM_NS
#undef EL_YMM_TARGET
#undef EL_YMM_VNNI

#define EL_YMM_NS avx2
#define EL_YMM_TARGET __attribute__((target("avx2,fma,f16c")))
#define EL_YMM_VNNI 0
#include "kernels/repack_kquant_ymm_inl.h"
#undef EL_YMM_NS
#undef EL_YMM_TARGET
#undef EL_YMM_VNNI

#endif  // __x86_64__
