// Tiny random-weight llama/qwen2/qwen3 models written with GgufWriter, plus a naive float reference
// forward pass (straightforward loops, independent of kernels/ops and model/blocks) to check the engine.
// Header-only so both model_tests and runtime_tests can use it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "format/gguf.h"

namespace edgellm::test {

struct TinySpec {
  std::string arch = "llama";
  int n_vocab = 67, n_embd = 64, n_layer = 2, n_head = 4, n_head_kv = 2, n_ff = 96;
  int head_dim = 0;  // 0 = n_embd / n_head (written as key_length when non-zero)
  int n_ctx_train = 128;
  float eps = 1e-5f;
  float freq_base = 10000.0f;
  bool tied = false;        // no output.weight
  bool rope_freqs = false;  // llama3 rope_freqs.weight with factors in [1, 4]
  uint64_t seed = 7;
  int hd() const { return head_dim > 0 ? head_dim : n_embd / n_head; }
};

// Float weights by tensor name, each stored row-major [rows][cols] (= GGUF dims {cols, rows}).
struct TinyModel {
  TinySpec spec;
  std::map<std::string, std::vector<float>> w;
  const std::vector<float>& at(const std::string& n) const { return w.at(n); }
};

inline std::string blk(int i, const char* s) { return "blk." + std::to_string(i) + "." + s; }

inline TinyModel make_tiny_model(const TinySpec& s) {
  TinyModel m;
  m.spec = s;
  std::mt19937 rng(static_cast<uint32_t>(s.seed));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const auto rnd = [&](size_t n, float scale, float offset) {
    std::vector<float> v(n);
    for (float& x : v) x = offset + scale * nd(rng);
    return v;
  };
  const size_t d = static_cast<size_t>(s.n_embd), qd = static_cast<size_t>(s.n_head * s.hd()),
               kvd = static_cast<size_t>(s.n_head_kv * s.hd()), ff = static_cast<size_t>(s.n_ff);
  m.w["token_embd.weight"] = rnd(static_cast<size_t>(s.n_vocab) * d, 1.0f, 0);
  for (int i = 0; i < s.n_layer; ++i) {
    m.w[blk(i, "attn_norm.weight")] = rnd(d, 0.1f, 1);
    m.w[blk(i, "attn_q.weight")] = rnd(qd * d, 0.15f, 0);
    m.w[blk(i, "attn_k.weight")] = rnd(kvd * d, 0.15f, 0);
    m.w[blk(i, "attn_v.weight")] = rnd(kvd * d, 0.15f, 0);
    m.w[blk(i, "attn_output.weight")] = rnd(d * qd, 0.1f, 0);
    if (s.arch == "qwen2") {
      m.w[blk(i, "attn_q.bias")] = rnd(qd, 0.1f, 0);
      m.w[blk(i, "attn_k.bias")] = rnd(kvd, 0.1f, 0);
      m.w[blk(i, "attn_v.bias")] = rnd(kvd, 0.1f, 0);
    }
    if (s.arch == "qwen3") {
      m.w[blk(i, "attn_q_norm.weight")] = rnd(static_cast<size_t>(s.hd()), 0.1f, 1);
      m.w[blk(i, "attn_k_norm.weight")] = rnd(static_cast<size_t>(s.hd()), 0.1f, 1);
    }
    m.w[blk(i, "ffn_norm.weight")] = rnd(d, 0.1f, 1);
    m.w[blk(i, "ffn_gate.weight")] = rnd(ff * d, 0.15f, 0);
    m.w[blk(i, "ffn_up.weight")] = rnd(ff * d, 0.15f, 0);
    m.w[blk(i, "ffn_down.weight")] = rnd(d * ff, 0.1f, 0);
  }
  m.w["output_norm.weight"] = rnd(d, 0.1f, 1);
  if (!s.tied) m.w["output.weight"] = rnd(static_cast<size_t>(s.n_vocab) * d, 0.15f, 0);
  if (s.rope_freqs) {
    std::vector<float> f(static_cast<size_t>(s.hd() / 2));
    for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + 3.0f * static_cast<float>(i) / static_cast<float>(f.size());
    m.w["rope_freqs.weight"] = f;
  }
  return m;
}

// Columns (innermost dim) of each tensor, from its name.
inline int64_t tiny_cols(const TinyModel& m, const std::string& name) {
  const TinySpec& s = m.spec;
  if (name.find("attn_output") != std::string::npos) return s.n_head * s.hd();
  if (name.find("ffn_down") != std::string::npos) return s.n_ff;
  if (name.find("_norm") != std::string::npos || name.find("bias") != std::string::npos ||
      name.find("rope_freqs") != std::string::npos)
    return static_cast<int64_t>(m.at(name).size());  // 1-D
  return s.n_embd;
}

// A writer holding `m` as F32 tensors and llama.cpp metadata; tests may edit it before writing.
inline GgufWriter tiny_writer(const TinyModel& m) {
  const TinySpec& s = m.spec;
  GgufWriter w;
  const std::string a = s.arch + ".";
  w.set("general.architecture", GgufValue::of_string(s.arch));
  w.set("general.name", GgufValue::of_string("tiny-" + s.arch));
  w.set(a + "context_length", GgufValue::of_u32(static_cast<uint32_t>(s.n_ctx_train)));
  w.set(a + "embedding_length", GgufValue::of_u32(static_cast<uint32_t>(s.n_embd)));
  w.set(a + "block_count", GgufValue::of_u32(static_cast<uint32_t>(s.n_layer)));
  w.set(a + "feed_forward_length", GgufValue::of_u32(static_cast<uint32_t>(s.n_ff)));
  w.set(a + "attention.head_count", GgufValue::of_u32(static_cast<uint32_t>(s.n_head)));
  w.set(a + "attention.head_count_kv", GgufValue::of_u32(static_cast<uint32_t>(s.n_head_kv)));
  if (s.head_dim > 0) {
    w.set(a + "attention.key_length", GgufValue::of_u32(static_cast<uint32_t>(s.head_dim)));
    w.set(a + "attention.value_length", GgufValue::of_u32(static_cast<uint32_t>(s.head_dim)));
  }
  w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::of_f32(s.eps));
  w.set(a + "rope.freq_base", GgufValue::of_f32(s.freq_base));
  for (const auto& [name, v] : m.w) {
    const int64_t cols = tiny_cols(m, name);
    const bool is_vector = name.find("_norm") != std::string::npos || name.find("bias") != std::string::npos ||
                           name.find("rope_freqs") != std::string::npos;
    std::vector<int64_t> dims{cols};
    if (!is_vector) dims.push_back(static_cast<int64_t>(v.size()) / cols);
    std::vector<uint8_t> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    Status st = w.add_tensor(name, GgmlType::F32, dims, std::move(bytes));
    if (!st) ADD_FAILURE() << st.message();
  }
  return w;
}

