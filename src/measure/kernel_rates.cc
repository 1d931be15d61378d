#include "measure/kernel_rates.h"

#include <time.h>

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <span>
#include <cstring>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/fp16.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/type_traits.h"
#include "measure/probe_kernels.h"
#include "measure/roofline.h"

namespace edgellm {
namespace {

// CPU seconds this process has used (every thread; the 1-thread pool runs the work on the caller).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Operations per CPU-second of `forward(reps)`, reps doubling until a call takes a quarter of target_s, then
// the best of that call and `tries` calls of about target_s (at least one rep). CPU time, not wall time: on a shared machine the figure then
// describes the core while it runs the kernel, not how often other processes let it run.
template <class F>
double best_ops_per_cpu_s(double target_s, int tries, double ops_per_rep, F&& forward) {
  int64_t reps = 1;
  double took = 0;
  for (;;) {
    const double c0 = cpu_seconds();
    forward(reps);
    took = cpu_seconds() - c0;
    if (took >= target_s / 4 || reps > (int64_t{1} << 30)) break;
    reps *= 2;
  }
  // The last calibration call is a sample too (at least a quarter of target_s): with one try, a single disturbed
  // call (a quick probe's attention pass takes ~8 ms) no longer decides the figure alone.
  double best = ops_per_rep * static_cast<double>(reps) / std::max(took, 1e-9);
  // A rep that alone is longer than target_s/4 (a large matrix on a quick probe) is not run four times over.
  reps = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(reps) * target_s / std::max(took, 1e-9)));
  for (int t = 0; t < tries; ++t) {
    const double c0 = cpu_seconds();
    forward(reps);
    const double s = cpu_seconds() - c0;
    if (s > 0) best = std::max(best, ops_per_rep * static_cast<double>(reps) / s);
  }
  return best;
}

// `rows` × `cols` weights of `type`: up to `distinct` rows quantized from random floats, repeated (the kernels'
// speed does not depend on the values, and quantizing even the in-cache probe matrices row by row costs more than
// timing them with the k-quants' scale search).
AlignedBuffer make_weights(const TypeTraits& t, int64_t rows, int64_t cols = kProbeCols, int64_t distinct = 16) {
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  const size_t rb = row_bytes(t, cols);
  distinct = std::min(rows, distinct);
  AlignedBuffer w(rb * static_cast<size_t>(rows));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < distinct; ++r) {
    for (float& f : row) f = dist(rng);
    t.from_float(row.data(), w.data() + rb * static_cast<size_t>(r), cols);
  }
  for (int64_t r = distinct; r < rows; r += distinct) {
    const int64_t n = std::min(distinct, rows - r);
    std::memcpy(w.data() + rb * static_cast<size_t>(r), w.data(), rb * static_cast<size_t>(n));
  }
  return w;
}

// Operations per CPU-second of Linear::forward on `rows` in-cache rows, for each token count of `tokens`.
Result<std::vector<double>> probe_linear(GgmlType type, const TypeTraits& t, int64_t rows, const std::vector<float>& x,
                                         std::initializer_list<int64_t> tokens, double target_s, int tries) {
  AlignedBuffer w = make_weights(t, rows);
  EL_ASSIGN_OR_RETURN(Linear lin, Linear::prepare(WeightView{type, rows, kProbeCols, w.data(), 0}));
  std::vector<float> y(static_cast<size_t>(rows * kPromptProbeTokens));
  ThreadPool pool(1);
  MatmulScratch scratch;
  scratch.quantized_x.resize(lin.scratch_bytes(kPromptProbeTokens));
  std::vector<double> rates;
  for (const int64_t n : tokens) {
    const double ops = 2.0 * static_cast<double>(rows) * kProbeCols * static_cast<double>(n);
    rates.push_back(best_ops_per_cpu_s(target_s, tries, ops, [&](int64_t reps) {
      for (int64_t i = 0; i < reps; ++i) lin.forward(x.data(), n, y.data(), pool, scratch);
    }));
  }
  return rates;
}

