// 256-bit decode kernels over the row-interleaved Q2_K and Q3_K tiles (layout in kernels/repack_lowk.h), for CPUs
// without AVX-512: AVX-VNNI (ymm vpdpbusd / vpdpwssd) and plain AVX2 (vpmaddubsw + vpmaddwd). Highway 1.0.3 has
// no int8 dot product, so this is intrinsics, compiled per function for each target and chosen at run time
// (repack_isa_supported).
//
// The tiles are the AVX-512 ones: a 64-byte step vector is rows 0-7 in its low 32 bytes and rows 8-15 in its high
// 32 bytes, so each super-block is walked twice (one half of the rows at a time, the second pass from L1), with
// the AVX-512 scheme per half. Differences, so vpmaddubsw's int16 pair sums cannot saturate (max 2·u·127 <
// 32768 needs u <= 128): crumb 3 is shifted down to times 16 instead of masked in place (times 64), and the
// Q2_K minimum nibbles are shifted down to m (not masked to 16·m) before meeting bsum = 16·h + l. Q3_K's step
// byte masks are expanded from bits with vpshufb/vpand/vpcmpeqb (no mask registers).
#include "kernels/repack_lowk.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace edgellm::lowk {
namespace {

namespace avx2 {
#define LOWK_YMM_TARGET __attribute__((target("avx2,fma,f16c")))
#define LOWK_YMM_VNNI 0
#include "kernels/repack_lowk_ymm_inl.h"
#undef LOWK_YMM_TARGET
#undef LOWK_YMM_VNNI
}  // namespace avx2

namespace avxvnni {
#define LOWK_YMM_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define LOWK_YMM_VNNI 1
#include "kernels/repack_lowk_ymm_inl.h"
#undef LOWK_YMM_TARGET
#undef LOWK_YMM_VNNI
}  // namespace avxvnni

}  // namespace

RepackGemvFn q2k_gemv_avx2() { return &avx2::gemv_q2k; }
RepackGemvFn q2k_gemv_avxvnni() { return &avxvnni::gemv_q2k; }
RepackGemvFn q3k_gemv_avx2() { return &avx2::gemv_q3k; }
RepackGemvFn q3k_gemv_avxvnni() { return &avxvnni::gemv_q3k; }

}  // namespace edgellm::lowk

#else  // not x86-64

namespace edgellm::lowk {
RepackGemvFn q2k_gemv_avx2() { return nullptr; }
RepackGemvFn q2k_gemv_avxvnni() { return nullptr; }
RepackGemvFn q3k_gemv_avx2() { return nullptr; }
RepackGemvFn q3k_gemv_avxvnni() { return nullptr; }
}  // namespace edgellm::lowk

#endif
