// The element-wise work of one decode token that is neither a weight matmul nor attention, at Llama-3.2-1B's
// shapes (16 layers, 2048 wide, 32 query / 8 KV heads of 64, FFN 8192, 32000 logits): RMS norms, RoPE on q and
// k, the F16 KV write, SwiGLU, residual adds and the greedy argmax. `scalar` runs the plain loops ops.cc had
// before kernels/ops_vec.h (kept here as the baseline), `vec` the library's ops (Highway, best target).
//
// Names:
//   DecodeStep/<variant>    all of the above for one token: the time is ms/token of non-matmul work
//   Op/<op>/<variant>       one op at its per-token count (e.g. silu_mul: 16 × 8192)
//   Quantize/<type>/<variant>  a token's activation rows to a weight type's vec_dot_type, as the Linears of a
//                           decode step convert them (per layer: Q/K/V once, Wo, gate/up once, down, then the
//                           head: 3 × 2048 + 8192 per layer, ~230 k values); `scalar` is the reference quantizer,
//                           `simd` the library's (Highway, best target); `+<type>` adds the row-interleaved
//                           kernels' per-call expansion of those rows (kernels/repack.h), as the decode does
// Thread CPU time (the machine is shared). Rerun:
//   build/bin/ops_bench --benchmark_repetitions=3 --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/ops.h"
#include "kernels/ops_vec.h"
#include "kernels/quants.h"
#include "kernels/repack.h"
#include "kernels/simd_dot.h"
#include "kernels/simd_kquant.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

constexpr int kLayers = 16, kEmbd = 2048, kHead = 32, kHeadKv = 8, kHeadDim = 64, kFf = 8192, kVocab = 32000;
constexpr int kKvDim = kHeadKv * kHeadDim;

// ---- the plain loops (ops.cc and blocks.cc before the Highway kernels)
void rms_norm_scalar(const float* x, const float* w, float* y, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * r * w[i];
}

void rope_scalar(float* x, int n_heads, int head_dim, int rot_dim, int pos, const float* inv_freq) {
  for (int i = 0; i < rot_dim / 2; ++i) {
    const float theta = static_cast<float>(pos) * inv_freq[i];
    const float c = std::cos(theta), s = std::sin(theta);
    for (int h = 0; h < n_heads; ++h) {
      float* p = x + static_cast<int64_t>(h) * head_dim;
      const float a = p[2 * i], b = p[2 * i + 1];
      p[2 * i] = a * c - b * s;
      p[2 * i + 1] = a * s + b * c;
    }
  }
}

