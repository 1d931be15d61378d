// Decode GEMV from DRAM, one thread: the row-interleaved repack kernels (kernels/repack.h) against the in-place
// x86 GEMV (kernels/x86_gemv.h) for the 32-column legacy types, at Llama-3.2-1B / 3.1-8B shapes and the
// 32000-token output head, beside a plain AVX-512 read of the same size (the roofline of this run).
//
// Names:
//   Dram/<type>/<rows>x<cols>/<variant>[/tokens:3]  variant inplace = x86_gemv_best's kernel on GGUF rows;
//                                     repack-<isa> = the repack gemv of that instruction set (skipped when the
//                                     CPU lacks it). Enough copies of the matrix to exceed 96 MB are read one
//                                     after another, as the layers of a model are, so nothing is served from
//                                     the 32 MB L3. Activation expansion (once per matrix and token) included.
//   Hot/<type>/<rows>x<cols>/<variant>[/tokens:3]  one ~0.6 MB matrix read again and again from L2: the
//                                     kernel's compute ceiling (bw_frac > 1 means it could outrun DRAM).
//   StreamRead                        one thread summing 96 MB with 64-byte loads.
// bytes_per_second = GGUF weight bytes per CPU second (the repacked copy has the same size, ±32 B per row
// group); bw_frac = that over StreamRead's rate of the same process.
// Rerun, comparing variants in the same minute (noisy shared machine):
//   build/bin/repack_bench --benchmark_filter='StreamRead|Dram/q4_0/(2048x8192|8192x2048)/'
//     --benchmark_repetitions=3 --benchmark_min_time=0.3   (one line)
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/aligned_buffer.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"
#include "kernels/x86_gemv.h"

