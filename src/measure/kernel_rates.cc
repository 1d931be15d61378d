#include "measure/kernel_rates.h"

#include <time.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

// CPU seconds this process has used (every thread; the 1-thread pool runs the work on the caller).
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Operations per CPU-second of `forward(reps)`, reps doubling until a call takes a quarter of target_s, then
// the best of `tries` calls four times that long. CPU time, not wall time: on a shared machine the figure then
// describes the core while it runs the kernel, not how often other processes let it run.
template <class F>
double best_ops_per_cpu_s(double target_s, int tries, double ops_per_rep, F&& forward) {
  int64_t reps = 1;
  for (;;) {
    const double c0 = cpu_seconds();
    forward(reps);
    if (cpu_seconds() - c0 >= target_s / 4 || reps > (int64_t{1} << 30)) break;
    reps *= 2;
  }
  reps *= 4;
  double best = 0;
  for (int t = 0; t < tries; ++t) {
    const double c0 = cpu_seconds();
    forward(reps);
    const double s = cpu_seconds() - c0;
    if (s > 0) best = std::max(best, ops_per_rep * static_cast<double>(reps) / s);
  }
  return best;
}

}  // namespace

Result<KernelRates> probe_kernel_rates(GgmlType type, double target_s, int tries) {
  constexpr int64_t kRows = 256, kCols = 2048;
  const TypeTraits* t = type_traits(type);
  if (t == nullptr || t->from_float == nullptr || t->vec_dot == nullptr) {
    const char* name = ggml_type_name(static_cast<uint32_t>(type));
    return Status::error(std::string("kernel probe: edgellm cannot quantize to or multiply with type ") +
                         (name != nullptr ? name : std::to_string(static_cast<uint32_t>(type))));
  }
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  const size_t rb = row_bytes(*t, kCols);
  AlignedBuffer w(rb * kRows);
  std::vector<float> row(kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    for (float& f : row) f = dist(rng);
    t->from_float(row.data(), w.data() + rb * static_cast<size_t>(r), kCols);
  }
  EL_ASSIGN_OR_RETURN(Linear lin, Linear::prepare(WeightView{type, kRows, kCols, w.data(), rb}));
  std::vector<float> x(static_cast<size_t>(kCols * kPromptProbeTokens));
  std::vector<float> y(static_cast<size_t>(kRows * kPromptProbeTokens));
  std::normal_distribution<float> act(0.0f, 1.0f);
  for (float& v : x) v = act(rng);
  ThreadPool pool(1);
  MatmulScratch scratch;
  scratch.quantized_x.resize(lin.scratch_bytes(kPromptProbeTokens));
  KernelRates k;
  for (const int64_t tokens : {kPromptProbeTokens, int64_t{1}}) {
    const double ops = 2.0 * kRows * kCols * static_cast<double>(tokens);
    const double rate = best_ops_per_cpu_s(target_s, tries, ops, [&](int64_t reps) {
      for (int64_t i = 0; i < reps; ++i) lin.forward(x.data(), tokens, y.data(), pool, scratch);
    });
    (tokens == 1 ? k.decode_gops_1t : k.prompt_gops_1t) = rate * 1e-9;
  }
  return k;
}

}  // namespace edgellm
