// Highway kernels for kernels/ops_simd.h: F16 rows are widened with the target's conversion instruction
// (F16C on AVX2/AVX3) so attention over the KV cache does not pay for software half conversion.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/ops_simd.cc"
#include "kernels/ops_simd.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "core/fp16.h"

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float DotF16F32(int64_t n, const uint16_t* k, const float* q) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const auto* kh = reinterpret_cast<const hwy::float16_t*>(k);
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    acc0 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, kh + i)), hn::LoadU(df, q + i), acc0);
    acc1 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, kh + i + N)), hn::LoadU(df, q + i + N), acc1);
  }
  for (; i + N <= n; i += N) acc0 = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, kh + i)), hn::LoadU(df, q + i), acc0);
  float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(acc0, acc1)));
  for (; i < n; ++i) sum += fp16_to_fp32(k[i]) * q[i];
  return sum;
}

void AxpyF16(int64_t n, float a, const uint16_t* v, float* y) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const auto* vh = reinterpret_cast<const hwy::float16_t*>(v);
  const int64_t N = static_cast<int64_t>(hn::Lanes(df));
  const auto va = hn::Set(df, a);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::MulAdd(va, hn::PromoteTo(df, hn::LoadU(dh, vh + i)), hn::LoadU(df, y + i)), df, y + i);
  }
  for (; i < n; ++i) y[i] += a * fp16_to_fp32(v[i]);
}

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(DotF16F32);
HWY_EXPORT(AxpyF16);

const F16OpKernels& f16_op_kernels() {
  static const F16OpKernels k = [] {
    // The dispatch tables start out pointing at a target-choosing trampoline; choose before taking pointers.
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
    return F16OpKernels{&HWY_DYNAMIC_DISPATCH(DotF16F32), &HWY_DYNAMIC_DISPATCH(AxpyF16)};
  }();
  return k;
}

}  // namespace edgellm
#endif  // HWY_ONCE
