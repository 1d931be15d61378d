// Table-lookup GEMV (elq formats, and TQ1_0/TQ2_0 on the ternary kernel) against llama.cpp-style types of similar size,
// through Linear::forward at Llama-3.2-1B layer shapes, 1 token (decode) and 16 tokens, 1 and 2 threads.
// bytes_per_second counts the stored weight bytes per call (the GGUF size, which bounds decode speed), so types compare
// at equal footing. Kernel-only runs on the calling thread (rates per CPU second, usable on a busy machine):
//   Decode/ (one matrix, from cache), DecodeDram/ (96 MB of copies) beside BM_StreamRead (the same run's roofline),
//   each for the Highway kernel (hwy) and the AVX-512 VBMI one (vbmi); ActTables/ the per-token table build:
//     lut_bench --benchmark_filter='StreamRead|DecodeDram/.*8192x2048' --benchmark_min_time=0.3
//   Prompt/ (lookup GEMV per token vs the VNNI GEMM, activation quantization included):
//     lut_bench --benchmark_filter='Prompt/.*tokens:(4|64)/' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "core/aligned_buffer.h"
#include "kernels/elq.h"
#include "kernels/lut_gemm.h"
#include "kernels/lut_gemv.h"
#include "kernels/matmul.h"
#include "kernels/type_traits.h"
#include "bench_util.h"

