#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <new>

#include "kernels/ops.h"
#include "kernels/ops_vec.h"

namespace edgellm {
namespace {

float* F(AlignedBuffer& b) { return b.as<float>(); }

void embed(const TransformerModel& m, const int32_t* tokens, int n, float* x) {
  for (int t = 0; t < n; ++t) dequantize_row(m.tok_embd, tokens[t], x + static_cast<int64_t>(t) * m.hp.n_embd);
}

void add_bias(float* y, const std::vector<float>& b, int n) {
  if (b.empty()) return;
  const int64_t w = static_cast<int64_t>(b.size());
  for (int t = 0; t < n; ++t) add(y + t * w, b.data(), w);
}

// Pre-norm attention: x += Wo · attention(rope(norm(Wq·xb)), cache ∪ rope(norm(Wk·xb)), Wv·xb).
void attention_block(const TransformerModel& m, const LayerWeights& l, int n, int pos0, const KvLayerView& kv,
                     ForwardScratch& s, ThreadPool& pool) {
  const HParams& hp = m.hp;
  const int d = hp.n_embd, qd = hp.q_dim(), kvd = hp.kv_dim(), hd = hp.head_dim;
  for (int t = 0; t < n; ++t) rms_norm(F(s.x) + t * d, l.attn_norm.data(), F(s.xb) + t * d, d, hp.norm_eps);
  // One pool job for the three projections at decode (kernels/matmul.h forward_group).
  const Linear* qkv[] = {&l.wq, &l.wk, &l.wv};
  float* const qkv_out[] = {F(s.q), F(s.k), F(s.v)};
  Linear::forward_group(qkv, F(s.xb), n, qkv_out, pool, s.mm);
  add_bias(F(s.q), l.bq, n);
  add_bias(F(s.k), l.bk, n);
  add_bias(F(s.v), l.bv, n);
  for (int t = 0; t < n; ++t) {
    float* q = F(s.q) + static_cast<int64_t>(t) * qd;
    float* k = F(s.k) + static_cast<int64_t>(t) * kvd;
    if (!l.q_norm.empty()) {
      for (int h = 0; h < hp.n_head; ++h) rms_norm(q + h * hd, l.q_norm.data(), q + h * hd, hd, hp.norm_eps);
      for (int h = 0; h < hp.n_head_kv; ++h) rms_norm(k + h * hd, l.k_norm.data(), k + h * hd, hd, hp.norm_eps);
    }
    rope(q, hp.n_head, hd, hp.rope_dim, pos0 + t, F(s.inv_freq), hp.rope_mode);
    rope(k, hp.n_head_kv, hd, hp.rope_dim, pos0 + t, F(s.inv_freq), hp.rope_mode);
    const float* v = F(s.v) + static_cast<int64_t>(t) * kvd;
    uint16_t* kc = kv.k + static_cast<int64_t>(pos0 + t) * kvd;
    uint16_t* vc = kv.v + static_cast<int64_t>(pos0 + t) * kvd;
    vec_fp32_to_fp16(k, kc, kvd);
    vec_fp32_to_fp16(v, vc, kvd);
  }
  AttentionArgs a;
  a.q = F(s.q);
  a.k = kv.k;
  a.v = kv.v;
  a.out = F(s.att);
  a.n_tokens = n;
  a.pos0 = pos0;
  a.n_head = hp.n_head;
  a.n_head_kv = hp.n_head_kv;
  a.head_dim = hd;
  a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  a.scratch = F(s.scores);
  a.scratch_stride = static_cast<int64_t>(hp.n_head / hp.n_head_kv) * s.n_ctx;
  attention(a, pool);
  l.wo.forward(F(s.att), n, F(s.xb), pool, s.mm);
  add(F(s.x), F(s.xb), static_cast<int64_t>(n) * d);
}

// Pre-norm SwiGLU feed-forward: x += W_down · (silu(W_gate·xb) ⊙ W_up·xb).
void ffn_block(const TransformerModel& m, const LayerWeights& l, int n, ForwardScratch& s, ThreadPool& pool) {
  const int d = m.hp.n_embd;
  for (int t = 0; t < n; ++t) rms_norm(F(s.x) + t * d, l.ffn_norm.data(), F(s.xb) + t * d, d, m.hp.norm_eps);
  const Linear* gate_up[] = {&l.w_gate, &l.w_up};
  float* const gate_up_out[] = {F(s.gate), F(s.up)};
  Linear::forward_group(gate_up, F(s.xb), n, gate_up_out, pool, s.mm);
  silu_mul(F(s.gate), F(s.up), F(s.gate), static_cast<int64_t>(n) * m.hp.n_ff);
  l.w_down.forward(F(s.gate), n, F(s.xb), pool, s.mm);
  add(F(s.x), F(s.xb), static_cast<int64_t>(n) * d);
}

}  // namespace

Result<ForwardScratch> ForwardScratch::create(const TransformerModel& m, int n_batch, int n_ctx, int n_threads) {
  const HParams& hp = m.hp;
  ForwardScratch s;
  s.n_batch = n_batch;
  s.n_ctx = n_ctx;
  const auto fl = [&](AlignedBuffer& b, int64_t rows, int64_t width) {
    b.resize(static_cast<size_t>(rows * width) * sizeof(float));
  };
  try {
    fl(s.x, n_batch, hp.n_embd);
    fl(s.xb, n_batch, hp.n_embd);
    fl(s.q, n_batch, hp.q_dim());
    fl(s.k, n_batch, hp.kv_dim());
    fl(s.v, n_batch, hp.kv_dim());
    fl(s.att, n_batch, hp.q_dim());
    fl(s.gate, n_batch, hp.n_ff);
    fl(s.up, n_batch, hp.n_ff);
    fl(s.last, 1, hp.n_embd);
    fl(s.logits, 1, hp.n_vocab);
    fl(s.scores, 1, attention_scratch_floats(hp.n_head, hp.n_head_kv, hp.head_dim, n_ctx, n_threads));
    fl(s.inv_freq, 1, hp.rope_dim / 2);
    size_t mm = 0;
    for (const Linear* l : m.linears()) mm = std::max(mm, l->scratch_bytes(n_batch, n_threads));
    for (const LayerWeights& l : m.layers) {
      const Linear* qkv[] = {&l.wq, &l.wk, &l.wv};
      const Linear* gate_up[] = {&l.w_gate, &l.w_up};
      mm = std::max({mm, Linear::group_scratch_bytes(qkv, n_batch, n_threads),
                     Linear::group_scratch_bytes(gate_up, n_batch, n_threads)});
    }
    s.mm.quantized_x.resize(mm);
  } catch (const std::bad_alloc&) {
    return Status::error("out of memory allocating activation buffers for a batch of " + std::to_string(n_batch) +
                         " tokens and a context of " + std::to_string(n_ctx));
  }
  rope_inv_freq(hp.rope_dim, hp.rope_freq_base, hp.rope_freq_scale,
                m.rope_factors.empty() ? nullptr : m.rope_factors.data(), F(s.inv_freq));
  return s;
}

size_t ForwardScratch::bytes() const {
  size_t total = mm.quantized_x.size();
  for (const AlignedBuffer* b : {&x, &xb, &q, &k, &v, &att, &gate, &up, &last, &logits, &scores, &inv_freq})
    total += b->size();
  return total;
}

void forward(const TransformerModel& m, const int32_t* tokens, int n, int pos0, std::span<const KvLayerView> kv,
             ForwardScratch& s, ThreadPool& pool, bool want_logits) {
  const int d = m.hp.n_embd;
  embed(m, tokens, n, F(s.x));
  for (size_t i = 0; i < m.layers.size(); ++i) {
    attention_block(m, m.layers[i], n, pos0, kv[i], s, pool);
    ffn_block(m, m.layers[i], n, s, pool);
  }
  if (!want_logits) return;
  // Only the last token's logits are needed: norm and project one row.
  rms_norm(F(s.x) + static_cast<int64_t>(n - 1) * d, m.output_norm.data(), F(s.last), d, m.hp.norm_eps);
  m.output.forward(F(s.last), 1, F(s.logits), pool, s.mm);
}

}  // namespace edgellm