// The decode path streaming at least `bytes` of weights from DRAM, as copies of kDramProbeLayer one call per matrix
// like a model's decode step, over a plain read of `plain` (at least 2x the L3 cache, as the weights: both then
// stream from DRAM and their bytes per second compare), `passes` alternating pairs (CPU time: a stalled load is the
// thread's time, a preempted thread is not).
Result<double> decode_stream_fraction(GgmlType type, const TypeTraits& t, uint64_t bytes, int passes,
                                      const AlignedBuffer& plain) {
  try {
    // Every matrix is prepared from one source: its rows of kProbeCols weights are whole blocks, so a row of a wider
    // matrix is several of them side by side. Its bytes need not be distinct: prepare() copies them into the
    // matrix's own layout (or refuses the type), and those copies are what streams.
    int64_t max_weights = 0, max_cols = 0, max_rows = 0;
    for (const ProbeMatrix& m : kDramProbeLayer) {
      max_weights = std::max(max_weights, m.rows * m.cols);
      max_cols = std::max(max_cols, m.cols);
      max_rows = std::max(max_rows, m.rows);
    }
    const AlignedBuffer source = make_weights(t, max_weights / kProbeCols, kProbeCols, 16);
    std::vector<Linear> layer;
    double weight_bytes = 0;
    while (weight_bytes < static_cast<double>(bytes)) {
      for (const ProbeMatrix& m : kDramProbeLayer) {
        EL_ASSIGN_OR_RETURN(Linear lin, Linear::prepare(WeightView{type, m.rows, m.cols, source.data(), 0}));
        layer.push_back(std::move(lin));
        weight_bytes += static_cast<double>(m.rows) * static_cast<double>(row_bytes(t, m.cols));
      }
    }
    std::vector<float> x(static_cast<size_t>(max_cols), 0.5f), y(static_cast<size_t>(3 * max_rows));
    float* const ys[] = {y.data(), y.data() + max_rows, y.data() + 2 * max_rows};
    ThreadPool pool(1);
    MatmulScratch scratch;
    // As blocks.cc runs a layer: q/k/v and gate/up as groups over one input (one activation conversion each).
    auto step = [&] {
      for (size_t l = 0; l < layer.size(); l += std::size(kDramProbeLayer)) {
        const Linear* qkv[] = {&layer[l], &layer[l + 1], &layer[l + 2]};
        const Linear* gate_up[] = {&layer[l + 4], &layer[l + 5]};
        Linear::forward_group(qkv, x.data(), 1, std::span<float* const>(ys, 3), pool, scratch);
        layer[l + 3].forward(x.data(), 1, y.data(), pool, scratch);
        Linear::forward_group(gate_up, x.data(), 1, std::span<float* const>(ys, 2), pool, scratch);
        layer[l + 6].forward(x.data(), 1, y.data(), pool, scratch);
      }
    };
    step();  // first touch of the packed copies, and the scratch grows
    // The median of each pass's ratio to the read right after it: both see the same moment of a shared memory bus,
    // and one disturbed pair cannot move the median as it moves a best-of-N of each.
    uint64_t sink = 0;
    std::vector<double> ratios;
    for (int p = 0; p < passes; ++p) {
      double c0 = cpu_seconds();
      step();
      const double s_kernel = cpu_seconds() - c0;
      c0 = cpu_seconds();
      sink += read_sum(plain.data(), plain.size());
      const double s_read = cpu_seconds() - c0;
      if (s_kernel > 0 && s_read > 0)
        ratios.push_back((weight_bytes / s_kernel) / (static_cast<double>(plain.size()) / s_read));
    }
    volatile uint64_t keep = sink;
    (void)keep;
    if (ratios.empty()) return 0.0;
    std::sort(ratios.begin(), ratios.end());
    const size_t n = ratios.size();
    return n % 2 == 1 ? ratios[n / 2] : 0.5 * (ratios[n / 2 - 1] + ratios[n / 2]);
  } catch (const std::bad_alloc&) {
    return Status::error("kernel probe: cannot allocate " + std::to_string(bytes >> 20) +
                         " MiB of weights for the DRAM decode pass; pass a smaller stream_bytes");
  }
}

