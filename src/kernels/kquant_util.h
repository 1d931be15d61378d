// Helpers shared by the k-quant kernels (q2_k.cc ... q8_k.cc): rounding, scale searches and the packed
// scale formats of the 256-element super-blocks. Internal to the kernels layer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/fp16.h"

namespace edgellm::kquant {

// round_small: round to nearest, ties to even, for |v| <= 2^22 (other inputs, NaN included, give an
// unspecified int in [-2^22, 2^22) without undefined behaviour). Branch-free, so loops over it vectorize.
inline int round_small(float v) {
  const float t = v + 12582912.0f;  // 1.5·2^23: the sum's low mantissa bits hold round(v) + 2^22
  int32_t i;
  std::memcpy(&i, &t, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

// nearest_int: the same rounding for any float: larger values saturate at ±(2^22 - 1) and NaN maps to the
// lower bound, so a clamped result is meaningful even on bad input. Used by the (scalar) quantizers.
inline int nearest_int(float v) {
  constexpr float kLimit = 4194303.0f;
  v = v > -kLimit ? v : -kLimit;
  v = v < kLimit ? v : kLimit;
  return round_small(v);
}

// v limited to [lo, hi].
inline int clamp_int(int v, int lo, int hi) { return std::min(std::max(v, lo), hi); }

// Float -> half for super-block scales, saturating at the largest finite half (65504) so inputs beyond
// the format's range lose precision instead of dequantizing to inf/NaN.
inline uint16_t half_saturate(float f) {
  constexpr float kHalfMax = 65504.0f;
  f = f > -kHalfMax ? f : -kHalfMax;
  f = f < kHalfMax ? f : kHalfMax;
  return fp32_to_fp16(f);
}

// Largest |x[i]| over n values; NaN if any x[i] is NaN (callers treat that block as all zero).
// Works on the sign-cleared bit patterns, whose unsigned order is the order of |x| (NaN above inf):
// g++ vectorizes an integer max reduction but not a float one without -ffast-math.
inline float max_abs(const float* x, int n) {
  uint32_t m = 0;
  for (int i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof(bits));
    bits &= 0x7fffffffu;
    m = bits > m ? bits : m;
  }
  float amax;
  std::memcpy(&amax, &m, sizeof(amax));
  return amax;
}

// Σ a[i]·b[i] over 16 int8 lanes, accumulated in int32 (|sum| <= 16·128·128, no overflow). The fixed
// trip count lets g++ -O3 emit a widening multiply-add reduction.
inline int32_t dot16(const int8_t* a, const int8_t* b) {
  int32_t s = 0;
  for (int i = 0; i < 16; ++i) s += static_cast<int32_t>(a[i]) * static_cast<int32_t>(b[i]);
  return s;
}

// Asymmetric fit x[i] ≈ scale·L[i] - min over n values, L[i] in [0, nmax], min >= 0, minimizing the
// w-weighted squared error. Tries nstep+1 inverse scales (nmax + rmin + rdelta·k)/(max - min) and solves the
// weighted least-squares (scale, min) for each set of levels (the make_qkx2_quants idea).
// Writes L[0..n) and *min_out; returns scale (0 when x is constant). n <= 32.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out, float rmin,
                    float rdelta, int nstep);

// Symmetric fit x[i] ≈ scale·(L[i] - nmax) over n values, L[i] - nmax in [-nmax, nmax - 1], minimizing the
// squared error weighted by w[i] (x[i]² when w is null). Searches 19 scales around the one that maps the
// largest-magnitude value to -nmax, then refines levels one at a time (the make_qx_quants idea).
// The returned scale is signed (negative when the extreme value is positive). Returns 0 for an all-zero x.
// n <= 32.
float fit_scale_symmetric(int n, int nmax, const float* x, const float* w, int8_t* L);

// Q4_K/Q5_K: 8 six-bit scales and 8 six-bit mins packed into 12 bytes (ggml's get_scale_min_k4 layout):
// bytes 0-3 hold scales 0-3 (low 6 bits), bytes 4-7 mins 0-3, bytes 8-11 the low nibbles of scale/min 4-7,
// and the top two bits of bytes 0-7 the high bits of scales/mins 4-7.
void pack_scale_min_k4(const uint8_t sc[8], const uint8_t m[8], uint8_t out[12]);
inline void unpack_scale_min_k4(const uint8_t in[12], uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = in[j] & 63;
    m[j] = in[j + 4] & 63;
    sc[j + 4] = static_cast<uint8_t>((in[j + 8] & 0x0F) | ((in[j] >> 6) << 4));
    m[j + 4] = static_cast<uint8_t>((in[j + 8] >> 4) | ((in[j + 4] >> 6) << 4));
  }
}

// Q3_K: 16 signed six-bit scales in [-32, 31], stored biased by +32 in 12 bytes: the low nibble of scale j
// is in byte j (j < 8, low nibble) or byte j-8 (high nibble), its top two bits in byte 8 + j%4 at bit 2·(j/4).
void pack_q3_scales(const int8_t sc[16], uint8_t out[12]);
inline void unpack_q3_scales(const uint8_t in[12], int8_t sc[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (in[j] & 0x0F) : (in[j - 8] >> 4);
    const int high = (in[8 + j % 4] >> (2 * (j / 4))) & 3;
    sc[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

// The Q4_K/Q5_K quantizer for one super-block of 256 floats: 8 sub-blocks of 32, each fitted with
// fit_scale_min (levels 0..nmax), then scales and mins quantized to 6 bits against fp16 super-scales and
// the levels recomputed with the stored scales. Writes levels L[0..256) and the block's d, dmin, scales.
// The search runs on x/max|x| so tiny or huge inputs behave like unit-sized ones.
void quantize_scale_min_superblock(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t L[256],
                                   uint16_t* d, uint16_t* dmin, uint8_t scales[12]);

// Dequantizes the 8 groups of 32 of a Q4_K/Q5_K super-block: y[32g+l] = d·sc[g]·q[32g+l] − dmin·m[g], with the
// scales and mins unpacked from `scales`, in ggml's float operation order so results are bit-identical.
void dequantize_scale_min_groups(uint16_t d, uint16_t dmin, const uint8_t scales[12], const int8_t q[256], float y[256]);

}  // namespace edgellm::kquant
