// The 256-bit decode GEMV variants (kernels/x86_gemv.h) for x86 CPUs without AVX-512 VNNI: AVX-VNNI
// (ymm vpdpbusd) and plain AVX2 (vpmaddubsw + vpmaddwd). One block per vector; the body is shared text in
// x86_gemv_ymm_inl.h. Intrinsics for the same reason as x86_gemv.cc: Highway 1.0.3 has no int8 dot product.
#include "kernels/x86_gemv_impl.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm256_undefined_* helpers, as in x86_gemv.cc
#include <immintrin.h>

#include <cstring>

#define EL_YMM_NS vnni
#define EL_YMM_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define EL_YMM_VNNI 1
#include "kernels/x86_gemv_ymm_inl.h"
#undef EL_YMM_NS
#undef EL_YMM_TARGET
#undef EL_YMM_VNNI

#define EL_YMM_NS avx2
#define EL_YMM_TARGET __attribute__((target("avx2,fma,f16c")))
#define EL_YMM_VNNI 0
#include "kernels/x86_gemv_ymm_inl.h"
#undef EL_YMM_NS
#undef EL_YMM_TARGET
#undef EL_YMM_VNNI

namespace edgellm::gemv_detail {
GemvKernel ymm_vnni_kernel(GgmlType type) { return vnni::kernel_for(type); }
GemvKernel ymm_avx2_kernel(GgmlType type) { return avx2::kernel_for(type); }
}  // namespace edgellm::gemv_detail

#endif
