// Highway loops for the probe: the FMA peak is measured at whatever vector width the dispatched target
// has (AVX-512 here), which is the width the engine's own float kernels use.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "measure/probe_kernels.cc"
#include "measure/probe_kernels.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

double FmaLoop(int64_t iters, float seed, float* sink) {
  const hn::ScalableTag<float> d;
  // Eight independent chains hide the FMA latency (4 cycles) on two FMA ports.
  auto a0 = hn::Set(d, seed), a1 = hn::Set(d, seed + 1), a2 = hn::Set(d, seed + 2), a3 = hn::Set(d, seed + 3);
  auto a4 = hn::Set(d, seed + 4), a5 = hn::Set(d, seed + 5), a6 = hn::Set(d, seed + 6), a7 = hn::Set(d, seed + 7);
  const auto m = hn::Set(d, 0.999999f), c = hn::Set(d, 1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
    a0 = hn::MulAdd(a0, m, c);
    a1 = hn::MulAdd(a1, m, c);
    a2 = hn::MulAdd(a2, m, c);
    a3 = hn::MulAdd(a3, m, c);
    a4 = hn::MulAdd(a4, m, c);
    a5 = hn::MulAdd(a5, m, c);
    a6 = hn::MulAdd(a6, m, c);
    a7 = hn::MulAdd(a7, m, c);
  }
  auto s = hn::Add(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)), hn::Add(hn::Add(a4, a5), hn::Add(a6, a7)));
  *sink = hn::GetLane(hn::SumOfLanes(d, s));
  return 2.0 * 8.0 * static_cast<double>(hn::Lanes(d)) * static_cast<double>(iters);
}

uint64_t ReadSum(const uint8_t* data, size_t bytes) {
  const hn::ScalableTag<uint64_t> d;
  const auto* p = reinterpret_cast<const uint64_t*>(data);
  const size_t n = bytes / sizeof(uint64_t), N = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    s0 = hn::Add(s0, hn::LoadU(d, p + i));
    s1 = hn::Add(s1, hn::LoadU(d, p + i + N));
    s2 = hn::Add(s2, hn::LoadU(d, p + i + 2 * N));
    s3 = hn::Add(s3, hn::LoadU(d, p + i + 3 * N));
  }
  uint64_t sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < n; ++i) sum += p[i];
  return sum;
}

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(FmaLoop);
HWY_EXPORT(ReadSum);

double fma_loop(int64_t iters, float seed, float* sink) { return HWY_DYNAMIC_DISPATCH(FmaLoop)(iters, seed, sink); }
uint64_t read_sum(const uint8_t* data, size_t bytes) { return HWY_DYNAMIC_DISPATCH(ReadSum)(data, bytes); }

}  // namespace edgellm
#endif