namespace edgellm {
namespace {

using bench::make_weight;
using bench::random_floats;
using bench::Shape;

// The token's Q8_0 activations (n_tokens rows).
std::vector<uint8_t> quantized_acts(const TypeTraits& t, int64_t cols, int64_t n_tokens) {
  const TypeTraits& a = *type_traits(t.vec_dot_type);
  const size_t xrow = row_bytes(a, cols);
  std::vector<uint8_t> xq(xrow * static_cast<size_t>(n_tokens));
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    const std::vector<float> x = random_floats(cols, 7 + static_cast<unsigned>(tok));
    a.from_float(x.data(), xq.data() + xrow * static_cast<size_t>(tok), cols);
  }
  return xq;
}

void BM_Inplace(benchmark::State& state, GgmlType type, Shape s, int64_t n_tokens, size_t target_bytes) {
  const TypeTraits& t = *type_traits(type);
  const GemvKernel k = x86_gemv_best(type);
  if (k.fn == nullptr) return state.SkipWithError("no in-place kernel on this CPU");
  const std::vector<uint8_t> w = make_weight(t, s);
  const size_t rb = row_bytes(t, s.cols), matrix = rb * static_cast<size_t>(s.rows);
  const size_t copies = std::max<size_t>(1, (target_bytes + matrix - 1) / matrix);
  AlignedBuffer all(copies * matrix);
  for (size_t c = 0; c < copies; ++c) std::copy(w.begin(), w.end(), all.data() + c * matrix);
  const std::vector<uint8_t> xq = quantized_acts(t, s.cols, n_tokens);
  const size_t xrow = row_bytes(*type_traits(t.vec_dot_type), s.cols), arow = gemv_act_row_bytes(s.cols);
  AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
  std::vector<float> y(static_cast<size_t>(s.rows * n_tokens));
  for (auto _ : state) {
    for (size_t c = 0; c < copies; ++c) {
      for (int64_t tok = 0; tok < n_tokens; ++tok)
        gemv_expand_acts(xq.data() + xrow * tok, s.cols, k.offset, acts.data() + arow * tok);
      GemvTask task;
      task.w = all.data() + c * matrix;
      task.w_stride = rb;
      task.cols = s.cols;
      task.acts = acts.data();
      task.n_tokens = n_tokens;
      task.y = y.data();
      task.y_stride = s.rows;
      task.row_end = s.rows;
      k.fn(task);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bench::set_bytes(state, copies * matrix);
}

void BM_Repack(benchmark::State& state, GgmlType type, RepackIsa isa, Shape s, int64_t n_tokens,
               size_t target_bytes) {
  const TypeTraits& t = *type_traits(type);
  const RepackOps* ops = repack_ops(type, isa);
  if (ops == nullptr) return state.SkipWithError("no repack kernel for this type and CPU");
  const std::vector<uint8_t> w = make_weight(t, s);
  const size_t rb = row_bytes(t, s.cols), matrix = rb * static_cast<size_t>(s.rows);
  const size_t n_copies = std::max<size_t>(1, (target_bytes + matrix - 1) / matrix);
  std::vector<RepackedWeight> copies;
  for (size_t c = 0; c < n_copies; ++c) {
    Result<RepackedWeight> p = repack_weight(*ops, w.data(), s.rows, s.cols, rb);
    if (!p.is_ok()) return state.SkipWithError(p.status().message().c_str());
    copies.push_back(std::move(p.value()));
  }
  const std::vector<uint8_t> xq = quantized_acts(t, s.cols, n_tokens);
  const size_t xrow = row_bytes(*type_traits(t.vec_dot_type), s.cols), arow = ops->act_row_bytes(s.cols);
  AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
  std::vector<float> y(static_cast<size_t>(s.rows * n_tokens));
  for (auto _ : state) {
    for (const RepackedWeight& c : copies) {
      for (int64_t tok = 0; tok < n_tokens; ++tok)
        ops->expand_acts(xq.data() + xrow * tok, s.cols, acts.data() + arow * tok);
      ops->gemv(c, 0, c.tiles, acts.data(), arow, n_tokens, y.data(), s.rows);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bench::set_bytes(state, n_copies * matrix);
}

const char* isa_name(RepackIsa isa) {
  switch (isa) {
    case RepackIsa::kAvx512Vnni:
      return "avx512vnni";
    case RepackIsa::kAvxVnni:
      return "avxvnni";
    case RepackIsa::kAvx2:
      return "avx2";
    case RepackIsa::kNeonDot:
      return "neondot";
  }
  return "?";
}

int register_all() {
  benchmark::RegisterBenchmark("StreamRead", bench::stream_read)->Unit(benchmark::kMillisecond);
  const GgmlType types[] = {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1};
  const Shape shapes[] = {{2048, 2048}, {8192, 2048}, {2048, 8192}, {32000, 2048}, {14336, 4096}};
  const Shape hot_shapes[] = {{512, 2048}, {128, 8192}};  // ~0.6 MB of Q4_0: served from L2
  for (GgmlType type : types) {
    const std::string tname = type_traits(type)->name;
    for (bool hot : {false, true})
      for (const Shape& s : hot ? std::vector<Shape>(std::begin(hot_shapes), std::end(hot_shapes))
                                : std::vector<Shape>(std::begin(shapes), std::end(shapes)))
        for (int64_t n : {1, 3}) {
          const std::string prefix = std::string(hot ? "Hot/" : "Dram/") + tname + "/" + std::to_string(s.rows) +
                                     "x" + std::to_string(s.cols) + "/";
          const std::string suffix = n == 1 ? "" : "/tokens:" + std::to_string(n);
          const size_t bytes = hot ? 0 : bench::kDramBytes;
          if (n <= kGemvMaxTokens)
            benchmark::RegisterBenchmark((prefix + "inplace" + suffix).c_str(), BM_Inplace, type, s, n, bytes)
                ->Unit(benchmark::kMicrosecond);
          for (RepackIsa isa : {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2})
            benchmark::RegisterBenchmark((prefix + "repack-" + isa_name(isa) + suffix).c_str(), BM_Repack, type,
                                         isa, s, n, bytes)
                ->Unit(benchmark::kMicrosecond);
        }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace edgellm
