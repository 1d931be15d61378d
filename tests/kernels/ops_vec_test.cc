// The Highway element-wise kernels (kernels/ops_vec.h, behind ops.h's rms_norm/silu_mul/add/rope) against plain
// scalar references kept here, on odd lengths and extreme values, on every Highway target this CPU can execute.
#include "kernels/ops_vec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "hwy_targets.h"
#include "kernels/ops.h"

namespace edgellm {
namespace {

constexpr int64_t kLengths[] = {1, 3, 17, 1000, 8193};
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kUlp = 0x1.0p-23;  // one float ULP relative to the value, at most

std::vector<float> random_vec(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = nd(rng);
  return v;
}

// The scalar loops ops.cc ran before the Highway kernels: the references.
void rms_norm_ref(const float* x, const float* w, float* y, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = w != nullptr ? x[i] * r * w[i] : x[i] * r;
}

void rope_ref(float* x, int n_heads, int head_dim, int rot_dim, int pos, const float* inv_freq, RopeMode mode) {
  const int half = rot_dim / 2;
  for (int i = 0; i < half; ++i) {
    const float theta = static_cast<float>(pos) * inv_freq[i];
    const float c = std::cos(theta), s = std::sin(theta);
    const int i0 = mode == RopeMode::kNormal ? 2 * i : i;
    const int i1 = mode == RopeMode::kNormal ? 2 * i + 1 : i + half;
    for (int h = 0; h < n_heads; ++h) {
      float* p = x + static_cast<int64_t>(h) * head_dim;
      const float a = p[i0], b = p[i1];
      p[i0] = a * c - b * s;
      p[i1] = a * s + b * c;
    }
  }
}

int64_t argmax_ref(const float* x, int64_t n) {
  if (n <= 0) return -1;
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

TEST(OpsVec, RmsNormMatchesScalarOnEveryTarget) {
  for_each_hwy_target(&ops_vec_dispatched_target, [] {
    for (int64_t n : kLengths) {
      SCOPED_TRACE(n);
      const std::vector<float> x = random_vec(n, 11, 3.0f), w = random_vec(n, 12, 1.0f);
      // The double sum differs from the serial one only in summation order (≤ n·2⁻⁵³ relative).
      double ss = 0;
      for (float v : x) ss += static_cast<double>(v) * v;
      EXPECT_NEAR(vec_sum_squares(x.data(), n), ss, 1e-13 * static_cast<double>(n) * ss);
      std::vector<float> y(x.size()), ref(x.size());
      rms_norm(x.data(), w.data(), y.data(), n, 1e-5f);
      rms_norm_ref(x.data(), w.data(), ref.data(), n, 1e-5f);
      // Same expression per element; the scale r may differ by its last bit from the reordered sum.
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], ref[i], 2 * kUlp * std::fabs(ref[i])) << i;
      std::vector<float> z = x;  // in place, no weight
      rms_norm(z.data(), nullptr, z.data(), n, 1e-5f);
      rms_norm_ref(x.data(), nullptr, ref.data(), n, 1e-5f);
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(z[i], ref[i], 2 * kUlp * std::fabs(ref[i])) << i;
    }
  });
}

TEST(OpsVec, ScaleMulIsExactlyTheScalarExpression) {
  for_each_hwy_target(&ops_vec_dispatched_target, [] {
    for (int64_t n : kLengths) {
      const std::vector<float> x = random_vec(n, 13, 2.0f), w = random_vec(n, 14, 1.0f);
      std::vector<float> y(x.size());
      vec_scale_mul(x.data(), 0.37f, w.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], x[i] * 0.37f * w[i]) << n << " " << i;
    }
  });
}