void silu_mul_scalar(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void add_scalar(float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}

void fp16_scalar(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

int64_t argmax_scalar(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

// ---- the library's ops
void rms_norm_lib(const float* x, const float* w, float* y, int64_t n, float eps) { rms_norm(x, w, y, n, eps); }
void rope_lib(float* x, int n_heads, int head_dim, int rot_dim, int pos, const float* inv_freq) {
  rope(x, n_heads, head_dim, rot_dim, pos, inv_freq, RopeMode::kNormal);
}

struct Variant {
  void (*norm)(const float*, const float*, float*, int64_t, float);
  void (*rope)(float*, int, int, int, int, const float*);
  void (*silu)(const float*, const float*, float*, int64_t);
  void (*add)(float*, const float*, int64_t);
  void (*fp16)(const float*, uint16_t*, int64_t);
  int64_t (*argmax)(const float*, int64_t);
};
constexpr Variant kScalar{rms_norm_scalar, rope_scalar, silu_mul_scalar, add_scalar, fp16_scalar, argmax_scalar};
constexpr Variant kVec{rms_norm_lib, rope_lib, silu_mul, add, vec_fp32_to_fp16, vec_argmax};

// Activations of one token with the magnitudes a real model has (unit-scale, FFN gates around ±4).
struct Token {
  std::vector<float> x, xb, w, q, k, v, gate, up, ffn, logits, inv_freq;
  std::vector<uint16_t> kc, vc;
  Token() {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    const auto fill = [&](std::vector<float>& v, size_t n, float scale) {
      v.resize(n);
      for (float& f : v) f = nd(rng) * scale;
    };
    fill(x, kEmbd, 1.0f), fill(xb, kEmbd, 1.0f), fill(w, kEmbd, 1.0f), fill(q, kHead * kHeadDim, 1.0f);
    fill(k, kKvDim, 1.0f), fill(v, kKvDim, 1.0f), fill(gate, kFf, 4.0f), fill(up, kFf, 1.0f), fill(ffn, kFf, 0.0f);
    fill(logits, kVocab, 3.0f);
    inv_freq.resize(kHeadDim / 2);
    rope_inv_freq(kHeadDim, 500000.0f, 1.0f, nullptr, inv_freq.data());
    kc.resize(kKvDim), vc.resize(kKvDim);
  }
};

void DecodeStep(benchmark::State& state, const Variant& f) {
  Token t;
  int pos = 0;
  for (auto _ : state) {
    for (int l = 0; l < kLayers; ++l) {
      f.norm(t.x.data(), t.w.data(), t.xb.data(), kEmbd, 1e-5f);
      f.rope(t.q.data(), kHead, kHeadDim, kHeadDim, pos, t.inv_freq.data());
      f.rope(t.k.data(), kHeadKv, kHeadDim, kHeadDim, pos, t.inv_freq.data());
      f.fp16(t.k.data(), t.kc.data(), kKvDim);
      f.fp16(t.v.data(), t.vc.data(), kKvDim);
      f.add(t.x.data(), t.xb.data(), kEmbd);
      f.norm(t.x.data(), t.w.data(), t.xb.data(), kEmbd, 1e-5f);
      f.silu(t.gate.data(), t.up.data(), t.ffn.data(), kFf);  // not in place: the same gates every iteration
      f.add(t.x.data(), t.xb.data(), kEmbd);
    }
    f.norm(t.x.data(), t.w.data(), t.xb.data(), kEmbd, 1e-5f);
    benchmark::DoNotOptimize(f.argmax(t.logits.data(), kVocab));
    benchmark::ClobberMemory();
    pos = (pos + 1) % 4096;
  }
}
BENCHMARK_CAPTURE(DecodeStep, scalar, kScalar)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(DecodeStep, vec, kVec)->Unit(benchmark::kMicrosecond);

void OpSilu(benchmark::State& state, const Variant& f) {
  Token t;
  std::vector<float> out(kFf);
  for (auto _ : state) {
    for (int l = 0; l < kLayers; ++l) f.silu(t.gate.data(), t.up.data(), out.data(), kFf);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK_CAPTURE(OpSilu, scalar, kScalar)->Name("Op/silu_mul/scalar")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(OpSilu, vec, kVec)->Name("Op/silu_mul/vec")->Unit(benchmark::kMicrosecond);

void OpNorm(benchmark::State& state, const Variant& f) {
  Token t;
  for (auto _ : state) {
    for (int l = 0; l < 2 * kLayers + 1; ++l) f.norm(t.x.data(), t.w.data(), t.xb.data(), kEmbd, 1e-5f);
    benchmark::DoNotOptimize(t.xb.data());
  }
}
BENCHMARK_CAPTURE(OpNorm, scalar, kScalar)->Name("Op/rms_norm/scalar")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(OpNorm, vec, kVec)->Name("Op/rms_norm/vec")->Unit(benchmark::kMicrosecond);

void OpRope(benchmark::State& state, const Variant& f) {
  Token t;
  int pos = 0;
  for (auto _ : state) {
    for (int l = 0; l < kLayers; ++l) {
      f.rope(t.q.data(), kHead, kHeadDim, kHeadDim, pos, t.inv_freq.data());
      f.rope(t.k.data(), kHeadKv, kHeadDim, kHeadDim, pos, t.inv_freq.data());
    }
    benchmark::DoNotOptimize(t.q.data());
    pos = (pos + 1) % 4096;
  }
}
BENCHMARK_CAPTURE(OpRope, scalar, kScalar)->Name("Op/rope/scalar")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(OpRope, vec, kVec)->Name("Op/rope/vec")->Unit(benchmark::kMicrosecond);

void OpArgmax(benchmark::State& state, const Variant& f) {
  Token t;
  for (auto _ : state) benchmark::DoNotOptimize(f.argmax(t.logits.data(), kVocab));
}
BENCHMARK_CAPTURE(OpArgmax, scalar, kScalar)->Name("Op/argmax/scalar")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(OpArgmax, vec, kVec)->Name("Op/argmax/vec")->Unit(benchmark::kMicrosecond);

void OpKvWrite(benchmark::State& state, const Variant& f) {
  Token t;
  for (auto _ : state) {
    for (int l = 0; l < kLayers; ++l) {
      f.fp16(t.k.data(), t.kc.data(), kKvDim);
      f.fp16(t.v.data(), t.vc.data(), kKvDim);
    }
    benchmark::DoNotOptimize(t.kc.data());
  }
}
BENCHMARK_CAPTURE(OpKvWrite, scalar, kScalar)->Name("Op/kv_fp16/scalar")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(OpKvWrite, vec, kVec)->Name("Op/kv_fp16/vec")->Unit(benchmark::kMicrosecond);

// One decode token's activation conversions: `quantize` (a Q8_0 or Q8_K row quantizer) over every Linear input
// of the 1B shape, each row then expanded by `expand_type`'s row-interleaved ops when given (and this CPU has
// them; otherwise the benchmark is skipped).
void QuantizeToken(benchmark::State& state, void (*quantize)(const float*, void*, int64_t), GgmlType act_type,
                   GgmlType expand_type) {
  const RepackOps* ops = nullptr;
  if (expand_type != GgmlType::F32) {
    ops = repack_ops_best(expand_type);
    if (ops == nullptr) return state.SkipWithError("no row-interleaved kernels for this type on this CPU");
  }
  Token t;
  const TypeTraits& act = *type_traits(act_type);
  std::vector<uint8_t> q(row_bytes(act, kFf)), acts(ops != nullptr ? ops->act_row_bytes(kFf) : 0);
  const auto convert = [&](const float* x, int64_t n) {
    quantize(x, q.data(), n);
    if (ops != nullptr) ops->expand_acts(q.data(), n, acts.data());
  };
  for (auto _ : state) {
    for (int l = 0; l < kLayers; ++l) {
      convert(t.xb.data(), kEmbd);  // Q/K/V
      convert(t.q.data(), kEmbd);   // Wo over the attention output
      convert(t.x.data(), kEmbd);   // gate/up
      convert(t.gate.data(), kFf);  // down
    }
    convert(t.w.data(), kEmbd);  // output head
    benchmark::DoNotOptimize(q.data());
    benchmark::DoNotOptimize(acts.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * (kLayers * (3 * kEmbd + kFf) + kEmbd));
}
BENCHMARK_CAPTURE(QuantizeToken, q8_k_scalar, q8_k_from_float, GgmlType::Q8_K, GgmlType::F32)
    ->Name("Quantize/q8_k/scalar")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(QuantizeToken, q8_k_simd, simd_quantize_q8_k, GgmlType::Q8_K, GgmlType::F32)
    ->Name("Quantize/q8_k/simd")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(QuantizeToken, q8_k_tq2, simd_quantize_q8_k, GgmlType::Q8_K, GgmlType::TQ2_0)
    ->Name("Quantize/q8_k+tq2_0/simd")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(QuantizeToken, q8_k_q2k, simd_quantize_q8_k, GgmlType::Q8_K, GgmlType::Q2_K)
    ->Name("Quantize/q8_k+q2_k/simd")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(QuantizeToken, q8_0_scalar, q8_0_from_float, GgmlType::Q8_0, GgmlType::F32)
    ->Name("Quantize/q8_0/scalar")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(QuantizeToken, q8_0_simd, simd_quantize_q8_0, GgmlType::Q8_0, GgmlType::F32)
    ->Name("Quantize/q8_0/simd")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(QuantizeToken, q8_0_q4_0, simd_quantize_q8_0, GgmlType::Q8_0, GgmlType::Q4_0)
    ->Name("Quantize/q8_0+q4_0/simd")
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace edgellm
