// Decode GEMV from DRAM, one thread, for Q4_K, Q5_K and Q6_K: the row-interleaved repack kernels
// (kernels/repack_kquant.h) against the in-place row kernel Linear uses without them (simd_kquant_vec_dot: the
// AVX-512 VNNI one of x86_kquant.h on this kind of CPU), at Llama-3.2-1B / 3.1-8B shapes and the 32000-token
// output head, beside a plain AVX-512 read of the same size (the roofline of this run).
//
// Names:
//   Dram/<type>/<rows>x<cols>/<variant>[/tokens:N]  variant inplace = one vec_dot per row on GGUF rows (one
//                                     token); repack-<isa> = the repack gemv (skipped when the CPU lacks it).
//                                     Enough copies of the matrix to exceed 96 MB are read one after another,
//                                     as the layers of a model are, so nothing is served from the 32 MB L3.
//                                     Activation expansion (once per matrix and token) included.
//   Hot/<type>/256x2048/<variant>     one 256x2048 matrix read again and again (L2): the kernel's compute
//                                     speed, the ceiling the DRAM figure can reach.
//   StreamRead                        one thread summing 96 MB with 64-byte loads.
// bytes_per_second = GGUF weight bytes per CPU second (the Q6_K tiles are 0.95 % larger); bw_frac = that over
// StreamRead's rate (also per CPU second) of the same process.
// Rerun, comparing variants in the same minute (noisy shared machine):
//   build/bin/repack_kquant_bench --benchmark_filter='StreamRead|Dram/q4_K/' --benchmark_repetitions=3
//     --benchmark_min_time=0.3 --benchmark_report_aggregates_only=true   (one line)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/aligned_buffer.h"
#include "kernels/repack.h"
#include "kernels/simd_kquant.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

using bench::make_weight;
using bench::random_floats;
using bench::Shape;

// n_tokens Q8_K activation rows.
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

// Copies of one matrix: enough to exceed bench::kDramBytes, or one when hot.
size_t copies_for(size_t matrix, bool hot) { return hot ? 1 : (bench::kDramBytes + matrix - 1) / matrix; }

void BM_Inplace(benchmark::State& state, GgmlType type, Shape s, bool hot) {
  const TypeTraits& t = *type_traits(type);
  const VecDotFn dot = simd_kquant_vec_dot(type);
  const std::vector<uint8_t> w = make_weight(t, s);
  const size_t rb = row_bytes(t, s.cols), matrix = rb * static_cast<size_t>(s.rows);
  const size_t copies = copies_for(matrix, hot);
  AlignedBuffer all(copies * matrix);
  for (size_t c = 0; c < copies; ++c) std::copy(w.begin(), w.end(), all.data() + c * matrix);
  const std::vector<uint8_t> xq = quantized_acts(t, s.cols, 1);
  std::vector<float> y(static_cast<size_t>(s.rows));
  for (auto _ : state) {
    for (size_t c = 0; c < copies; ++c) {
      const uint8_t* m = all.data() + c * matrix;
      for (int64_t r = 0; r < s.rows; ++r)
        y[static_cast<size_t>(r)] = dot(s.cols, m + rb * static_cast<size_t>(r), xq.data());
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bench::set_bytes(state, copies * matrix);
}

void BM_Repack(benchmark::State& state, GgmlType type, RepackIsa isa, Shape s, int64_t n_tokens, bool hot) {
  const TypeTraits& t = *type_traits(type);
  const RepackOps* ops = repack_ops(type, isa);
  if (ops == nullptr) return state.SkipWithError("no repack kernel for this type and CPU");
  const std::vector<uint8_t> w = make_weight(t, s);
  const size_t rb = row_bytes(t, s.cols), matrix = rb * static_cast<size_t>(s.rows);
  std::vector<RepackedWeight> copies;
  for (size_t c = 0; c < copies_for(matrix, hot); ++c) {
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
      // As Linear does: passes of at most max_tokens tokens (the ymm kernels take 2).
      for (int64_t t0 = 0; t0 < n_tokens; t0 += ops->max_tokens)
        ops->gemv(c, 0, c.tiles, acts.data() + arow * t0, arow, std::min(ops->max_tokens, n_tokens - t0),
                  y.data() + t0 * s.rows, s.rows);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bench::set_bytes(state, copies.size() * matrix);
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
  const GgmlType types[] = {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q5_K};
  struct Case {
    Shape s;
    bool hot;
  };
  const Case cases[] = {
      {{2048, 2048}, false}, {{8192, 2048}, false}, {{2048, 8192}, false}, {{32000, 2048}, false},
      {{14336, 4096}, false}, {{256, 2048}, true}};
  for (GgmlType type : types) {
    const std::string tname = type_traits(type)->name;
    for (const Case& c : cases) {
      const Shape& s = c.s;
      const std::string prefix = std::string(c.hot ? "Hot/" : "Dram/") + tname + "/" + std::to_string(s.rows) + "x" +
                                 std::to_string(s.cols) + "/";
      benchmark::RegisterBenchmark((prefix + "inplace").c_str(), BM_Inplace, type, s, c.hot)
          ->Unit(benchmark::kMillisecond);
      for (int64_t n : {1, 4}) {
        if (n > 1 && c.hot) continue;
        const std::string suffix = n == 1 ? "" : "/tokens:" + std::to_string(n);
        for (RepackIsa isa : {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2})
          benchmark::RegisterBenchmark((prefix + "repack-" + isa_name(isa) + suffix).c_str(), BM_Repack, type, isa, s,
                                       n, c.hot)
              ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace edgellm
