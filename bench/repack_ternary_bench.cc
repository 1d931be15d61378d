// Ternary decode kernels side by side in one process, one thread, weights from DRAM (≥ 96 MB of copies):
// the row-interleaved int8 kernel (kernels/repack_ternary.h, Repack/) against the table-lookup kernel Linear
// ran before (kernels/lut_gemv.h, Lut/; its best target here), the 256-bit variants forced (RepackAvxVnni/,
// RepackAvx2/; TQ2_0 only), beside a plain read of 96 MB (StreamRead, the same run's roofline).
// bytes_per_second counts the bytes each kernel's layout reads per call (packed tiles; codes + coefficients),
// items_per_second the weights (the comparable figure: the LUT's ternary layout is 2 bits + scales per weight).
// Hot/ runs the AVX-512 kernel on one L2-resident copy (its instruction cost alone).
//   repack_ternary_bench --benchmark_filter='StreamRead|/tq2_0/' --benchmark_repetitions=3
//     --benchmark_report_aggregates_only=true --benchmark_min_time=0.3   (one command line)
//   repack_ternary_bench --benchmark_filter='StreamRead|Hot/tq1|Repack/tq1_0/.*tokens:1' --benchmark_repetitions=3
//     --benchmark_report_aggregates_only=true --benchmark_min_time=0.3   (TQ1_0 one token: DRAM vs stream, L2)
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench_util.h"
#include "core/aligned_buffer.h"
#include "kernels/elq.h"
#include "kernels/lut_gemv.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

using bench::make_weight;
using bench::random_floats;
using bench::Shape;

using bench::kDramBytes;

void BM_Repack(benchmark::State& state, GgmlType type, RepackIsa isa, Shape shape, int64_t n_tokens) {
  const TypeTraits& t = *type_traits(type);
  const RepackOps* ops = repack_ops(type, isa);
  if (ops == nullptr || n_tokens > ops->max_tokens) {
    state.SkipWithError("no repack kernel for this type and token count on this CPU");
    return;
  }
  const std::vector<uint8_t> w = make_weight(t, shape);
  std::vector<RepackedWeight> copies;
  size_t total = 0;
  int64_t weights = 0;
  while (total < kDramBytes) {
    auto packed = repack_weight(*ops, w.data(), shape.rows, shape.cols, row_bytes(t, shape.cols));
    if (!packed.is_ok()) {
      state.SkipWithError(packed.status().message().c_str());
      return;
    }
    total += packed->data.size();
    copies.push_back(std::move(*packed));
    weights += shape.rows * shape.cols;
  }
  const TypeTraits& a = *type_traits(t.vec_dot_type);
  const size_t xrow = row_bytes(a, shape.cols), arow = ops->act_row_bytes(shape.cols);
  std::vector<uint8_t> xq(xrow);
  AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
  for (int64_t k = 0; k < n_tokens; ++k) {
    const std::vector<float> x = random_floats(shape.cols, 7 + static_cast<unsigned>(k));
    a.from_float(x.data(), xq.data(), shape.cols);
    ops->expand_acts(xq.data(), shape.cols, acts.data() + static_cast<size_t>(k) * arow);
  }
  std::vector<float> y(static_cast<size_t>(shape.rows * n_tokens));
  for (auto _ : state) {
    for (const RepackedWeight& p : copies) ops->gemv(p, 0, p.tiles, acts.data(), arow, n_tokens, y.data(), shape.rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(total));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * weights);
}