TEST(OpsVec, SiluMulWithinFourUlpOfExactOnEveryTarget) {
  for_each_hwy_target(&ops_vec_dispatched_target, [] {
    for (int64_t n : kLengths) {
      SCOPED_TRACE(n);
      std::vector<float> g = random_vec(n, 15, 4.0f);
      const std::vector<float> u = random_vec(n, 16, 1.0f);
      // Extremes where they fit: exp(−g) overflowing (g < −88.7), underflowing, exactly zero, signed zero.
      const float extremes[] = {-100.0f, -88.5f, -87.0f, 100.0f, 0.0f, -0.0f, 1e-30f, -20.0f};
      for (size_t k = 0; k < std::size(extremes) && k * 3 < g.size(); ++k) g[k * 3] = extremes[k];
      std::vector<float> out(g.size());
      silu_mul(g.data(), u.data(), out.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double gd = g[i];
        const double exact = gd / (1.0 + std::exp(-gd)) * u[i];
        EXPECT_NEAR(out[i], exact, 4 * kUlp * std::fabs(exact) + 1e-36 * std::fabs(u[i])) << "g=" << g[i];
      }
      std::vector<float> alias = g;  // out aliasing gate
      silu_mul(alias.data(), u.data(), alias.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(alias[i], out[i]) << i;
    }
  });
}

TEST(OpsVec, AddIsExact) {
  for_each_hwy_target(&ops_vec_dispatched_target, [] {
    for (int64_t n : kLengths) {
      const std::vector<float> a0 = random_vec(n, 17, 1.0f), b = random_vec(n, 18, 5.0f);
      std::vector<float> a = a0;
      add(a.data(), b.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(a[i], a0[i] + b[i]) << n << " " << i;
    }
  });
}

TEST(OpsVec, RopeMatchesScalarBothModesOnEveryTarget) {
  struct Shape {
    int head_dim, rot_dim;
  };
  // Full and partial rotation, pair counts that are not a multiple of any vector width, and a rotation longer than
  // ops.cc's 256-pair table chunk.
  const Shape shapes[] = {{64, 64}, {18, 10}, {6, 2}, {130, 128}, {1000, 600}};
  for_each_hwy_target(&ops_vec_dispatched_target, [&] {
    for (const Shape sh : shapes) {
      for (int n_heads : {1, 3, 17}) {
        for (RopeMode mode : {RopeMode::kNormal, RopeMode::kNeox}) {
          for (int pos : {0, 7, 5000}) {
            SCOPED_TRACE(testing::Message() << "hd " << sh.head_dim << " rot " << sh.rot_dim << " heads " << n_heads
                                            << " neox " << (mode == RopeMode::kNeox) << " pos " << pos);
            std::vector<float> inv(static_cast<size_t>(sh.rot_dim / 2));
            rope_inv_freq(sh.rot_dim, 500000.0f, 1.0f, nullptr, inv.data());
            const std::vector<float> x0 = random_vec(static_cast<int64_t>(n_heads) * sh.head_dim, 19, 2.0f);
            std::vector<float> x = x0, ref = x0;
            rope(x.data(), n_heads, sh.head_dim, sh.rot_dim, pos, inv.data(), mode);
            rope_ref(ref.data(), n_heads, sh.head_dim, sh.rot_dim, pos, inv.data(), mode);
            // A fused multiply-add rounds once where the scalar expression rounds twice: ≤ 1 ULP of the larger
            // product, bounded by max(|a|, |b|), plus the reference's own rounding.
            const int half = sh.rot_dim / 2;
            for (int h = 0; h < n_heads; ++h) {
              for (int i = 0; i < sh.head_dim; ++i) {
                const int64_t j = static_cast<int64_t>(h) * sh.head_dim + i;
                int partner = -1;
                if (i < sh.rot_dim) {
                  partner = mode == RopeMode::kNormal ? (i ^ 1) : (i < half ? i + half : i - half);
                }
                const double mag = std::fabs(x0[j]) + (partner >= 0 ? std::fabs(x0[h * sh.head_dim + partner]) : 0.0);
                ASSERT_NEAR(x[j], ref[j], 2 * kUlp * mag) << "h " << h << " i " << i;
                if (partner < 0) {
                  ASSERT_EQ(x[j], x0[j]);  // dimensions past rot_dim untouched
                }
              }
            }
          }
        }
      }
    }
  });
}

TEST(OpsVec, Fp16ConversionIsBitExactOnEveryTarget) {
  for_each_hwy_target(&ops_vec_dispatched_target, [] {
    for (int64_t n : kLengths) {
      SCOPED_TRACE(n);
      std::vector<float> x = random_vec(n, 20, 1.0f);
      std::mt19937 rng(21);
      for (size_t i = 0; i < x.size(); ++i) {
        // A third random bit patterns (every exponent: subnormal halves, overflow, inf), a third scaled normals.
        if (i % 3 == 1) {
          uint32_t bits = static_cast<uint32_t>(rng());
          if ((bits & 0x7f800000u) == 0x7f800000u) bits &= 0xff80'0000u;  // inf, not NaN (checked below)
          std::memcpy(&x[i], &bits, sizeof(float));
        } else if (i % 3 == 2) {
          x[i] *= std::ldexp(1.0f, static_cast<int>(i % 50) - 30);
        }
      }
      const float edges[] = {65504.0f, 65520.0f, 65519.996f, -kInf, 0x1.0p-24f, 0x1.8p-25f, 0x1.0p-25f, -0.0f};
      for (size_t k = 0; k < std::size(edges) && k * 5 < x.size(); ++k) x[k * 5] = edges[k];
      std::vector<uint16_t> y(x.size());
      vec_fp32_to_fp16(x.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], fp32_to_fp16(x[i])) << "x=" << x[i];
      x[0] = std::numeric_limits<float>::quiet_NaN();
      vec_fp32_to_fp16(x.data(), y.data(), n);
      EXPECT_TRUE(std::isnan(fp16_to_fp32(y[0])));
    }
  });
}

TEST(OpsVec, ArgmaxIsThePlainLoopIncludingTiesZerosAndNan) {
  for_each_hwy_target(&ops_vec_dispatched_target, [] {
    std::vector<int64_t> lengths(std::begin(kLengths), std::end(kLengths));
    lengths.push_back(32000);
    for (int64_t n : lengths) {
      SCOPED_TRACE(n);
      std::vector<float> x = random_vec(n, 22, 1.0f);
      EXPECT_EQ(vec_argmax(x.data(), n), argmax_ref(x.data(), n));
      // Few distinct values: the maximum occurs many times and the first one must win.
      for (float& v : x) v = std::round(v);
      EXPECT_EQ(vec_argmax(x.data(), n), argmax_ref(x.data(), n));
      // All zeros of both signs: the first element.
      for (size_t i = 0; i < x.size(); ++i) x[i] = i % 2 != 0 ? 0.0f : -0.0f;
      EXPECT_EQ(vec_argmax(x.data(), n), 0);
      // Infinities, and a NaN at the front, the middle or the end (the loop's answer depends on where).
      x = random_vec(n, 23, 1.0f);
      x[static_cast<size_t>(n / 2)] = kInf;
      EXPECT_EQ(vec_argmax(x.data(), n), argmax_ref(x.data(), n));
      for (int64_t at : {int64_t{0}, n / 3, n - 1}) {
        std::vector<float> y = random_vec(n, 24, 1.0f);
        y[static_cast<size_t>(at)] = std::numeric_limits<float>::quiet_NaN();
        EXPECT_EQ(vec_argmax(y.data(), n), argmax_ref(y.data(), n)) << "NaN at " << at;
      }
    }
    EXPECT_EQ(vec_argmax(nullptr, 0), -1);
  });
}

}  // namespace
}  // namespace edgellm
