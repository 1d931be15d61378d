// Highway kernels for kernels/ops_vec.h. A 1B model's decode step runs these ~16 layers × 7 times per token over
// 2048–8192 floats; as plain loops they cost ~0.6 ms per token on one core (SwiGLU's scalar expf alone ~0.3 ms,
// the double-precision norm sum a serial add chain, argmax a load-compare-cmov chain per logit), which is ~8 % of
// a TQ1_0 token. Written once with Highway's portable ops (no per-ISA code needed: nothing here is an int8 dot).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/ops_vec.cc"
#include "kernels/ops_vec.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// After highway.h: per-target like this file.
#include <hwy/contrib/math/math-inl.h>

#include <cmath>

#include "core/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

double SumSquares(const float* x, int64_t n) {
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;  // half a vector of floats, widened to a full vector of doubles
  const int64_t N = static_cast<int64_t>(hn::Lanes(dd));
  // Four accumulators hide the add latency; products are exact in double, as in the scalar loop.
  auto a0 = hn::Zero(dd), a1 = hn::Zero(dd), a2 = hn::Zero(dd), a3 = hn::Zero(dd);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    const auto v0 = hn::PromoteTo(dd, hn::LoadU(df, x + i));
    const auto v1 = hn::PromoteTo(dd, hn::LoadU(df, x + i + N));
    const auto v2 = hn::PromoteTo(dd, hn::LoadU(df, x + i + 2 * N));
    const auto v3 = hn::PromoteTo(dd, hn::LoadU(df, x + i + 3 * N));
    a0 = hn::MulAdd(v0, v0, a0);
    a1 = hn::MulAdd(v1, v1, a1);
    a2 = hn::MulAdd(v2, v2, a2);
    a3 = hn::MulAdd(v3, v3, a3);
  }
  for (; i + N <= n; i += N) {
    const auto v = hn::PromoteTo(dd, hn::LoadU(df, x + i));
    a0 = hn::MulAdd(v, v, a0);
  }
  double ss = hn::GetLane(hn::SumOfLanes(dd, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
  for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  return ss;
}

void ScaleMul(const float* x, float r, const float* w, float* y, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto vr = hn::Set(df, r);
  int64_t i = 0;
  if (w != nullptr) {
    for (; i + N <= n; i += N) hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, x + i), vr), hn::LoadU(df, w + i)), df, y + i);
    for (; i < n; ++i) y[i] = x[i] * r * w[i];
  } else {
    for (; i + N <= n; i += N) hn::StoreU(hn::Mul(hn::LoadU(df, x + i), vr), df, y + i);
    for (; i < n; ++i) y[i] = x[i] * r;
  }
}

// silu(g)·u = g / (1 + exp(−g)) · u. exp's valid range ends near +88 (float overflow), so −g is clamped there: for
// g < −88 the result is then g/(1 + 1.65e38)·u, within 1e-36·|u| of the exact value instead of an undefined one.
template <class D, class V>
HWY_INLINE V SiluMulVec(D df, V g, V u) {
  const auto e = hn::Exp(df, hn::Min(hn::Neg(g), hn::Set(df, 88.0f)));
  return hn::Mul(hn::Div(g, hn::Add(hn::Set(df, 1.0f), e)), u);
}

void SiluMul(const float* gate, const float* up, float* out, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(SiluMulVec(df, hn::LoadU(df, gate + i), hn::LoadU(df, up + i)), df, out + i);
  if (i < n) {
    // The tail through the same vector code (a partial vector via a zero-padded copy), so every element gets the
    // same rounding whatever n is.
    HWY_ALIGN float g[hn::MaxLanes(df)] = {}, u[hn::MaxLanes(df)] = {};
    for (int64_t j = i; j < n; ++j) g[j - i] = gate[j], u[j - i] = up[j];
    HWY_ALIGN float o[hn::MaxLanes(df)];
    hn::Store(SiluMulVec(df, hn::Load(df, g), hn::Load(df, u)), df, o);
    for (int64_t j = i; j < n; ++j) out[j] = o[j - i];
  }
}