// The same kernel with one copy of the weights small enough to stay in L2 (Hot/): its instruction cost alone, to
// compare with the DRAM rate (a kernel whose L2 rate is near the stream read cannot hide its work under the
// memory stalls).
void BM_RepackHot(benchmark::State& state, GgmlType type, Shape shape) {
  const TypeTraits& t = *type_traits(type);
  const RepackOps* ops = repack_ops(type, RepackIsa::kAvx512Vnni);
  if (ops == nullptr) {
    state.SkipWithError("no repack kernel for this type on this CPU");
    return;
  }
  const std::vector<uint8_t> w = make_weight(t, shape);
  auto packed = repack_weight(*ops, w.data(), shape.rows, shape.cols, row_bytes(t, shape.cols));
  if (!packed.is_ok()) {
    state.SkipWithError(packed.status().message().c_str());
    return;
  }
  const TypeTraits& a = *type_traits(t.vec_dot_type);
  const size_t arow = ops->act_row_bytes(shape.cols);
  std::vector<uint8_t> xq(row_bytes(a, shape.cols));
  AlignedBuffer acts(arow);
  const std::vector<float> x = random_floats(shape.cols);
  a.from_float(x.data(), xq.data(), shape.cols);
  ops->expand_acts(xq.data(), shape.cols, acts.data());
  std::vector<float> y(static_cast<size_t>(shape.rows));
  for (auto _ : state) {
    ops->gemv(*packed, 0, packed->tiles, acts.data(), arow, 1, y.data(), shape.rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(packed->data.size()));
}

void BM_Lut(benchmark::State& state, GgmlType type, Shape shape) {
  const TypeTraits& t = *type_traits(type);
  const std::vector<uint8_t> w = make_weight(t, shape);
  std::vector<LutPacked> copies;
  size_t total = 0;
  int64_t weights = 0;
  while (total < kDramBytes) {
    auto packed = lut_pack(static_cast<uint32_t>(type), shape.rows, shape.cols, w.data(), row_bytes(t, shape.cols));
    if (!packed.is_ok()) {
      state.SkipWithError(packed.status().message().c_str());
      return;
    }
    total += packed->codes.size() + packed->coeffs.size();
    copies.push_back(std::move(*packed));
    weights += shape.rows * shape.cols;
  }
  const std::vector<float> x = random_floats(shape.cols);
  std::vector<BlockElqAct> act(static_cast<size_t>(shape.cols / kElqActBlock));
  elq_act_from_float(x.data(), act.data(), shape.cols);
  std::vector<float> y(static_cast<size_t>(shape.rows));
  const LutGemvFn gemv = lut_gemv_kernel();
  for (auto _ : state) {
    for (const LutPacked& p : copies) gemv(p, 0, p.tiles, act.data(), 0, 1, y.data(), shape.rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(total));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * weights);
}

// The roofline of the DRAM cases in the same run (bench_util.h).
BENCHMARK(bench::stream_read)->Name("BM_StreamRead");

int register_all() {
  const Shape shapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}, {32000, 2048}, {14336, 4096}};
  for (GgmlType type : {GgmlType::TQ2_0, GgmlType::TQ1_0}) {
    benchmark::RegisterBenchmark((std::string("Hot/") + type_traits(type)->name + "/1024x2048").c_str(), BM_RepackHot,
                                 type, Shape{1024, 2048});
    for (const Shape& s : shapes) {
      const std::string shape =
          std::string(type_traits(type)->name) + "/" + std::to_string(s.rows) + "x" + std::to_string(s.cols);
      benchmark::RegisterBenchmark(("Lut/" + shape).c_str(), BM_Lut, type, s);
      for (int64_t tokens : {1, 4})
        benchmark::RegisterBenchmark(("Repack/" + shape + "/tokens:" + std::to_string(tokens)).c_str(), BM_Repack, type,
                                     RepackIsa::kAvx512Vnni, s, tokens);
      if (type != GgmlType::TQ2_0) continue;
      // The 256-bit kernels (CPUs without AVX-512), forced here.
      benchmark::RegisterBenchmark(("RepackAvxVnni/" + shape + "/tokens:1").c_str(), BM_Repack, type,
                                   RepackIsa::kAvxVnni, s, int64_t{1});
      benchmark::RegisterBenchmark(("RepackAvx2/" + shape + "/tokens:1").c_str(), BM_Repack, type, RepackIsa::kAvx2, s,
                                   int64_t{1});
    }
  }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