// ---- Naive reference forward pass --------------------------------------------------------------------

inline void ref_matvec(const std::vector<float>& W, const float* x, int rows, int cols, float* y) {
  for (int r = 0; r < rows; ++r) {
    double acc = 0;
    for (int c = 0; c < cols; ++c) acc += static_cast<double>(W[static_cast<size_t>(r) * cols + c]) * x[c];
    y[r] = static_cast<float>(acc);
  }
}

inline void ref_rmsnorm(const float* x, const std::vector<float>& w, float eps, int n, float* y) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const double r = 1.0 / std::sqrt(ss / n + eps);
  for (int i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] * r * w[static_cast<size_t>(i)]);
}

// Rotates one head in place, computing angles from scratch (no shared table).
inline void ref_rope(float* h, int hd, int pos, float base, bool neox, const std::vector<float>* factors) {
  for (int i = 0; i < hd / 2; ++i) {
    double theta = pos * std::pow(static_cast<double>(base), -2.0 * i / hd);
    if (factors != nullptr) theta /= (*factors)[static_cast<size_t>(i)];
    const int a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
    const double x0 = h[a], x1 = h[b];
    h[a] = static_cast<float>(x0 * std::cos(theta) - x1 * std::sin(theta));
    h[b] = static_cast<float>(x0 * std::sin(theta) + x1 * std::cos(theta));
  }
}