namespace edgellm {
namespace {

using bench::make_weight;
using bench::random_floats;
using bench::Shape;



void BM_Gemv(benchmark::State& state, uint32_t type_id, Shape shape, int64_t n_tokens, int threads) {
  const TypeTraits* t = type_traits(type_id);
  const std::vector<uint8_t> w = make_weight(*t, shape);
  auto lin = Linear::prepare(WeightView{static_cast<GgmlType>(type_id), shape.rows, shape.cols, w.data(), 0});
  if (!lin.is_ok()) {
    state.SkipWithError(lin.status().message().c_str());
    return;
  }
  const std::vector<float> x = random_floats(n_tokens * shape.cols);
  std::vector<float> y(static_cast<size_t>(n_tokens * shape.rows));
  ThreadPool pool(threads);
  MatmulScratch scratch;
  scratch.quantized_x.resize(lin->scratch_bytes(n_tokens));
  for (auto _ : state) {
    lin->forward(x.data(), n_tokens, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(w.size()));
  state.counters["bpw"] = 8.0 * static_cast<double>(w.size()) / static_cast<double>(shape.rows * shape.cols);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(shape.rows * shape.cols * n_tokens),
                         benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

const Shape kShapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}};

// Decode: the lookup kernel alone over all tiles of the packed matrix, on the calling thread, so the CPU time
// (and bytes_per_second, which counts the packed codes and coefficients read per call) stays meaningful on
// a busy machine.
void BM_Decode(benchmark::State& state, uint32_t type_id, Shape shape, LutGemvFn gemv) {
  const TypeTraits* t = type_traits(type_id);
  const std::vector<uint8_t> w = make_weight(*t, shape);
  Result<LutPacked> packed = lut_pack(type_id, shape.rows, shape.cols, w.data(), row_bytes(*t, shape.cols));
  if (!packed.is_ok()) {
    state.SkipWithError(packed.status().message().c_str());
    return;
  }
  const std::vector<float> x = random_floats(shape.cols);
  std::vector<BlockElqAct> act(static_cast<size_t>(shape.cols / kElqActBlock));
  elq_act_from_float(x.data(), act.data(), shape.cols);
  std::vector<float> y(static_cast<size_t>(shape.rows));
  for (auto _ : state) {
    gemv(*packed, 0, packed->tiles, act.data(), 0, 1, y.data(), shape.rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const size_t bytes = packed->codes.size() + packed->coeffs.size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.counters["packed_bpw"] = 8.0 * static_cast<double>(bytes) / static_cast<double>(shape.rows * shape.cols);
}

// Decode from DRAM: enough packed copies of the matrix (each from its own weights) to exceed 96 MB, well past
// the last-level cache, read one after another as the layers of a model are; bytes_per_second (CPU time)
// is then the kernel's share of the memory roofline.
void BM_DecodeDram(benchmark::State& state, uint32_t type_id, Shape shape, LutGemvFn gemv) {
  const TypeTraits* t = type_traits(type_id);
  const std::vector<uint8_t> w = make_weight(*t, shape);
  std::vector<LutPacked> copies;
  size_t total = 0;
  while (total < (size_t{96} << 20)) {
    Result<LutPacked> packed = lut_pack(type_id, shape.rows, shape.cols, w.data(), row_bytes(*t, shape.cols));
    if (!packed.is_ok()) {
      state.SkipWithError(packed.status().message().c_str());
      return;
    }
    total += packed->codes.size() + packed->coeffs.size();
    copies.push_back(std::move(*packed));
  }
  std::vector<float> x(static_cast<size_t>(shape.cols), 0.25f);
  std::vector<BlockElqAct> act(static_cast<size_t>(shape.cols / kElqActBlock));
  elq_act_from_float(x.data(), act.data(), shape.cols);
  std::vector<float> y(static_cast<size_t>(shape.rows));
  for (auto _ : state) {
    for (const LutPacked& p : copies) gemv(p, 0, p.tiles, act.data(), 0, 1, y.data(), shape.rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(total));
}

// The roofline of the DRAM cases in the same run (bench_util.h).
BENCHMARK(bench::stream_read)->Name("BM_StreamRead");

// Activation tables for one 8192-column input, the scalar builder against the AVX-512 one (one per matrix and
// token in decode).
void BM_ActTables(benchmark::State& state, LutActFn fn) {
  const std::vector<float> x = random_floats(8192);
  std::vector<BlockElqAct> act(8192 / kElqActBlock);
  for (auto _ : state) {
    fn(x.data(), act.data(), 8192);
    benchmark::DoNotOptimize(act.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 8192);
}

// Prompt processing on one thread, the two paths side by side in one process: the lookup kernel per token
// over each tile (gemv, what Linear ran for every token count before the GEMM), and the expansion to int8
// codes + VNNI GEMM (gemm, activation quantization included).
void BM_Prompt(benchmark::State& state, uint32_t type_id, Shape shape, int64_t n_tokens, bool gemm) {
  const TypeTraits* t = type_traits(type_id);
  const std::vector<uint8_t> w = make_weight(*t, shape);
  Result<LutPacked> packed = lut_pack(type_id, shape.rows, shape.cols, w.data(), row_bytes(*t, shape.cols));
  const LutGemmFn gemm_fn = lut_gemm_kernel();
  if (!packed.is_ok() || (gemm && gemm_fn == nullptr)) {
    state.SkipWithError(packed.is_ok() ? "no VNNI GEMM on this CPU" : packed.status().message().c_str());
    return;
  }
  const std::vector<float> x = random_floats(n_tokens * shape.cols);
  std::vector<float> y(static_cast<size_t>(n_tokens * shape.rows));
  const size_t act_row = gemm ? lut_gemm_act_row_bytes(shape.cols) : row_bytes(*type_traits(kElqActId), shape.cols);
  AlignedBuffer acts(act_row * static_cast<size_t>(n_tokens));
  const LutGemvFn gemv = lut_gemv_kernel();
  for (auto _ : state) {
    for (int64_t k = 0; k < n_tokens; ++k) {
      if (gemm)
        lut_gemm_acts_from_float(x.data() + k * shape.cols, shape.cols, acts.data() + k * act_row);
      else
        elq_act_from_float(x.data() + k * shape.cols, acts.data() + k * act_row, shape.cols);
    }
    if (gemm) {
      gemm_fn(*packed, 0, packed->tiles, acts.data(), n_tokens, y.data(), shape.rows);
    } else {
      for (int64_t tile = 0; tile < packed->tiles; ++tile)
        gemv(*packed, tile, tile + 1, acts.data(), act_row, n_tokens, y.data(), shape.rows);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(n_tokens), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(shape.rows * shape.cols * n_tokens),
                         benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

int register_all() {
  const uint32_t types[] = {static_cast<uint32_t>(GgmlType::Q4_0),
                            static_cast<uint32_t>(GgmlType::Q2_K),
                            elq_type_id(4, 64, false),
                            elq_type_id(4, 64, true),
                            elq_type_id(3, 64, false),
                            elq_type_id(2, 64, false),
                            elq_type_id(2, 128, false),
                            elq_ternary_id(128),
                            elq_type_id(1, 128, false),
                            static_cast<uint32_t>(GgmlType::TQ2_0),
                            static_cast<uint32_t>(GgmlType::TQ1_0)};
  for (uint32_t id : types)
    for (const Shape& s : kShapes)
      for (int64_t tokens : {1, 16})
        for (int threads : {1, 2}) {
          const std::string name = std::string("Gemv/") + type_traits(id)->name + "/" + std::to_string(s.rows) + "x" +
                                   std::to_string(s.cols) + "/tokens:" + std::to_string(tokens) +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_Gemv, id, s, tokens, threads)->UseRealTime();
        }
  // Decode kernels side by side: the Highway kernel of the best target (hwy) and the AVX-512 VBMI one (vbmi).
  std::vector<std::pair<std::string, LutGemvFn>> kernels = {{"hwy", &lut_gemv_dispatch}};
  if (lut_gemv_vbmi() != nullptr) kernels.emplace_back("vbmi", lut_gemv_vbmi());
  for (uint32_t id : {elq_type_id(4, 64, false), elq_type_id(3, 64, false), elq_type_id(3, 32, true),
                      elq_type_id(2, 64, false), elq_ternary_id(128), static_cast<uint32_t>(GgmlType::TQ2_0),
                      static_cast<uint32_t>(GgmlType::TQ1_0)})
    for (const Shape& s : {Shape{8192, 2048}, Shape{2048, 8192}})
      for (const auto& [kname, fn] : kernels) {
        const std::string name = std::string(type_traits(id)->name) + "/" + std::to_string(s.rows) + "x" +
                                 std::to_string(s.cols) + "/" + kname;
        benchmark::RegisterBenchmark(("Decode/" + name).c_str(), BM_Decode, id, s, fn);
        benchmark::RegisterBenchmark(("DecodeDram/" + name).c_str(), BM_DecodeDram, id, s, fn);
      }
  benchmark::RegisterBenchmark("ActTables/scalar", BM_ActTables, &elq_act_from_float);
  if (lut_act_avx512() != nullptr) benchmark::RegisterBenchmark("ActTables/avx512", BM_ActTables, lut_act_avx512());
  for (uint32_t id : {elq_type_id(4, 64, false), elq_type_id(3, 64, false), elq_type_id(2, 64, false),
                      elq_ternary_id(128), static_cast<uint32_t>(GgmlType::TQ1_0)})
    for (int64_t tokens : {2, 3, 4, 16, 64})
      for (bool gemm : {false, true}) {
        const std::string name = std::string("Prompt/") + type_traits(id)->name + "/2048x2048/tokens:" +
                                 std::to_string(tokens) + (gemm ? "/gemm" : "/gemv");
        benchmark::RegisterBenchmark(name.c_str(), BM_Prompt, id, Shape{2048, 2048}, tokens, gemm)->UseRealTime();
      }
  return 0;
}

const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