void AddF32(float* a, const float* b, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(hn::Add(hn::LoadU(df, a + i), hn::LoadU(df, b + i)), df, a + i);
  for (; i < n; ++i) a[i] += b[i];
}

// y = x·cos + partner(x)·sin_signed per lane, where the partner of a lane is the other member of its pair.
void RopeApply(float* x, int n_heads, int head_dim, int half, int pair0, int n_pairs, const float* cs, RopeMode mode) {
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const float* c = cs;
  const float* s = cs + 2 * n_pairs;
  for (int h = 0; h < n_heads; ++h) {
    float* head = x + static_cast<int64_t>(h) * head_dim;
    int64_t i = 0;
    if (mode == RopeMode::kNormal) {
      float* p = head + 2 * pair0;
      const int64_t lanes = 2 * static_cast<int64_t>(n_pairs);
      // Pairs are adjacent lanes, so they never straddle a vector (N is even whenever N > 1).
      if (N > 1) {
        for (; i + N <= lanes; i += N) {
          const auto v = hn::LoadU(df, p + i);
          hn::StoreU(hn::MulAdd(hn::Reverse2(df, v), hn::LoadU(df, s + i), hn::Mul(v, hn::LoadU(df, c + i))), df,
                     p + i);
        }
      }
      for (; i < lanes; i += 2) {
        const float a = p[i], b = p[i + 1];
        p[i] = a * c[i] + b * s[i];
        p[i + 1] = b * c[i + 1] + a * s[i + 1];
      }
    } else {
      float* p0 = head + pair0;
      float* p1 = head + half + pair0;
      const float *c1 = c + n_pairs, *s1 = s + n_pairs;
      for (; i + N <= n_pairs; i += N) {
        const auto lo = hn::LoadU(df, p0 + i), hi = hn::LoadU(df, p1 + i);
        hn::StoreU(hn::MulAdd(hi, hn::LoadU(df, s + i), hn::Mul(lo, hn::LoadU(df, c + i))), df, p0 + i);
        hn::StoreU(hn::MulAdd(lo, hn::LoadU(df, s1 + i), hn::Mul(hi, hn::LoadU(df, c1 + i))), df, p1 + i);
      }
      for (; i < n_pairs; ++i) {
        const float a = p0[i], b = p1[i];
        p0[i] = a * c[i] + b * s[i];
        p1[i] = b * c1[i] + a * s1[i];
      }
    }
  }
}