// Logits of the last of `tokens`, processing the whole sequence at once. Keys and values are rounded
// through F16 because the engine's KV cache stores them that way (a format decision, not an op).
inline std::vector<float> reference_logits(const TinyModel& m, const std::vector<int32_t>& tokens) {
  const TinySpec& s = m.spec;
  const int d = s.n_embd, hd = s.hd(), nh = s.n_head, nkv = s.n_head_kv, qd = nh * hd, kvd = nkv * hd;
  const int T = static_cast<int>(tokens.size());
  const bool neox = s.arch != "llama";
  const std::vector<float>* factors = s.rope_freqs ? &m.at("rope_freqs.weight") : nullptr;
  std::vector<std::vector<float>> x(static_cast<size_t>(T), std::vector<float>(static_cast<size_t>(d)));
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < d; ++i) x[t][i] = m.at("token_embd.weight")[static_cast<size_t>(tokens[t]) * d + i];
  std::vector<float> xb(d), q(qd), att(qd), o(d), g(s.n_ff), u(s.n_ff);
  for (int l = 0; l < s.n_layer; ++l) {
    std::vector<std::vector<float>> K(T, std::vector<float>(kvd)), V(T, std::vector<float>(kvd)),
        Q(T, std::vector<float>(qd));
    for (int t = 0; t < T; ++t) {
      ref_rmsnorm(x[t].data(), m.at(blk(l, "attn_norm.weight")), s.eps, d, xb.data());
      ref_matvec(m.at(blk(l, "attn_q.weight")), xb.data(), qd, d, Q[t].data());
      ref_matvec(m.at(blk(l, "attn_k.weight")), xb.data(), kvd, d, K[t].data());
      ref_matvec(m.at(blk(l, "attn_v.weight")), xb.data(), kvd, d, V[t].data());
      if (s.arch == "qwen2") {
        for (int i = 0; i < qd; ++i) Q[t][i] += m.at(blk(l, "attn_q.bias"))[i];
        for (int i = 0; i < kvd; ++i) K[t][i] += m.at(blk(l, "attn_k.bias"))[i];
        for (int i = 0; i < kvd; ++i) V[t][i] += m.at(blk(l, "attn_v.bias"))[i];
      }
      for (int h = 0; h < nh; ++h) {
        if (s.arch == "qwen3") ref_rmsnorm(&Q[t][h * hd], m.at(blk(l, "attn_q_norm.weight")), s.eps, hd, &Q[t][h * hd]);
        ref_rope(&Q[t][h * hd], hd, t, s.freq_base, neox, factors);
      }
      for (int h = 0; h < nkv; ++h) {
        if (s.arch == "qwen3") ref_rmsnorm(&K[t][h * hd], m.at(blk(l, "attn_k_norm.weight")), s.eps, hd, &K[t][h * hd]);
        ref_rope(&K[t][h * hd], hd, t, s.freq_base, neox, factors);
      }
      for (int i = 0; i < kvd; ++i) {
        K[t][i] = fp16_to_fp32(fp32_to_fp16(K[t][i]));
        V[t][i] = fp16_to_fp32(fp32_to_fp16(V[t][i]));
      }
    }
    for (int t = 0; t < T; ++t) {
      for (int h = 0; h < nh; ++h) {
        const int kvh = h / (nh / nkv);
        std::vector<double> sc(t + 1);
        double mx = -1e300;
        for (int j = 0; j <= t; ++j) {
          double dot = 0;
          for (int i = 0; i < hd; ++i) dot += static_cast<double>(Q[t][h * hd + i]) * K[j][kvh * hd + i];
          sc[j] = dot / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (double& v : sc) sum += (v = std::exp(v - mx));
        for (int i = 0; i < hd; ++i) {
          double acc = 0;
          for (int j = 0; j <= t; ++j) acc += sc[j] / sum * V[j][kvh * hd + i];
          att[h * hd + i] = static_cast<float>(acc);
        }
      }
      ref_matvec(m.at(blk(l, "attn_output.weight")), att.data(), d, qd, o.data());
      for (int i = 0; i < d; ++i) x[t][i] += o[i];
      ref_rmsnorm(x[t].data(), m.at(blk(l, "ffn_norm.weight")), s.eps, d, xb.data());
      ref_matvec(m.at(blk(l, "ffn_gate.weight")), xb.data(), s.n_ff, d, g.data());
      ref_matvec(m.at(blk(l, "ffn_up.weight")), xb.data(), s.n_ff, d, u.data());
      for (int i = 0; i < s.n_ff; ++i)
        g[i] = static_cast<float>(g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i]);
      ref_matvec(m.at(blk(l, "ffn_down.weight")), g.data(), d, s.n_ff, o.data());
      for (int i = 0; i < d; ++i) x[t][i] += o[i];
    }
  }
  ref_rmsnorm(x[T - 1].data(), m.at("output_norm.weight"), s.eps, d, xb.data());
  std::vector<float> logits(s.n_vocab);
  ref_matvec(m.at(s.tied ? "token_embd.weight" : "output.weight"), xb.data(), s.n_vocab, d, logits.data());
  return logits;
}

}  // namespace edgellm::test