// Attention FLOPs per CPU-second for `n_tokens` query tokens after `pos0` cached positions (token t sees
// pos0 + t + 1 positions: q·k and the weighted sum of v, head_dim multiply-adds each, per query head), over
// `n_caches` separate KV caches in turn, like the layers of a decode step: enough of them put the caches out of the
// CPU's caches as a model's are (its weights stream through between two visits of a layer's cache).
Result<double> attention_gflops(int n_tokens, int pos0, int n_caches, double target_s, int tries) {
  constexpr int kH = kAttentionProbeHeads, kKv = kAttentionProbeKvHeads, kD = kAttentionProbeHeadDim;
  const int ctx = pos0 + n_tokens;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> q(static_cast<size_t>(n_tokens) * kH * kD), out(q.size());
  for (float& v : q) v = dist(rng);
  const size_t cache_elems = static_cast<size_t>(ctx) * kKv * kD;
  try {
    AlignedBuffer k(cache_elems * n_caches * sizeof(uint16_t)), v(k.size());
    // A short random pattern repeated: the kernel's speed does not depend on the values.
    std::vector<uint16_t> pattern(4096);
    for (uint16_t& h : pattern) h = fp32_to_fp16(dist(rng));
    for (size_t i = 0; i < cache_elems * n_caches; ++i) {
      k.as<uint16_t>()[i] = pattern[i % pattern.size()];
      v.as<uint16_t>()[i] = pattern[(i + 7) % pattern.size()];
    }
    const int64_t stride = static_cast<int64_t>(kH / kKv) * ctx;
    std::vector<float> scratch(static_cast<size_t>(attention_scratch_floats(kH, kKv, kD, ctx, 1)));
    AttentionArgs a;
    a.q = q.data();
    a.out = out.data();
    a.n_tokens = n_tokens;
    a.pos0 = pos0;
    a.n_head = kH;
    a.n_head_kv = kKv;
    a.head_dim = kD;
    a.scale = 0.125f;
    a.scratch = scratch.data();
    a.scratch_stride = stride;
    ThreadPool pool(1);
    double seen = 0;  // positions summed over the tokens
    for (int t = 0; t < n_tokens; ++t) seen += pos0 + t + 1;
    const double flops = 4.0 * kH * kD * seen * n_caches;
    return best_ops_per_cpu_s(target_s, tries, flops, [&](int64_t n) {
             for (int64_t i = 0; i < n; ++i) {
               for (int c = 0; c < n_caches; ++c) {
                 a.k = k.as<uint16_t>() + cache_elems * c;
                 a.v = v.as<uint16_t>() + cache_elems * c;
                 attention(a, pool);
               }
             }
           }) *
           1e-9;
  } catch (const std::bad_alloc&) {
    return Status::error("kernel probe: cannot allocate the attention probe's KV caches");
  }
}

// CPU nanoseconds per element of layer_elementwise_elements() over a batch of 16 tokens of a
// Llama-3.2-1B layer's element-wise ops, in the order blocks.cc runs them.
double elementwise_ns(double target_s, int tries) {
  constexpr int kE = 2048, kFf = 8192, kT = 16;
  constexpr int kH = kAttentionProbeHeads, kKv = kAttentionProbeKvHeads, kD = kAttentionProbeHeadDim;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(kE * kT), xb(x.size()), norm_w(kE, 1.0f), q(kH * kD * kT), k(kKv * kD * kT);
  std::vector<float> gate(static_cast<size_t>(kFf) * kT), up(gate.size()), act(gate.size()), inv_freq(kD / 2);
  for (std::vector<float>* v : {&x, &xb, &q, &k, &gate, &up})
    for (float& f : *v) f = dist(rng);
  rope_inv_freq(kD, 500000.0f, 1.0f, nullptr, inv_freq.data());
  const double elements = layer_elementwise_elements(kE, kH, kKv, kD, kFf) * kT;
  auto layer = [&] {
    for (int t = 0; t < kT; ++t) rms_norm(&x[t * kE], norm_w.data(), &xb[t * kE], kE, 1e-5f);
    for (int t = 0; t < kT; ++t) {
      rope(&q[t * kH * kD], kH, kD, kD, 100 + t, inv_freq.data(), RopeMode::kNormal);
      rope(&k[t * kKv * kD], kKv, kD, kD, 100 + t, inv_freq.data(), RopeMode::kNormal);
    }
    add(x.data(), xb.data(), kE * kT);
    for (int t = 0; t < kT; ++t) rms_norm(&x[t * kE], norm_w.data(), &xb[t * kE], kE, 1e-5f);
    silu_mul(gate.data(), up.data(), act.data(), static_cast<int64_t>(kFf) * kT);  // not in place: no drift
    add(x.data(), xb.data(), kE * kT);
  };
  const double per_s = best_ops_per_cpu_s(target_s, tries, elements, [&](int64_t n) {
    for (int64_t i = 0; i < n; ++i) layer();
  });
  return per_s > 0 ? 1e9 / per_s : 0;
}

