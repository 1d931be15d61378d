#include "kernels/ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "kernels/ops_simd.h"
#include "kernels/ops_vec.h"

namespace edgellm {

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  // The sum of squares in double: rows can be thousands wide and the mean of squares feeds every output.
  const double ss = vec_sum_squares(x, n);
  const float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  vec_scale_mul(x, r, w, y, n);
}

void rope_inv_freq(int rot_dim, float freq_base, float freq_scale, const float* factors, float* inv_freq) {
  for (int i = 0; i < rot_dim / 2; ++i) {
    double f = std::pow(static_cast<double>(freq_base), -2.0 * i / rot_dim) * freq_scale;
    if (factors != nullptr) f /= factors[i];
    inv_freq[i] = static_cast<float>(f);
  }
}

void rope(float* x, int n_heads, int head_dim, int rot_dim, int pos, const float* inv_freq, RopeMode mode) {
  // cos/sin once per pair for all heads, in chunks whose table fits on the stack (one chunk up to head size 512).
  constexpr int kChunk = 256;
  float cs[4 * kChunk];
  const int half = rot_dim / 2;
  for (int p0 = 0; p0 < half; p0 += kChunk) {
    const int np = std::min(kChunk, half - p0);
    rope_table(p0, np, pos, inv_freq, mode, cs);
    vec_rope_apply(x, n_heads, head_dim, half, p0, np, cs, mode);
  }
}

void softmax(float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  if (mx == -std::numeric_limits<float>::infinity()) {
    // Every entry masked: no token to attend to; a uniform zero row is the safe answer.
    std::fill(x, x + n, 0.0f);
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) { vec_silu_mul(gate, up, out, n); }

void add(float* a, const float* b, int64_t n) { vec_add(a, b, n); }

namespace {

// Batches of up to this many tokens run the positions-outer decode kernel (F16OpKernels::decode), larger ones
// (prefill) the per-(token, KV head) kernels.
constexpr int kDecodeTokens = 1;

// One (token, KV head) pair: for the query heads sharing that KV head, scores over the visible positions,
// softmax, weighted sum of values. scores has room for group × n_visible floats.
void attend_group(const AttentionArgs& a, const F16OpKernels& kern, int t, int kvh, float* scores) {
  const int hd = a.head_dim;
  const int group = a.n_head / a.n_head_kv;
  const int64_t kv_stride = static_cast<int64_t>(a.n_head_kv) * hd;
  const int64_t head0 = static_cast<int64_t>(t) * a.n_head * hd + static_cast<int64_t>(kvh) * group * hd;
  const int n_visible = a.pos0 + t + 1;
  kern.scores(n_visible, hd, a.k + static_cast<int64_t>(kvh) * hd, kv_stride, a.q + head0, group, a.scale, scores);
  for (int h = 0; h < group; ++h) kern.softmax(scores + static_cast<int64_t>(h) * n_visible, n_visible);
  kern.weighted_sum(n_visible, hd, a.v + static_cast<int64_t>(kvh) * hd, kv_stride, scores, group, a.out + head0);
}

// The decode split: a token's positions fall in at most kDecodeParts chunks of a multiple of kDecodeChunkMin
// positions, chosen from the context length alone, so every thread count computes the same chunks and merges them
// in the same order (bit-identical results); threads take contiguous runs of chunks. 16 chunks of the 1B shape's
// partials are 135 KB (L2); 64-position chunks keep a 640-token context in 10 parts, 5 per thread of two.
constexpr int64_t kDecodeParts = 16, kDecodeChunkMin = 64;

int64_t decode_chunk(int64_t n) {
  const int64_t per_part = (n + kDecodeParts - 1) / kDecodeParts;
  return std::max(kDecodeChunkMin, (per_part + kDecodeChunkMin - 1) / kDecodeChunkMin * kDecodeChunkMin);
}

// Token t's attention by the positions-outer decode kernel: chunk partials on every thread, then the merge.
void attend_decode(const AttentionArgs& a, const F16OpKernels& kern, int t, ThreadPool& pool) {
  const int64_t hd = a.head_dim, q0 = static_cast<int64_t>(t) * a.n_head * hd;
  DecodeAttnSlice s;
  s.n = a.pos0 + t + 1;
  s.hd = hd;
  s.g = a.n_head / a.n_head_kv;
  s.n_kv = a.n_head_kv;
  s.k = a.k;
  s.v = a.v;
  s.stride = static_cast<int64_t>(a.n_head_kv) * hd;
  s.q = a.q + q0;
  s.scale = a.scale;
  s.out = a.out + q0;
  s.chunk = decode_chunk(s.n);
  s.part_stride = static_cast<int64_t>(a.n_head) * (hd + 2);
  s.part_acc = a.scratch;
  s.part_ml = a.scratch + static_cast<int64_t>(a.n_head) * hd;
  const int64_t parts = (s.n + s.chunk - 1) / s.chunk;
  std::atomic<int> finished{0};
  pool.run([&](int ith, int nth) {
    const int64_t c0 = parts * ith / nth, c1 = parts * (ith + 1) / nth;
    if (c0 < c1) {
      DecodeAttnSlice r = s;
      r.n = std::min(s.n, c1 * s.chunk) - c0 * s.chunk;
      r.k += c0 * s.chunk * s.stride;
      r.v += c0 * s.chunk * s.stride;
      r.part_acc += c0 * s.part_stride;
      r.part_ml += c0 * s.part_stride;
      kern.decode(r);
    }
    // The last thread to finish merges every head (acq_rel: it sees the others' partials). A second pool job split
    // by heads would cost a wake-up per layer; on the loaded shared machine each job handoff cost ~1 ms (a
    // timeslice), twice that of session 5's one job per layer.
    if (finished.fetch_add(1, std::memory_order_acq_rel) == nth - 1) kern.decode_merge(s, 0, a.n_head);
  });
}

}  // namespace

int64_t attention_scratch_floats(int n_head, int n_head_kv, int head_dim, int n_ctx, int n_threads) {
  const int64_t prefill = static_cast<int64_t>(std::max(n_threads, 1)) * (n_head / n_head_kv) * n_ctx;
  const int64_t parts = std::min<int64_t>(kDecodeParts, (n_ctx + kDecodeChunkMin - 1) / kDecodeChunkMin);
  return std::max(prefill, parts * n_head * (head_dim + 2));
}

void attention(const AttentionArgs& a, ThreadPool& pool) {
  const F16OpKernels& kern = f16_op_kernels();
  // The decode kernel declines by target and shape only: a run of no KV heads asks without doing any work.
  DecodeAttnSlice probe;
  probe.hd = a.head_dim;
  probe.g = a.n_head / a.n_head_kv;
  if (a.n_tokens <= kDecodeTokens && kern.decode(probe)) {
    for (int t = 0; t < a.n_tokens; ++t) attend_decode(a, kern, t, pool);
    return;
  }
  const int64_t n_work = static_cast<int64_t>(a.n_tokens) * a.n_head_kv;
  pool.run([&](int ith, int nth) {
    float* scores = a.scratch + static_cast<int64_t>(ith) * a.scratch_stride;
    // Interleaved split: later tokens see more positions, so striding balances the work.
    for (int64_t w = ith; w < n_work; w += nth) {
      attend_group(a, kern, static_cast<int>(w / a.n_head_kv), static_cast<int>(w % a.n_head_kv), scores);
    }
  });
}

}  // namespace edgellm
