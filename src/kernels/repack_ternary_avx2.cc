// 256-bit decode kernels of the ternary repack family (kernels/repack_ternary.h) for CPUs without AVX-512:
// AVX-VNNI (ymm vpdpbusd) and plain AVX2 (vpmaddubsw + vpmaddwd), over the same tiles as the AVX-512 kernel.
// Highway 1.0.3 has no int8 dot product, so these are intrinsics compiled per function for their target and
// chosen at run time through repack_isa_supported. TQ2_0 only: TQ1_0's digit tables need AVX-512 VBMI's
// vpermi2b (without it TQ1_0 stays on the lookup kernel).
#include "kernels/repack_ternary.h"

#if defined(__x86_64__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's _mm256_undefined_* helpers, as in x86_vnni.cc
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define EL_TERN_NS vnni
#define EL_TERN_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define EL_TERN_VNNI 1
#include "kernels/repack_ternary_ymm_inl.h"
#undef EL_TERN_NS
#undef EL_TERN_TARGET
#undef EL_TERN_VNNI

#define EL_TERN_NS avx2
#define EL_TERN_TARGET __attribute__((target("avx2,fma,f16c")))
#define EL_TERN_VNNI 0
#include "kernels/repack_ternary_ymm_inl.h"
#undef EL_TERN_NS
#undef EL_TERN_TARGET
#undef EL_TERN_VNNI

namespace edgellm {

void tq2_gemv_avxvnni(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                      size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  tern_detail::vnni::tq2_gemv(w, tile_begin, tile_end, acts, act_stride, n_tokens, y, y_stride);
}

void tq2_gemv_avx2(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                   size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) {
  tern_detail::avx2::tq2_gemv(w, tile_begin, tile_end, acts, act_stride, n_tokens, y, y_stride);
}

}  // namespace edgellm
#endif
