// Highway kernels (ops_vec.cc) for the element-wise work of a decode step that is neither a weight matmul nor
// attention: RMS norm, SwiGLU, residual add, RoPE, the F16 KV-cache write and greedy argmax. Each call dispatches
// to the best target of this CPU (re-checked per call, so tests can force every target). kernels/ops.h's
// rms_norm/silu_mul/add/rope are thin wrappers over these; the scalar references live in the tests.
#pragma once

#include <cstdint>

#include "kernels/ops.h"

namespace edgellm {

// Σ x[i]² accumulated in double (rows are thousands wide and feed every output of the norm).
double vec_sum_squares(const float* x, int64_t n);

// y[i] = x[i] * r * w[i] (w may be nullptr: y[i] = x[i] * r), rounded exactly as that scalar expression. y may
// alias x.
void vec_scale_mul(const float* x, float r, const float* w, float* y, int64_t n);

// out[i] = gate[i] / (1 + exp(-gate[i])) * up[i], with Highway's vector exp (≤ 1 ULP); |out − exact| ≤ 4 ULP of
// out for gate ≥ −88, and below that |out| < 1e-36·|up| (exp(−gate) is clamped to exp(88) instead of overflowing).
// out may alias gate or up.
void vec_silu_mul(const float* gate, const float* up, float* out, int64_t n);

// a[i] += b[i] (exact).
void vec_add(float* a, const float* b, int64_t n);

// RoPE for pairs [pair0, pair0 + n_pairs) of one position (pairs as ops.h's rope; half = rot_dim / 2 pairs in
// all). rope_table fills cs (4·n_pairs floats) with the cosines, then the signed sines, of the angles
// pos·inv_freq[i] (inv_freq as ops.h's rope_inv_freq; cos/sin by the C library, as the scalar rope), one per lane
// of the pair: NORMAL lanes (2k, 2k+1), NEOX lanes (k, n_pairs + k) for pair pair0 + k, the first with −sin and
// the second with +sin. Callers chunk longer rotations so a table fits on the stack.
void rope_table(int pair0, int n_pairs, int pos, const float* inv_freq, RopeMode mode, float* cs);

// Rotates those pairs of each of n_heads heads (head_dim floats each, contiguous) in place by rope_table's cs:
// a' = a·c − b·s, b' = a·s + b·c as in ops.h's rope, each output rounded once by a fused multiply-add (≤ 1 ULP
// of max(|a|, |b|) from the unfused expression).
void vec_rope_apply(float* x, int n_heads, int head_dim, int half, int pair0, int n_pairs, const float* cs,
                    RopeMode mode);

// y[i] = x[i] converted to IEEE half, round to nearest even, the same bits as core/fp16.h fp32_to_fp16 for
// every input but NaN (which stays a NaN). Uses the F16C instruction where the target has it.
void vec_fp32_to_fp16(const float* x, uint16_t* y, int64_t n);

// The index of the first largest x[i] (−1 for n <= 0), identical to the plain loop `if (x[i] > x[best]) best =
// i` for every input, NaN included.
int64_t vec_argmax(const float* x, int64_t n);

// The Highway target the kernels above currently dispatch to (for tests that force each target).
int64_t ops_vec_dispatched_target();

}  // namespace edgellm
