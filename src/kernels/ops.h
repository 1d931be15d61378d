// F32 element-wise and attention ops of the transformer forward pass (everything but the weight
// matmuls, which go through Linear). The element-wise ops run on Highway kernels (kernels/ops_vec.h), attention on
// kernels/ops_simd.h; all buffers are owned by the caller and none of these functions allocate.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace edgellm {

// y[i] = x[i] / sqrt(mean(x²) + eps) * w[i] for i < n. y may alias x; w may be nullptr (no scale).
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

// How RoPE pairs the dimensions of a head: NORMAL rotates adjacent pairs (2i, 2i+1) (llama, llama2.c);
// NEOX rotates (i, i + rot_dim/2) (qwen2, qwen3, GPT-NeoX).
enum class RopeMode { kNormal, kNeox };

// Fills inv_freq[i] (i < rot_dim/2) with the angle per position of pair i:
//   base^(-2i/rot_dim) * freq_scale / factors[i]
// `factors` (llama3 rope_freqs, rot_dim/2 floats) may be nullptr. Computed once per session.
void rope_inv_freq(int rot_dim, float freq_base, float freq_scale, const float* factors, float* inv_freq);

// Rotates the first rot_dim dimensions of each of n_heads heads (head_dim floats each, contiguous)
// of one token at position `pos`, in place. rot_dim is even and <= head_dim.
void rope(float* x, int n_heads, int head_dim, int rot_dim, int pos, const float* inv_freq, RopeMode mode);

// Numerically stable softmax of n floats in place (subtracts the max first). Entries of -inf become 0.
void softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i] (SwiGLU); out may alias gate or up.
void silu_mul(const float* gate, const float* up, float* out, int64_t n);

// a[i] += b[i].
void add(float* a, const float* b, int64_t n);

// Causal multi-head attention of a batch of tokens over an F16 KV cache (grouped-query: query head h
// reads KV head h / (n_head / n_head_kv)).
struct AttentionArgs {
  const float* q = nullptr;     // [n_tokens][n_head * head_dim]
  const uint16_t* k = nullptr;  // F16 cache [n_ctx][n_head_kv * head_dim]; positions < pos0 + n_tokens filled
  const uint16_t* v = nullptr;  // same layout as k
  float* out = nullptr;         // [n_tokens][n_head * head_dim]
  int n_tokens = 0;
  int pos0 = 0;  // position of the first token; token t sees positions [0, pos0 + t]
  int n_head = 0, n_head_kv = 0, head_dim = 0;
  float scale = 0;             // usually 1/sqrt(head_dim)
  float* scratch = nullptr;    // attention_scratch_floats(n_head, n_head_kv, head_dim, n_ctx, pool.size()) floats
  int64_t scratch_stride = 0;  // >= (n_head / n_head_kv) × (pos0 + n_tokens): one row per query head of a group
};
// Decode (one token) runs the positions-outer kernel (F16OpKernels::decode) on contiguous runs of fixed chunks of
// positions per thread, each chunk's partial softmax state in scratch, then merges the chunks in position order;
// prefill splits (token, KV head) pairs across the pool's threads (scratch_stride floats each), each reading its
// cached rows once. Results do not depend on the number of threads.
void attention(const AttentionArgs& a, ThreadPool& pool);

// Floats of AttentionArgs::scratch attention() needs for contexts of up to n_ctx positions on n_threads threads:
// prefill's per-thread scores or decode's chunk partials, whichever is more.
int64_t attention_scratch_floats(int n_head, int n_head_kv, int head_dim, int n_ctx, int n_threads);

}  // namespace edgellm