void Fp32ToFp16(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
#if HWY_TARGET <= HWY_AVX2
  // F16C rounds to nearest even like fp32_to_fp16. Highway's emulation on SSE4 and below truncates instead, so
  // those targets keep the scalar conversion (the cached keys must not depend on the instruction set).
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto* yh = reinterpret_cast<hwy::float16_t*>(y);
  for (; i + N <= n; i += N) hn::StoreU(hn::DemoteTo(dh, hn::LoadU(df, x + i)), dh, yh + i);
#endif
  for (; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

static int64_t ArgMaxScalar(const float* x, int64_t begin, int64_t n, int64_t best) {
  for (int64_t i = begin; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

// Two passes over an L2-resident row (32000 logits are 128 KB): the largest value, then its first index. A NaN
// anywhere falls back to the plain loop, whose answer depends on where the NaN sits.
int64_t ArgMax(const float* x, int64_t n) {
  if (n <= 0) return -1;
  const hn::ScalableTag<float> df;
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  if (n < 4 * N) return ArgMaxScalar(x, 1, n, 0);
  auto m0 = hn::LoadU(df, x), m1 = m0, m2 = m0, m3 = m0;
  auto nan = hn::IsNaN(m0);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    const auto v0 = hn::LoadU(df, x + i), v1 = hn::LoadU(df, x + i + N);
    const auto v2 = hn::LoadU(df, x + i + 2 * N), v3 = hn::LoadU(df, x + i + 3 * N);
    nan = hn::Or(nan, hn::Or(hn::Or(hn::IsNaN(v0), hn::IsNaN(v1)), hn::Or(hn::IsNaN(v2), hn::IsNaN(v3))));
    m0 = hn::Max(m0, v0);
    m1 = hn::Max(m1, v1);
    m2 = hn::Max(m2, v2);
    m3 = hn::Max(m3, v3);
  }
  if (!hn::AllFalse(df, nan)) return ArgMaxScalar(x, 1, n, 0);
  float mx = hn::GetLane(hn::MaxOfLanes(df, hn::Max(hn::Max(m0, m1), hn::Max(m2, m3))));
  for (int64_t j = i; j < n; ++j) {
    if (std::isnan(x[j])) return ArgMaxScalar(x, 1, n, 0);
    mx = x[j] > mx ? x[j] : mx;
  }
  // No NaN: the first index holding the maximum is exactly what the plain loop returns (−0 == +0 included: the
  // loop keeps the first of equal values).
  const auto vm = hn::Set(df, mx);
  int64_t j = 0;
  for (; j + N <= n; j += N) {
    const intptr_t pos = hn::FindFirstTrue(df, hn::Eq(hn::LoadU(df, x + j), vm));
    if (pos >= 0) return j + pos;
  }
  for (; j < n; ++j)
    if (x[j] == mx) return j;
  return ArgMaxScalar(x, 1, n, 0);  // unreachable: mx is one of the x[j]
}

int64_t OpsVecDispatchedTarget() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(SumSquares);
HWY_EXPORT(ScaleMul);
HWY_EXPORT(SiluMul);
HWY_EXPORT(AddF32);
HWY_EXPORT(RopeApply);
HWY_EXPORT(Fp32ToFp16);
HWY_EXPORT(ArgMax);
HWY_EXPORT(OpsVecDispatchedTarget);

double vec_sum_squares(const float* x, int64_t n) { return HWY_DYNAMIC_DISPATCH(SumSquares)(x, n); }

void vec_scale_mul(const float* x, float r, const float* w, float* y, int64_t n) {
  HWY_DYNAMIC_DISPATCH(ScaleMul)(x, r, w, y, n);
}

void vec_silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  HWY_DYNAMIC_DISPATCH(SiluMul)(gate, up, out, n);
}

void vec_add(float* a, const float* b, int64_t n) { HWY_DYNAMIC_DISPATCH(AddF32)(a, b, n); }

void rope_table(int pair0, int n_pairs, int pos, const float* inv_freq, RopeMode mode, float* cs) {
  float* c = cs;
  float* s = cs + 2 * n_pairs;
  for (int k = 0; k < n_pairs; ++k) {
    const float theta = static_cast<float>(pos) * inv_freq[pair0 + k];
    const float ck = std::cos(theta), sk = std::sin(theta);
    const int j0 = mode == RopeMode::kNormal ? 2 * k : k;
    const int j1 = mode == RopeMode::kNormal ? 2 * k + 1 : n_pairs + k;
    c[j0] = c[j1] = ck;
    s[j0] = -sk;
    s[j1] = sk;
  }
}

void vec_rope_apply(float* x, int n_heads, int head_dim, int half, int pair0, int n_pairs, const float* cs,
                    RopeMode mode) {
  HWY_DYNAMIC_DISPATCH(RopeApply)(x, n_heads, head_dim, half, pair0, n_pairs, cs, mode);
}

void vec_fp32_to_fp16(const float* x, uint16_t* y, int64_t n) { HWY_DYNAMIC_DISPATCH(Fp32ToFp16)(x, y, n); }

int64_t vec_argmax(const float* x, int64_t n) { return HWY_DYNAMIC_DISPATCH(ArgMax)(x, n); }

int64_t ops_vec_dispatched_target() { return HWY_DYNAMIC_DISPATCH(OpsVecDispatchedTarget)(); }

}  // namespace edgellm
#endif  // HWY_ONCE
