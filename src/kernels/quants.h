// Scalar reference routines per block type (one .cc file per type). n is the element count and a
// multiple of the type's block size. vec_dot_* take a weight row and an activation row of the paired
// type (Q8_0 for the 32-blocks, Q8_K for the k-quants) and return the dot product.
// These are the oracles every SIMD/LUT kernel is tested against.
#pragma once

#include <cstdint>

namespace edgellm {

// Float types.
void f32_to_float(const void* src, float* dst, int64_t n);
void f32_from_float(const float* src, void* dst, int64_t n);
float vec_dot_f32(int64_t n, const void* w, const void* x);
void f16_to_float(const void* src, float* dst, int64_t n);
void f16_from_float(const float* src, void* dst, int64_t n);
float vec_dot_f16(int64_t n, const void* w, const void* x);   // x is F32
void bf16_to_float(const void* src, float* dst, int64_t n);
void bf16_from_float(const float* src, void* dst, int64_t n);
float vec_dot_bf16(int64_t n, const void* w, const void* x);  // x is F32

// 32-element block types.
void q4_0_to_float(const void* src, float* dst, int64_t n);
void q4_0_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q4_0(int64_t n, const void* w, const void* x);  // x is Q8_0
void q4_1_to_float(const void* src, float* dst, int64_t n);
void q4_1_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q4_1(int64_t n, const void* w, const void* x);  // x is Q8_0
void q5_0_to_float(const void* src, float* dst, int64_t n);
void q5_0_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q5_0(int64_t n, const void* w, const void* x);  // x is Q8_0
void q5_1_to_float(const void* src, float* dst, int64_t n);
void q5_1_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q5_1(int64_t n, const void* w, const void* x);  // x is Q8_0
void q8_0_to_float(const void* src, float* dst, int64_t n);
void q8_0_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q8_0(int64_t n, const void* w, const void* x);  // x is Q8_0

// k-quants (256-element super-blocks).
void q2_k_to_float(const void* src, float* dst, int64_t n);
void q2_k_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q2_k(int64_t n, const void* w, const void* x);  // x is Q8_K
void q3_k_to_float(const void* src, float* dst, int64_t n);
void q3_k_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q3_k(int64_t n, const void* w, const void* x);  // x is Q8_K
void q4_k_to_float(const void* src, float* dst, int64_t n);
void q4_k_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q4_k(int64_t n, const void* w, const void* x);  // x is Q8_K
void q5_k_to_float(const void* src, float* dst, int64_t n);
void q5_k_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q5_k(int64_t n, const void* w, const void* x);  // x is Q8_K
void q6_k_to_float(const void* src, float* dst, int64_t n);
void q6_k_from_float(const float* src, void* dst, int64_t n);
float vec_dot_q6_k(int64_t n, const void* w, const void* x);  // x is Q8_K
void q8_k_to_float(const void* src, float* dst, int64_t n);
void q8_k_from_float(const float* src, void* dst, int64_t n);

}  // namespace edgellm
