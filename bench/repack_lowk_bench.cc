// Decode micro-benchmark of the row-interleaved Q2_K/Q3_K tiles (kernels/repack_lowk.h) against the in-place
// AVX-512 row kernel (kernels/x86_kquant.h) of the same type, single thread, in the same process, beside a plain
// streaming read (the roofline of this run).
//
// Shapes are Llama-3.2-1B / 3.1-8B matrices (2048×2048, 8192×2048, 2048×8192, 32000×2048 output head,
// 14336×4096 of the 8B), cycled over copies totalling >= 96 MB (3× a 32 MB L3), so weights come from DRAM as in
// decode; "Hot" repeats one 256×2048 matrix that stays in L2 (the compute ceiling). bytes_per_second = weight
// bytes read per second.
// Names: LowkGemv/<type>/<rows>x<cols>/<inplace|repack_t<tokens>|repack_avxvnni|repack_avx2>, LowkGemvHot/...,
// ReadRoofline (the 256-bit variants read the same tiles, one token).
//   build/bin/repack_lowk_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//   build/bin/repack_lowk_bench --benchmark_filter='q2_K/8192x2048|Read' --benchmark_repetitions=3
//   build/bin/repack_lowk_bench --benchmark_filter='LowkUnpack|LowkPack' --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/aligned_buffer.h"
#include "kernels/quants.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"
#include "kernels/x86_kquant.h"

