// F32 ops against naive double-precision references, on random inputs of odd sizes.
#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/ops_simd.h"

namespace edgellm {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

TEST(Ops, RmsNormMatchesReference) {
  for (int64_t n : {1, 7, 63, 897}) {
    std::vector<float> x = random_vec(static_cast<size_t>(n), 1, 3.0f), w = random_vec(static_cast<size_t>(n), 2);
    std::vector<float> y(static_cast<size_t>(n));
    rms_norm(x.data(), w.data(), y.data(), n, 1e-6f);
    double ss = 0;
    for (float v : x) ss += static_cast<double>(v) * v;
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-6);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], x[i] * r * w[i], 1e-5 * (1 + std::fabs(x[i] * r * w[i])));
    rms_norm(x.data(), nullptr, x.data(), n, 1e-6f);  // in place, no weight
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(x[i] * w[i], y[i], 1e-5 * (1 + std::fabs(y[i])));
  }
}

TEST(Ops, SoftmaxIsStableForHugeLogitsAndMasks) {
  std::vector<float> x = {1000.0f, 999.0f, -std::numeric_limits<float>::infinity(), 998.0f};
  softmax(x.data(), 4);
  const double z = 1 + std::exp(-1.0) + std::exp(-2.0);
  EXPECT_NEAR(x[0], 1 / z, 1e-6);
  EXPECT_NEAR(x[1], std::exp(-1.0) / z, 1e-6);
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_NEAR(x[3], std::exp(-2.0) / z, 1e-6);
  std::vector<float> y = random_vec(131, 3, 20.0f);
  softmax(y.data(), 131);
  double sum = 0;
  for (float v : y) {
    EXPECT_TRUE(std::isfinite(v));
    sum += v;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(Ops, SiluMulAndAdd) {
  std::vector<float> g = random_vec(37, 4, 3.0f), u = random_vec(37, 5), out(37), a = g;
  silu_mul(g.data(), u.data(), out.data(), 37);
  for (size_t i = 0; i < 37; ++i) EXPECT_NEAR(out[i], g[i] / (1 + std::exp(-static_cast<double>(g[i]))) * u[i], 1e-5);
  add(a.data(), u.data(), 37);
  for (size_t i = 0; i < 37; ++i) EXPECT_FLOAT_EQ(a[i], g[i] + u[i]);
}

// Rotation angle of pair i computed independently: pos * base^(-2i/rot) / factor_i.
void ref_rope(std::vector<float>& x, int n_heads, int hd, int rot, int pos, float base, const float* factors,
              bool neox) {
  for (int h = 0; h < n_heads; ++h) {
    for (int i = 0; i < rot / 2; ++i) {
      double th = pos * std::pow(static_cast<double>(base), -2.0 * i / rot);
      if (factors != nullptr) th /= factors[i];
      const int a = h * hd + (neox ? i : 2 * i), b = h * hd + (neox ? i + rot / 2 : 2 * i + 1);
      const double x0 = x[a], x1 = x[b];
      x[a] = static_cast<float>(x0 * std::cos(th) - x1 * std::sin(th));
      x[b] = static_cast<float>(x0 * std::sin(th) + x1 * std::cos(th));
    }
  }
}

TEST(Ops, RopeBothModesWithPartialRotationAndFactors) {
  const int n_heads = 3, hd = 20;
  for (bool neox : {false, true}) {
    for (int rot : {20, 12}) {
      for (bool with_factors : {false, true}) {
        std::vector<float> factors(static_cast<size_t>(rot / 2));
        for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + static_cast<float>(i) * 0.7f;
        const float* f = with_factors ? factors.data() : nullptr;
        std::vector<float> inv(static_cast<size_t>(rot / 2));
        rope_inv_freq(rot, 10000.0f, 1.0f, f, inv.data());
        for (int pos : {0, 1, 17, 250}) {
          std::vector<float> x = random_vec(static_cast<size_t>(n_heads * hd), 7 + pos), ref = x;
          rope(x.data(), n_heads, hd, rot, pos, inv.data(), neox ? RopeMode::kNeox : RopeMode::kNormal);
          ref_rope(ref, n_heads, hd, rot, pos, 10000.0f, f, neox);
          for (size_t i = 0; i < x.size(); ++i)
            EXPECT_NEAR(x[i], ref[i], 2e-4) << "neox " << neox << " rot " << rot << " pos " << pos << " i " << i;
        }
      }
    }
  }
}

TEST(Ops, RopeModesPairDifferentDimensions) {
  // One head of 4: NORMAL mixes (0,1); NEOX mixes (0,2). A quarter turn makes the pairing visible.
  const float inv[2] = {static_cast<float>(std::numbers::pi / 2), 0.0f};
  float a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4};
  rope(a, 1, 4, 4, 1, inv, RopeMode::kNormal);
  rope(b, 1, 4, 4, 1, inv, RopeMode::kNeox);
  EXPECT_NEAR(a[0], -2, 1e-6);
  EXPECT_NEAR(a[1], 1, 1e-6);
  EXPECT_NEAR(b[0], -3, 1e-6);
  EXPECT_NEAR(b[2], 1, 1e-6);
}

TEST(Ops, F16KernelsMatchScalarOnOddSizes) {
  const F16OpKernels& k = f16_op_kernels();
  for (int64_t n : {1, 7, 16, 33, 128, 131}) {
    std::vector<float> q = random_vec(static_cast<size_t>(n), 21), vf = random_vec(static_cast<size_t>(n), 22);
    std::vector<uint16_t> h(vf.size());
    for (size_t i = 0; i < h.size(); ++i) h[i] = fp32_to_fp16(vf[i]);
    double dot = 0;
    for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(fp16_to_fp32(h[i])) * q[i];
    EXPECT_NEAR(k.dot(n, h.data(), q.data()), dot, 1e-4 * (1 + std::sqrt(static_cast<double>(n))));
    std::vector<float> y = q;
    k.axpy(n, 0.75f, h.data(), y.data());
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], q[i] + 0.75 * fp16_to_fp32(h[i]), 1e-5) << n << " " << i;
  }
}

