// The shared transformer blocks every architecture is built from (embedding, pre-norm GQA attention
// with RoPE and an F16 KV cache, SwiGLU feed-forward, final norm and output head), and the forward pass
// that chains them. All activation buffers live in ForwardScratch, allocated once per session.
#pragma once

#include <cstdint>
#include <span>

#include "core/aligned_buffer.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "model/model.h"

namespace edgellm {

// One layer's slice of the KV cache: F16, [n_ctx][n_head_kv * head_dim] each, owned by the caller.
struct KvLayerView {
  uint16_t* k = nullptr;
  uint16_t* v = nullptr;
};

// Activations for up to n_batch tokens, sized once; forward() never allocates.
struct ForwardScratch {
  int n_batch = 0;
  int n_ctx = 0;
  AlignedBuffer x, xb, q, k, v, att, gate, up;  // [n_batch][width] floats
  AlignedBuffer last, logits;                   // [n_embd], [n_vocab]
  AlignedBuffer scores;                         // attention scratch: attention_scratch_floats() floats
  AlignedBuffer inv_freq;                       // [rope_dim/2] RoPE angle per position
  MatmulScratch mm;

  // Allocates everything a batch of n_batch tokens needs with contexts up to n_ctx on n_threads threads.
  // Fails (instead of throwing) if memory runs out.
  static Result<ForwardScratch> create(const TransformerModel& m, int n_batch, int n_ctx, int n_threads);
  // Total bytes held (for reporting).
  size_t bytes() const;
};

// Runs tokens [0, n) (n <= s.n_batch, ids already validated < n_vocab) at positions pos0..pos0+n-1:
// writes their keys and values into `kv` (one view per layer, positions < pos0 must be filled) and, when
// `want_logits`, the logits of the last token into s.logits (earlier prompt batches skip the output head).
// pos0 + n <= s.n_ctx.
void forward(const TransformerModel& m, const int32_t* tokens, int n, int pos0, std::span<const KvLayerView> kv,
             ForwardScratch& s, ThreadPool& pool, bool want_logits = true);

}  // namespace edgellm
