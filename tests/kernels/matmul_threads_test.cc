// Linear::forward's balanced thread split and Linear::forward_group give the same bits as one thread and as
// one forward() per matrix, for every row-interleaved family, odd row counts (a partial last tile, fewer tiles
// than threads) and 1..3 threads.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

struct Weight {
  std::vector<uint8_t> data;
  Linear lin;
};

// rows × cols of N(0, 0.05) weights in `type`, prepared (so repacked where this CPU has the kernels).
Weight make_linear(GgmlType type, int64_t rows, int64_t cols, uint32_t seed) {
  const TypeTraits* t = type_traits(type);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> f(static_cast<size_t>(cols));
  Weight w;
  const size_t rb = row_bytes(*t, cols);
  w.data.resize(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : f) v = dist(rng);
    t->from_float(f.data(), w.data.data() + rb * static_cast<size_t>(r), cols);
  }
  Result<Linear> lin = Linear::prepare(WeightView{type, rows, cols, w.data.data(), 0});
  EXPECT_TRUE(lin.is_ok()) << lin.status().message();
  if (lin.is_ok()) w.lin = std::move(*lin);
  return w;
}

std::vector<float> random_x(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

const GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                           GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                           GgmlType::TQ1_0, GgmlType::TQ2_0};

TEST(LinearThreads, BalancedSplitMatchesOneThreadBitForBit) {
  // 1000 rows of 4096 columns are 63 tiles of 14-70 KB: several 256 KB chunks per thread, so threads steal.
  for (GgmlType type : kTypes) {
    for (int64_t rows : {int64_t{1}, int64_t{17}, int64_t{1000}}) {
      const int64_t cols = rows == 1000 ? 4096 : 512;
      const Weight w = make_linear(type, rows, cols, 3);
      for (int64_t n_tokens : {int64_t{1}, int64_t{3}}) {
        const std::vector<float> x = random_x(n_tokens * cols, 5);
        std::vector<float> one(static_cast<size_t>(n_tokens * rows));
        ThreadPool single(1);
        MatmulScratch scratch;
        w.lin.forward(x.data(), n_tokens, one.data(), single, scratch);
        for (int threads : {2, 3}) {
          ThreadPool pool(threads);
          for (int rep = 0; rep < 3; ++rep) {
            std::vector<float> y(one.size(), -1.0f);
            w.lin.forward(x.data(), n_tokens, y.data(), pool, scratch);
            ASSERT_TRUE(same_bits(y, one)) << type_traits(type)->name << " rows " << rows << " tokens " << n_tokens
                                           << " threads " << threads;
          }
        }
      }
    }
  }
}

TEST(LinearThreads, GroupMatchesOneForwardPerMatrix) {
  // Q/K/V-like groups (a wide matrix and two narrow ones) of one type, and mixed types as in Q4_K_M (Q4_K and
  // Q6_K share the Q8_K activations but not their expansion). 5 tokens take the fallback (GEMM) path.
  std::vector<std::vector<GgmlType>> groups;
  for (GgmlType t : kTypes) groups.push_back({t, t, t});
  groups.push_back({GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q4_K});
  groups.push_back({GgmlType::Q4_0, GgmlType::Q8_0});
  const int64_t cols = 512;
  for (const std::vector<GgmlType>& types : groups) {
    std::vector<Weight> ws;
    for (size_t i = 0; i < types.size(); ++i)
      ws.push_back(make_linear(types[i], i == 0 ? 70 : 17 + 16 * static_cast<int64_t>(i), cols, 11 + i));
    std::vector<const Linear*> lins;
    for (const Weight& w : ws) lins.push_back(&w.lin);
    for (int64_t n_tokens : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{5}}) {
      const std::vector<float> x = random_x(n_tokens * cols, 7);
      std::vector<std::vector<float>> expect;
      ThreadPool single(1);
      MatmulScratch scratch;
      for (const Weight& w : ws) {
        expect.emplace_back(static_cast<size_t>(n_tokens * w.lin.out_features()));
        w.lin.forward(x.data(), n_tokens, expect.back().data(), single, scratch);
      }
      for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        MatmulScratch group_scratch;
        group_scratch.quantized_x.resize(Linear::group_scratch_bytes(lins, n_tokens, threads));
        const size_t sized = group_scratch.quantized_x.size();
        std::vector<std::vector<float>> ys;
        std::vector<float*> outs;
        for (const Weight& w : ws) ys.emplace_back(static_cast<size_t>(n_tokens * w.lin.out_features()), -1.0f);
        for (auto& y : ys) outs.push_back(y.data());
        Linear::forward_group(lins, x.data(), n_tokens, outs, pool, group_scratch);
        EXPECT_EQ(group_scratch.quantized_x.size(), sized) << "scratch sized up front must not grow";
        for (size_t i = 0; i < ws.size(); ++i)
          ASSERT_TRUE(same_bits(ys[i], expect[i]))
              << "group of " << type_traits(types[0])->name << ", member " << i << ", tokens " << n_tokens
              << ", threads " << threads;
      }
    }
  }
}

}  // namespace
}  // namespace edgellm