// The attention softmax (vector exp) against the scalar one, odd lengths, wide ranges, an all −inf row.
TEST(Ops, SimdSoftmaxMatchesScalar) {
  const F16OpKernels& k = f16_op_kernels();
  for (int64_t n : {1, 5, 16, 17, 100, 1001}) {
    std::vector<float> x = random_vec(static_cast<size_t>(n), 40 + static_cast<uint32_t>(n));
    for (size_t i = 0; i < x.size(); ++i) x[i] *= i % 3 == 0 ? 60.0f : 4.0f;  // some far below the max
    std::vector<float> want = x;
    softmax(want.data(), n);
    k.softmax(x.data(), n);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_NEAR(x[i], want[i], 2e-6 * want[i] + 1e-7) << "n " << n << " i " << i;
      total += x[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-5) << n;
  }
  std::vector<float> masked(19, -std::numeric_limits<float>::infinity());
  k.softmax(masked.data(), 19);
  for (float v : masked) EXPECT_EQ(v, 0.0f);
}

TEST(Ops, AttentionMatchesNaiveGqaWithCausalMask) {
  const int n_head = 6, n_head_kv = 2, hd = 40, pos0 = 5, n_tokens = 7, n_ctx = 16;
  const int kvd = n_head_kv * hd, qd = n_head * hd;
  std::vector<float> q = random_vec(static_cast<size_t>(n_tokens * qd), 11);
  std::vector<float> kf = random_vec(static_cast<size_t>(n_ctx * kvd), 12),
                     vf = random_vec(static_cast<size_t>(n_ctx * kvd), 13);
  std::vector<uint16_t> k(kf.size()), v(vf.size());
  for (size_t i = 0; i < kf.size(); ++i) {
    k[i] = fp32_to_fp16(kf[i]);
    v[i] = fp32_to_fp16(vf[i]);
    kf[i] = fp16_to_fp32(k[i]);
    vf[i] = fp16_to_fp32(v[i]);
  }
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    const int group = n_head / n_head_kv;
    std::vector<float> out(q.size()), scratch(
        static_cast<size_t>(attention_scratch_floats(n_head, n_head_kv, hd, n_ctx, threads)));
    AttentionArgs a;
    a.q = q.data();
    a.k = k.data();
    a.v = v.data();
    a.out = out.data();
    a.n_tokens = n_tokens;
    a.pos0 = pos0;
    a.n_head = n_head;
    a.n_head_kv = n_head_kv;
    a.head_dim = hd;
    a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
    a.scratch = scratch.data();
    a.scratch_stride = group * n_ctx;
    attention(a, pool);
    for (int t = 0; t < n_tokens; ++t) {
      for (int h = 0; h < n_head; ++h) {
        const int kvh = h / (n_head / n_head_kv);
        std::vector<double> s;
        double mx = -1e300, sum = 0;
        for (int j = 0; j <= pos0 + t; ++j) {  // causal: positions after the token are never read
          double dot = 0;
          for (int d = 0; d < hd; ++d) dot += static_cast<double>(q[t * qd + h * hd + d]) * kf[j * kvd + kvh * hd + d];
          s.push_back(dot / std::sqrt(static_cast<double>(hd)));
          mx = std::max(mx, s.back());
        }
        for (double& x : s) sum += (x = std::exp(x - mx));
        for (int d = 0; d < hd; ++d) {
          double acc = 0;
          for (size_t j = 0; j < s.size(); ++j) acc += s[j] / sum * vf[j * kvd + kvh * hd + d];
          EXPECT_NEAR(out[t * qd + h * hd + d], acc, 1e-5) << "threads " << threads << " t " << t << " h " << h;
        }
      }
    }
  }
}

}  // namespace
}  // namespace edgellm
