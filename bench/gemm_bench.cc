// The prompt GEMM kernels (kernels/simd_gemm.h) called directly, one thread, for every weight type and
// every instruction-set variant this CPU runs: activations are expanded once outside the loop, so the
// figure is the kernel alone (repack + multiply), comparable between variants in the same run. Counters:
// GMAC/s (multiply-adds per second) and, for the repack's share, the weight bytes per second.
//   build/bin/gemm_bench --benchmark_filter='q4_0' --benchmark_repetitions=3
//   build/bin/gemm_bench --benchmark_filter='2048x8192' --benchmark_repetitions=3   (variants side by side)
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/aligned_buffer.h"
#include "kernels/simd_gemm.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

void BM_Gemm(benchmark::State& state, GgmlType type, GemmIsa isa, int64_t rows, int64_t cols, int64_t tokens) {
  if (!gemm_isa_supported(isa)) {
    state.SkipWithError("this CPU cannot run this variant");
    return;
  }
  const TypeTraits* t = type_traits(type);
  const TypeTraits* q8 = type_traits(t->vec_dot_type);
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> f(static_cast<size_t>(cols));
  const size_t w_row = row_bytes(*t, cols), x_row = row_bytes(*q8, cols);
  std::vector<uint8_t> w(w_row * static_cast<size_t>(rows));
  // 16 distinct rows, repeated: realistic block statistics without seconds of quantization.
  for (int64_t r = 0; r < rows; ++r) {
    if (r < 16) {
      for (float& v : f) v = dist(rng);
      t->from_float(f.data(), w.data() + static_cast<size_t>(r) * w_row, cols);
    } else {
      std::copy_n(w.data() + static_cast<size_t>(r % 16) * w_row, w_row, w.data() + static_cast<size_t>(r) * w_row);
    }
  }
  std::vector<uint8_t> xq(x_row);
  AlignedBuffer acts(gemm_acts_bytes(tokens, cols));
  const auto expand = q8->type == GgmlType::Q8_K ? gemm_acts_from_q8_k : gemm_acts_from_q8_0;
  for (int64_t k = 0; k < tokens; ++k) {
    for (float& v : f) v = dist(rng);
    q8->from_float(f.data(), xq.data(), cols);
    expand(xq.data(), cols, k, acts.data());
  }
  std::vector<float> y(static_cast<size_t>(rows * tokens));
  GemmTask task;
  task.w = w.data();
  task.w_stride = w_row;
  task.rows = rows;
  task.cols = cols;
  task.acts = acts.data();
  task.n_tokens = tokens;
  task.y = y.data();
  task.row_begin = 0;
  task.row_end = rows;
  const GemmFn fn = gemm_kernel_for(type, isa);
  for (auto _ : state) {
    fn(task);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(rows * cols * tokens), benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
}

int register_all() {
  const GgmlType types[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                            GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
  // Llama-3.2-1B's attention projection and FFN down projection (rows × columns).
  const std::pair<int64_t, int64_t> shapes[] = {{2048, 2048}, {2048, 8192}};
  const std::pair<GemmIsa, const char*> isas[] = {
      {GemmIsa::kAvx512Vnni, "avx512"}, {GemmIsa::kAvxVnni, "avxvnni"}, {GemmIsa::kAvx2, "avx2"}};
  for (const auto& [isa, isa_name] : isas)
    for (GgmlType type : types)
      for (const auto& [rows, cols] : shapes)
        for (int64_t tokens : {64, 512}) {
          const std::string name = std::string("Gemm/") + isa_name + "/" + type_traits(type)->name + "/" +
                                   std::to_string(rows) + "x" + std::to_string(cols) +
                                   "/tokens:" + std::to_string(tokens);
          benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, type, isa, rows, cols, tokens)
              ->Unit(benchmark::kMillisecond);
        }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
