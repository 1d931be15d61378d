// k-quant decode micro-benchmark: one GEMV (every row of a weight matrix against one Q8_K activation row),
// single thread, for Q2_K..Q6_K at two Llama-3.2-1B shapes, with every kernel variant this CPU runs side
// by side in the same process: the Highway kernel (best target), the hand-written 256-bit (AVX2) and
// 512-bit (AVX-512 VNNI) kernels of x86_kquant.h. A plain streaming read over the same amount of memory
// gives the roofline in the same run.
//
// The GEMV cycles through copies of the matrix totalling >= 128 MB (4× a 32 MB L3), so every iteration
// reads its weights from DRAM, as decode does. KquantGemvHot repeats one 256×2048 matrix that stays in
// L2: the kernel's compute speed, the ceiling the DRAM figure can reach. Names:
// KquantGemv/<type>/<rows>x<cols>/<variant>, KquantGemvHot/<type>/256x2048/<variant>, ReadRoofline;
// bytes_per_second is weight bytes read per second. On a shared machine compare variants
// of one run, with repetitions:
//   build/bin/kquant_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//   build/bin/kquant_bench --benchmark_filter='q4_K/8192x2048|Read' --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/quants.h"
#include "kernels/simd_kquant.h"
#include "kernels/type_traits.h"
#include "kernels/x86_kquant.h"

namespace edgellm {
namespace {

constexpr size_t kWorkingSet = size_t{128} << 20;

struct Shape {
  int64_t rows, cols;
};

// Copies of one random matrix (random level bytes, sane fp16 block scales) whose total size reaches
// kWorkingSet; kept for the most recent (type, shape), since benchmarks of one matrix run back to back.
struct Matrices {
  GgmlType type;
  int64_t rows = 0, cols = 0;
  size_t bytes = 0;  // of one copy
  std::vector<std::unique_ptr<uint8_t[]>> copies;
};

const Matrices& matrices(GgmlType type, const Shape& s, bool hot) {
  static Matrices cached;
  const size_t want_copies = hot ? 1 : 0;  // 0: enough for kWorkingSet
  if (!cached.copies.empty() && cached.type == type && cached.rows == s.rows && cached.cols == s.cols &&
      (cached.copies.size() == 1) == hot)
    return cached;
  cached.copies.clear();
  const TypeTraits& t = *type_traits(type);
  cached.type = type;
  cached.rows = s.rows;
  cached.cols = s.cols;
  cached.bytes = row_bytes(t, s.cols) * static_cast<size_t>(s.rows);
  std::mt19937 rng(7);
  auto one = std::make_unique<uint8_t[]>(cached.bytes);
  for (size_t i = 0; i < cached.bytes; ++i) one[i] = static_cast<uint8_t>(rng());
  // A block's fp16 scales sit at different offsets per type; overwrite them with 2^-6 so no block
  // produces inf/NaN (the kernels' speed does not depend on the values).
  const uint16_t d = fp32_to_fp16(1.0f / 64);
  const size_t blocks = cached.bytes / t.type_size;
  for (size_t b = 0; b < blocks; ++b) {
    uint8_t* blk = one.get() + b * t.type_size;
    size_t off[2] = {0, 2};  // Q4_K, Q5_K: d, dmin lead
    int count = 2;
    if (type == GgmlType::Q2_K) off[0] = offsetof(BlockQ2_K, d), off[1] = offsetof(BlockQ2_K, dmin);
    if (type == GgmlType::Q3_K) off[0] = offsetof(BlockQ3_K, d), count = 1;
    if (type == GgmlType::Q6_K) off[0] = offsetof(BlockQ6_K, d), count = 1;
    for (int k = 0; k < count; ++k) std::memcpy(blk + off[k], &d, sizeof(d));
  }
  const size_t n = want_copies != 0 ? want_copies : (kWorkingSet + cached.bytes - 1) / cached.bytes;
  for (size_t c = 0; c < n; ++c) {
    auto copy = std::make_unique<uint8_t[]>(cached.bytes);
    std::memcpy(copy.get(), one.get(), cached.bytes);
    cached.copies.push_back(std::move(copy));
  }
  return cached;
}

void gemv(benchmark::State& state, GgmlType type, Shape shape, VecDotFn fn, bool hot) {
  const Matrices& m = matrices(type, shape, hot);
  std::vector<float> xf(static_cast<size_t>(shape.cols));
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& f : xf) f = dist(rng);
  std::vector<uint8_t> xq(row_bytes(*type_traits(GgmlType::Q8_K), shape.cols));
  q8_k_from_float(xf.data(), xq.data(), shape.cols);
  std::vector<float> y(static_cast<size_t>(shape.rows));
  const size_t rb = m.bytes / static_cast<size_t>(shape.rows);
  size_t k = 0;
  for (auto _ : state) {
    const uint8_t* w = m.copies[k++ % m.copies.size()].get();
    for (int64_t r = 0; r < shape.rows; ++r)
      y[static_cast<size_t>(r)] = fn(shape.cols, w + rb * static_cast<size_t>(r), xq.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(m.bytes));
}

// The DRAM read roofline: 64-bit sums over kWorkingSet bytes in 8 independent chains.
void read_roofline(benchmark::State& state) {
  const size_t words = kWorkingSet / sizeof(uint64_t);
  std::vector<uint64_t> buf(words);
  for (size_t i = 0; i < words; ++i) buf[i] = i;
  for (auto _ : state) {
    uint64_t s[8] = {};
    for (size_t i = 0; i < words; i += 8)
      for (int j = 0; j < 8; ++j) s[j] += buf[i + static_cast<size_t>(j)];
    uint64_t total = 0;
    for (uint64_t v : s) total += v;
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kWorkingSet));
}

int register_all() {
  benchmark::RegisterBenchmark("ReadRoofline", read_roofline)->Unit(benchmark::kMillisecond);
  const GgmlType types[] = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
  struct Case {
    Shape s;
    bool hot;
  };
  const Case cases[] = {{{8192, 2048}, false}, {{2048, 8192}, false}, {{256, 2048}, true}};
  for (GgmlType type : types) {
    for (const Case& cs : cases) {
      const Shape& s = cs.s;
      struct Variant {
        const char* name;
        VecDotFn fn;
      };
      std::vector<Variant> variants;
      switch (type) {
        case GgmlType::Q2_K:
          variants.push_back({"highway", simd_vec_dot_q2_k});
          break;
        case GgmlType::Q3_K:
          variants.push_back({"highway", simd_vec_dot_q3_k});
          break;
        case GgmlType::Q4_K:
          variants.push_back({"highway", simd_vec_dot_q4_k});
          break;
        case GgmlType::Q5_K:
          variants.push_back({"highway", simd_vec_dot_q5_k});
          break;
        default:
          variants.push_back({"highway", simd_vec_dot_q6_k});
          break;
      }
      if (x86_kquant_supported(KquantIsa::kAvx2))
        variants.push_back({"avx2", x86_kquant_vec_dot(type, KquantIsa::kAvx2)});
      if (x86_kquant_supported(KquantIsa::kAvx512Vnni))
        variants.push_back({"avx512vnni", x86_kquant_vec_dot(type, KquantIsa::kAvx512Vnni)});
      for (const Variant& v : variants) {
        const std::string name = std::string(cs.hot ? "KquantGemvHot/" : "KquantGemv/") + type_traits(type)->name +
                                 "/" + std::to_string(s.rows) + "x" + std::to_string(s.cols) + "/" + v.name;
        benchmark::RegisterBenchmark(name.c_str(), gemv, type, s, v.fn, cs.hot)->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace edgellm
