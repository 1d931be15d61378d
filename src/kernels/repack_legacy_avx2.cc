// The 256-bit decode kernels over the legacy family's tiles (kernels/repack_legacy.h) for x86 CPUs without
// AVX-512 VNNI: AVX-VNNI (ymm vpdpbusd) and plain AVX2 (vpmaddubsw + vpmaddwd), one body in
// repack_legacy_ymm_inl.h compiled once per target. Intrinsics because Highway 1.0.3 has no int8
// dot-product op (only the int16 ReorderWidenMulAccumulate, which would need the levels widened first).
#include "kernels/repack_legacy.h"

#if defined(__x86_64__)
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm256_undefined_* helpers, see x86_gemv.cc
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define EL_INLINE inline __attribute__((always_inline))

#define EL_YMM_NS vnni
#define EL_YMM_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define EL_YMM_VNNI 1
#include "kernels/repack_legacy_ymm_inl.h"
#undef EL_YMM_NS
#undef EL_YMM_TARGET
#undef EL_YMM_VNNI

#define EL_YMM_NS avx2
#define EL_YMM_TARGET __attribute__((target("avx2,fma,f16c")))
#define EL_YMM_VNNI 0
#include "kernels/repack_legacy_ymm_inl.h"
#undef EL_YMM_NS
#undef EL_YMM_TARGET
#undef EL_YMM_VNNI

namespace edgellm::repack_legacy {
GemvFn gemv_avxvnni(GgmlType type) { return vnni::kernel_for(type); }
GemvFn gemv_avx2(GgmlType type) { return avx2::kernel_for(type); }
}  // namespace edgellm::repack_legacy

#else
namespace edgellm::repack_legacy {
GemvFn gemv_avxvnni(GgmlType) { return nullptr; }
GemvFn gemv_avx2(GgmlType) { return nullptr; }
}  // namespace edgellm::repack_legacy
#endif