namespace edgellm {
namespace {

constexpr size_t kWorkingSet = size_t{96} << 20;

// Copies of one matrix in both layouts, kept for the most recent (type, shape, hot).
struct Matrices {
  GgmlType type = GgmlType::F32;
  bench::Shape s{0, 0};
  bool hot = false;
  size_t bytes = 0;  // of one GGUF copy
  std::vector<std::vector<uint8_t>> gguf;
  std::vector<RepackedWeight> packed;
};

Matrices& matrices(GgmlType type, bench::Shape s, bool hot, const RepackOps* ops) {
  static Matrices m;
  if (m.type == type && m.s.rows == s.rows && m.s.cols == s.cols && m.hot == hot) return m;
  m = Matrices{};
  m.type = type;
  m.s = s;
  m.hot = hot;
  const auto one = bench::make_weight(*type_traits(type), s);
  m.bytes = one.size();
  const size_t n = hot ? 1 : (kWorkingSet + m.bytes - 1) / m.bytes;
  for (size_t c = 0; c < n; ++c) {
    m.gguf.push_back(one);
    if (ops != nullptr)
      m.packed.push_back(std::move(repack_weight(*ops, one.data(), s.rows, s.cols, one.size() / s.rows).value()));
  }
  return m;
}

std::vector<uint8_t> q8k_acts(int64_t cols, unsigned seed) {
  const auto xf = bench::random_floats(cols, seed);
  std::vector<uint8_t> xq(row_bytes(*type_traits(GgmlType::Q8_K), cols));
  q8_k_from_float(xf.data(), xq.data(), cols);
  return xq;
}

void inplace(benchmark::State& state, GgmlType type, bench::Shape s, bool hot) {
  const Matrices& m = matrices(type, s, hot, repack_ops(type, RepackIsa::kAvx512Vnni));
  const VecDotFn fn = x86_kquant_vec_dot(type, KquantIsa::kAvx512Vnni);
  const auto xq = q8k_acts(s.cols, 1);
  std::vector<float> y(static_cast<size_t>(s.rows));
  const size_t rb = m.bytes / static_cast<size_t>(s.rows);
  size_t k = 0;
  for (auto _ : state) {
    const uint8_t* w = m.gguf[k++ % m.gguf.size()].data();
    for (int64_t r = 0; r < s.rows; ++r)
      y[static_cast<size_t>(r)] = fn(s.cols, w + rb * static_cast<size_t>(r), xq.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m.bytes));
}

void repacked(benchmark::State& state, GgmlType type, bench::Shape s, bool hot, int64_t n_tokens, RepackIsa isa) {
  const RepackOps* ops = repack_ops(type, isa);
  // Every ISA's ops share one tile layout, so the cached AVX-512 copies serve them all.
  const Matrices& m = matrices(type, s, hot, repack_ops(type, RepackIsa::kAvx512Vnni));
  const size_t arow = ops->act_row_bytes(s.cols);
  AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t)
    ops->expand_acts(q8k_acts(s.cols, 1 + static_cast<unsigned>(t)).data(), s.cols, acts.data() + t * arow);
  std::vector<float> y(static_cast<size_t>(s.rows * n_tokens));
  size_t k = 0;
  for (auto _ : state) {
    const RepackedWeight& w = m.packed[k++ % m.packed.size()];
    ops->gemv(w, 0, w.tiles, acts.data(), arow, n_tokens, y.data(), s.rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m.bytes));
}

// The prompt path's per-call tile unpacking (repack_gemm) and the load-time packing: a 256×2048 matrix that stays in
// L2, bytes_per_second = tile bytes unpacked (or packed) per second. Names: LowkUnpack/<type>, LowkPack/<type>.
void unpack_tiles(benchmark::State& state, GgmlType type, bool pack) {
  const bench::Shape s{256, 2048};
  const RepackOps* ops = repack_ops(type, RepackIsa::kAvx512Vnni);
  const Matrices& m = matrices(type, s, true, ops);
  const RepackedWeight& w = m.packed[0];
  const size_t rb = m.bytes / static_cast<size_t>(s.rows);
  std::vector<uint8_t> rows(rb * 16), tile(ops->tile_bytes(s.cols));
  for (auto _ : state) {
    for (int64_t t = 0; t < w.tiles; ++t) {
      if (pack)
        ops->pack_tile(m.gguf[0].data() + rb * 16 * static_cast<size_t>(t), rb, 16, s.cols, tile.data());
      else
        ops->unpack_tile(w.tile(t), 16, s.cols, rows.data(), rb);
    }
    benchmark::DoNotOptimize(rows.data());
    benchmark::DoNotOptimize(tile.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * w.tiles *
                          static_cast<int64_t>(ops->tile_bytes(s.cols)));
}

// The DRAM read roofline: 64-bit sums over kWorkingSet bytes in 8 independent chains.
void read_roofline(benchmark::State& state) {
  const size_t words = kWorkingSet / sizeof(uint64_t);
  std::vector<uint64_t> buf(words);
  for (size_t i = 0; i < words; ++i) buf[i] = i;
  for (auto _ : state) {
    uint64_t sums[8] = {};
    for (size_t i = 0; i < words; i += 8)
      for (size_t j = 0; j < 8; ++j) sums[j] += buf[i + j];
    uint64_t total = 0;
    for (uint64_t v : sums) total += v;
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kWorkingSet));
}

int register_all() {
  benchmark::RegisterBenchmark("ReadRoofline", read_roofline)->Unit(benchmark::kMillisecond);
  struct Case {
    bench::Shape s;
    bool hot;
  };
  const Case cases[] = {
      {{2048, 2048}, false}, {{8192, 2048}, false}, {{2048, 8192}, false}, {{32000, 2048}, false},
      {{14336, 4096}, false}, {{256, 2048}, true}};
  for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K}) {
    const RepackOps* ops = repack_ops(type, RepackIsa::kAvx512Vnni);
    if (ops == nullptr || !x86_kquant_supported(KquantIsa::kAvx512Vnni)) continue;
    for (bool pack : {false, true})
      benchmark::RegisterBenchmark((std::string(pack ? "LowkPack/" : "LowkUnpack/") + type_traits(type)->name).c_str(),
                                   unpack_tiles, type, pack)
          ->Unit(benchmark::kMicrosecond);
    for (const Case& c : cases) {
      const std::string base = std::string(c.hot ? "LowkGemvHot/" : "LowkGemv/") + type_traits(type)->name + "/" +
                               std::to_string(c.s.rows) + "x" + std::to_string(c.s.cols) + "/";
      benchmark::RegisterBenchmark((base + "inplace").c_str(), inplace, type, c.s, c.hot)
          ->Unit(benchmark::kMicrosecond);
      for (int64_t t = 1; t <= ops->max_tokens; t *= 2)
        benchmark::RegisterBenchmark((base + "repack_t" + std::to_string(t)).c_str(), repacked, type, c.s, c.hot, t,
                                     RepackIsa::kAvx512Vnni)
            ->Unit(benchmark::kMicrosecond);
      // The 256-bit kernels over the same tiles, as CPUs without AVX-512 would run them.
      for (RepackIsa isa : {RepackIsa::kAvxVnni, RepackIsa::kAvx2})
        if (repack_ops(type, isa) != nullptr)
          benchmark::RegisterBenchmark((base + (isa == RepackIsa::kAvxVnni ? "repack_avxvnni" : "repack_avx2")).c_str(),
                                       repacked, type, c.s, c.hot, int64_t{1}, isa)
              ->Unit(benchmark::kMicrosecond);
    }
  }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