// Seconds per token per weight (u) and per activation element (act) through two matrices of rows_few < rows_many rows
// of k columns, from their seconds per token: tau = k × act + rows × k × u. A negative term (noise) is dropped and
// the larger matrix's time given to u.
struct RowSplit {
  double u = 0, act = 0;
};
RowSplit split_rows(double tau_few, double tau_many, double rows_few, double rows_many, double k) {
  RowSplit r;
  r.u = (tau_many - tau_few) / ((rows_many - rows_few) * k);
  r.act = (tau_few - rows_few * k * r.u) / k;
  if (r.u <= 0 || r.act <= 0) r = RowSplit{tau_many / (rows_many * k), 0};
  return r;
}

}  // namespace

void fit_decode_rates(double ops_per_s_few, double ops_per_s_many, int64_t rows_few, int64_t rows_many, int64_t cols,
                      KernelRates* out) {
  out->decode_gops_1t = 0;
  out->decode_act_ns = 0;
  if (ops_per_s_few <= 0 || ops_per_s_many <= 0 || rows_few <= 0 || rows_many <= rows_few || cols <= 0) return;
  const double k = static_cast<double>(cols), r_few = static_cast<double>(rows_few);
  const double r_many = static_cast<double>(rows_many);
  const RowSplit r = split_rows(2 * r_few * k / ops_per_s_few, 2 * r_many * k / ops_per_s_many, r_few, r_many, k);
  out->decode_gops_1t = 2e-9 / r.u;
  out->decode_act_ns = r.act * 1e9;
}

void fit_prompt_rates(const PromptSample& few, const PromptSample& many, const PromptSample& short_batch, int64_t cols,
                      KernelRates* out) {
  out->prompt_gops_1t = 0;
  out->prompt_act_ns = 0;
  out->prompt_call_ns_per_weight = 0;
  const double k = static_cast<double>(cols);
  for (const PromptSample* p : {&few, &many, &short_batch})
    if (p->rows <= 0 || p->tokens <= 0 || p->ops_per_s <= 0) return;
  if (cols <= 0 || few.rows >= many.rows || few.tokens != many.tokens || short_batch.rows != many.rows ||
      short_batch.tokens >= many.tokens)
    return;
  // Seconds per token of each sample: tau = cols × act + rows × cols × u(tokens), u = 2·per_op + per_call / tokens.
  auto tau = [&](const PromptSample& p) { return 2.0 * static_cast<double>(p.rows) * k / p.ops_per_s; };
  const double r_few = static_cast<double>(few.rows), r_many = static_cast<double>(many.rows);
  const RowSplit split = split_rows(tau(few), tau(many), r_few, r_many, k);
  const double u_many = split.u, act = split.act;
  const double u_short = (tau(short_batch) - k * act) / (r_many * k);
  const double n_many = static_cast<double>(many.tokens), n_short = static_cast<double>(short_batch.tokens);
  double per_call = (u_short - u_many) / (1.0 / n_short - 1.0 / n_many);
  if (per_call <= 0 || u_many - per_call / n_many <= 0) per_call = 0;
  out->prompt_gops_1t = 2e-9 / (u_many - per_call / n_many);
  out->prompt_act_ns = act * 1e9;
  out->prompt_call_ns_per_weight = per_call * 1e9;
}

