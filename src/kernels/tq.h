// llama.cpp's ternary types TQ1_0 and TQ2_0 (ggml ids 34 and 35): 256 weights in {-1, 0, 1} times an fp16
// scale per block. TQ2_0 stores 2 bits per weight, TQ1_0 packs 5 (or 4) trits per byte as a base-3 fixed-point
// fraction. Dequantization is bit-exact to ggml. Their vec_dot_type is Q8_K, as in ggml (the row-interleaved
// int8 kernels, kernels/repack_ternary.h); where Linear runs them through the table-lookup kernel
// (kernels/lut_gemv.h) as ternary, it quantizes activations to elq tables for the lookup dots below instead.
#pragma once

#include <cstdint>

namespace edgellm {

constexpr int kTqBlock = 256;
constexpr int kTq1Bytes = 54;  // qs[48] (5 trits per byte), qh[4] (4 trits per byte), fp16 d
constexpr int kTq2Bytes = 66;  // qs[64] (4 × 2-bit codes per byte), fp16 d

// Trit n (0..4, 0 the most significant) of a TQ1_0 byte q as a digit 0..2 (value = digit − 1): the byte is a
// base-3 fraction scaled to 256, so multiplying by 3^n and taking the high part of · 3 extracts it.
constexpr uint8_t kTq1Pow3[5] = {1, 3, 9, 27, 81};
constexpr int tq1_digit(int q, int n) { return (((q * kTq1Pow3[n]) & 255) * 3) >> 8; }

// The 256 ternary values t[i] in {-1, 0, 1} of one block, in element order, and the block's scale.
float tq1_0_decode(const uint8_t* block, int8_t* t);
float tq2_0_decode(const uint8_t* block, int8_t* t);

// Scalar references (n a multiple of 256). Quantizers follow ggml's: scale = max |x|, t = round(x / scale).
void tq1_0_to_float(const void* src, float* dst, int64_t n);
void tq1_0_from_float(const float* src, void* dst, int64_t n);
float vec_dot_tq1_0(int64_t n, const void* w, const void* x);  // x is elq_act tables
void tq2_0_to_float(const void* src, float* dst, int64_t n);
void tq2_0_from_float(const float* src, void* dst, int64_t n);
float vec_dot_tq2_0(int64_t n, const void* w, const void* x);  // x is elq_act tables
// Exact dots with Q8_K activations (the types' vec_dot_type, as in ggml): Σ_blocks d · x.d · Σ t·q in integers.
float vec_dot_tq1_0_q8_k(int64_t n, const void* w, const void* x);
float vec_dot_tq2_0_q8_k(int64_t n, const void* w, const void* x);

}  // namespace edgellm
