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
#include "core/cpu_features.h"
#include "kernels/repack.h"
#include "kernels/simd_kquant.h"
#include "kernels/type_traits.h"

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers (inside _mm512_reduce_add_epi64) as uninitialized when
// inlined into a target-attributed function; the warning says nothing about this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#endif

namespace edgellm {
namespace {

using bench::make_weight;
using bench::random_floats;
using bench::Shape;

constexpr size_t kDramBytes = size_t{96} << 20;
double g_stream_gbs = 0;  // StreamRead's last rate (it is registered first)

void set_counters(benchmark::State& state, size_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  if (g_stream_gbs > 0)
    state.counters["bw_frac"] = benchmark::Counter(static_cast<double>(bytes) / (g_stream_gbs * 1e9),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) uint64_t sum_avx512(const uint8_t* p, size_t n) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < n; i += 256) {
    s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + i));
    s1 = _mm512_add_epi64(s1, _mm512_load_si512(p + i + 64));
    s2 = _mm512_add_epi64(s2, _mm512_load_si512(p + i + 128));
    s3 = _mm512_add_epi64(s3, _mm512_load_si512(p + i + 192));
  }
  return static_cast<uint64_t>(
      _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3))));
}
#endif

void BM_StreamRead(benchmark::State& state) {
#if defined(__x86_64__)
  if (!cpu_features().avx512f) return state.SkipWithError("no AVX-512");
  AlignedBuffer buf(kDramBytes);
  for (size_t i = 0; i < buf.size(); i += 4096) buf.data()[i] = static_cast<uint8_t>(i >> 12);
  // CPU time, like bytes_per_second: on a shared machine wall time counts other processes' slices.
  const double start = thread_seconds();
  for (auto _ : state) benchmark::DoNotOptimize(sum_avx512(buf.data(), buf.size()));
  const double took = thread_seconds() - start;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(buf.size()));
  g_stream_gbs = static_cast<double>(buf.size()) * static_cast<double>(state.iterations()) / took / 1e9;
#else
  state.SkipWithError("x86-64 only");
#endif
}

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

// Copies of one matrix: enough to exceed kDramBytes, or one when hot.
size_t copies_for(size_t matrix, bool hot) { return hot ? 1 : (kDramBytes + matrix - 1) / matrix; }

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
  set_counters(state, copies * matrix);
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
  set_counters(state, copies.size() * matrix);
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
  benchmark::RegisterBenchmark("StreamRead", BM_StreamRead)->Unit(benchmark::kMillisecond);
  const GgmlType types[] = {GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q5_K};
  struct Case {
    Shape s;
    bool hot;
  };
  const Case cases[] = {
      {{2048, 2048}, false}, {{8192, 2048}, false}, {{2048, 8192}, false}, {{32000, 2048}, false}, {{256, 2048}, true}};
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