namespace {

// probe_matmul_rates() of one type, the DRAM pass reading `plain` beside its weights (null: no DRAM pass).
Result<KernelRates> probe_one_type(GgmlType type, double target_s, int tries, uint64_t stream_bytes,
                                   const AlignedBuffer* plain) {
  const TypeTraits* t = type_traits(type);
  if (t == nullptr || t->from_float == nullptr || t->vec_dot == nullptr) {
    const char* name = ggml_type_name(static_cast<uint32_t>(type));
    return Status::error(std::string("kernel probe: edgellm cannot quantize to or multiply with type ") +
                         (name != nullptr ? name : std::to_string(static_cast<uint32_t>(type))));
  }
  std::mt19937 rng(13);
  std::normal_distribution<float> act(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(kProbeCols * kPromptProbeTokens));
  for (float& v : x) v = act(rng);
  KernelRates k;
  EL_ASSIGN_OR_RETURN(const std::vector<double> few,
                      probe_linear(type, *t, kPromptProbeRowsFew, x, {kPromptProbeTokens, 1}, target_s, tries));
  EL_ASSIGN_OR_RETURN(const std::vector<double> many,
                      probe_linear(type, *t, kPromptProbeRowsMany, x,
                                   {kPromptProbeTokens, kPromptProbeShortTokens, 1}, target_s, tries));
  fit_prompt_rates(PromptSample{kPromptProbeRowsFew, kPromptProbeTokens, few[0]},
                   PromptSample{kPromptProbeRowsMany, kPromptProbeTokens, many[0]},
                   PromptSample{kPromptProbeRowsMany, kPromptProbeShortTokens, many[1]}, kProbeCols, &k);
  fit_decode_rates(few[1], many[2], kPromptProbeRowsFew, kPromptProbeRowsMany, kProbeCols, &k);
  if (plain != nullptr) {
    EL_ASSIGN_OR_RETURN(k.decode_stream_fraction,
                        decode_stream_fraction(type, *t, stream_bytes, 2 * tries + 3, *plain));
  }
  return k;
}

}  // namespace

std::vector<Result<KernelRates>> probe_matmul_rates(std::span<const GgmlType> types, double target_s, int tries,
                                                    uint64_t stream_bytes) {
  // One plain-read buffer for every type's DRAM pass: zero-filling it (its pages touched before any timing) costs
  // about as much CPU as the pass itself.
  std::optional<AlignedBuffer> plain;
  std::vector<Result<KernelRates>> out;
  for (const GgmlType type : types) {
    const double c0 = cpu_seconds();
    if (stream_bytes > 0 && !plain) {
      try {
        plain.emplace(static_cast<size_t>(std::max<uint64_t>(stream_bytes, 64)) / 64 * 64);
      } catch (const std::bad_alloc&) {
        out.push_back(Status::error("kernel probe: cannot allocate " + std::to_string(stream_bytes >> 20) +
                                    " MiB for the DRAM pass's plain read; pass a smaller stream_bytes"));
        continue;
      }
    }
    out.push_back(probe_one_type(type, target_s, tries, stream_bytes, plain ? &*plain : nullptr));
    if (out.back().is_ok()) out.back()->probe_cpu_s = cpu_seconds() - c0;
  }
  return out;
}

Result<KernelRates> probe_matmul_rates(GgmlType type, double target_s, int tries, uint64_t stream_bytes) {
  return std::move(probe_matmul_rates(std::span<const GgmlType>(&type, 1), target_s, tries, stream_bytes).front());
}

Status probe_shared_rates(double target_s, int tries, KernelRates* out) {
  const double c0 = cpu_seconds();
  // Half the time each: attention is a small share of a prediction.
  EL_ASSIGN_OR_RETURN(out->attention_prompt_gflops_1t,
                      attention_gflops(kAttentionProbePromptTokens, 0, 1, target_s / 2, tries));
  EL_ASSIGN_OR_RETURN(out->attention_decode_gflops_1t,
                      attention_gflops(1, kAttentionProbeContext - 1, kAttentionProbeDecodeCaches, target_s / 2, tries));
  out->elementwise_ns = elementwise_ns(target_s / 2, tries);
  out->probe_cpu_s = cpu_seconds() - c0;
  return Status::ok();
}

Result<KernelRates> probe_kernel_rates(GgmlType type, double target_s, int tries, uint64_t stream_bytes) {
  EL_ASSIGN_OR_RETURN(KernelRates k, probe_matmul_rates(type, target_s, tries, stream_bytes));
  const double matmul_s = k.probe_cpu_s;
  EL_RETURN_IF_ERROR(probe_shared_rates(target_s, tries, &k));
  k.probe_cpu_s += matmul_s;
  return k;
}

}  // namespace edgellm
