// Highway fast paths for the ops that touch the F16 KV cache (ops_simd.cc), resolved once for this CPU.
#pragma once

#include <cstdint>

namespace edgellm {

// One token's attention for a run of consecutive KV heads of the cache (the caller points k, v, q and out at the
// run's first KV head): out = softmax(scale · q·Kᵀ) · V for each of the n_kv · g query heads over rows 0 … n−1.
struct DecodeAttnSlice {
  int64_t n = 0;                // visible positions, ≥ 1
  int64_t hd = 0;               // head size
  int64_t g = 0;                // query heads per KV head
  int64_t n_kv = 0;             // KV heads in the run
  const uint16_t* k = nullptr;  // F16 keys: KV head c of row j at k[j·stride + c·hd]
  const uint16_t* v = nullptr;  // F16 values, same layout
  int64_t stride = 0;           // halves from one cache row to the next
  const float* q = nullptr;     // query head c·g + h at q[(c·g + h)·hd]
  float scale = 0;              // usually 1/sqrt(hd)
  float* out = nullptr;         // n_kv · g · hd floats, overwritten, laid out like q
  // Partial results (chunk > 0; attention() splits the positions across threads this way): the positions [0, n)
  // fall in chunks of `chunk` (the last may be shorter) and chunk i leaves, unnormalized, in part_acc +
  // i·part_stride the rows Σ_j exp(s_j − m)·v_j of its query heads (laid out like out) and in part_ml +
  // i·part_stride the pairs (m, Σ_j exp(s_j − m)) per head, m its largest score; out is not written. The results
  // do not depend on where a call's range starts, so any split of the chunks across calls gives the same bits.
  int64_t chunk = 0;
  float* part_acc = nullptr;
  float* part_ml = nullptr;
  int64_t part_stride = 0;  // floats from one chunk's partials to the next
};

struct F16OpKernels {
  // sum_i k[i] * q[i]: an F16 key row against an F32 query.
  float (*dot)(int64_t n, const uint16_t* k, const float* q);
  // y[i] += a * v[i]: accumulates an F16 value row, scaled, into F32.
  void (*axpy)(int64_t n, float a, const uint16_t* v, float* y);
  // For g query heads sharing one KV head (queries hd apart): scores[h·n + j] = scale · dot(k row j, q_h) for
  // j < n, key rows `stride` halves apart, each hd long. Each key row is read once for all g heads.
  void (*scores)(int64_t n, int64_t hd, const uint16_t* k, int64_t stride, const float* q, int64_t g, float scale,
                 float* scores);
  // out[h·hd + i] = Σ_{j<n} p[h·n + j] · v[j·stride + i] for i < hd, h < g (out is overwritten).
  void (*weighted_sum)(int64_t n, int64_t hd, const uint16_t* v, int64_t stride, const float* p, int64_t g, float* out);
  // x = softmax(x) in place (vector exp, within a few ULP of ops.h's softmax); all −inf gives zeros.
  void (*softmax)(float* x, int64_t n);
  // Decode attention with the positions in the outer loop (attention_decode.cc): the rows are read front to back
  // once, for all KV heads of the run, with a running (online) softmax instead of stored scores, so it needs no
  // scratch of its own (chunk > 0: the partial results go to the caller's part buffers). Returns false, writing
  // nothing, where the target has no such kernel (scalable targets and SCALAR, head sizes below one vector, more than
  // 128 query heads per KV head); the caller then runs scores, softmax and weighted_sum. With n_kv = 0 it only answers
  // whether it would run for hd and g.
  bool (*decode)(const DecodeAttnSlice& s);
  // Combines the partial results decode left for s (chunk > 0, the same n, chunk, g, hd and part pointers; k and v
  // unused) into out for query heads [h0, h1): the chunks in ascending order, each weighted by exp(m_i − max m),
  // then divided by the weighted sum; a head whose scores were all −inf gets zeros. Every target.
  void (*decode_merge)(const DecodeAttnSlice& s, int64_t h0, int64_t h1);
};

// The kernels for the best target of this CPU (chosen on the first call).
const F16OpKernels& f16_op_kernels();

// The kernels of the target Highway's dispatch has chosen right now (tests force each target in turn; no Update).
F16OpKernels f16_op_kernels_for_chosen_target();
// As f16_op_kernels_for_chosen_target, but scores and weighted_sum are the session-3 kernels (a horizontal sum per
// position and head; values re-read per vector of the head): the fallback of scalable targets and the baseline of
// bench/attention_bench.cc.
F16OpKernels f16_op_kernels_rowwise();
// attention_decode.cc's decode kernel for the target Highway's dispatch has chosen right now.
bool (*decode_attention_for_chosen_target())(const DecodeAttnSlice&);
// Its merge of partial results (F16OpKernels::decode_merge), likewise.
void (*decode_merge_for_chosen_target())(const DecodeAttnSlice&, int64_t, int64_t);
// The Highway target (HWY_AVX3, ...) ops_simd.cc's dispatch currently runs.
int64_t f16_ops_dispatched_target();

}  // namespace edgellm
