// Row-interleaved weights packed into a model's weight arena (core/weight_arena.h) are the same tiles as packed
// into buffers of their own, laid out one after another in packing order, and a Linear prepared over the arena
// computes bit for bit what one without it does, also after the arena itself is gone.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "core/weight_arena.h"
#include "kernels/matmul.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

// Rows past the first 37 repeat them (quantizing megabytes of k-quant rows would take seconds).
std::vector<uint8_t> random_matrix(const TypeTraits& t, int64_t rows, int64_t cols, uint32_t seed) {
  const size_t stride = row_bytes(t, cols);
  std::vector<uint8_t> m(stride * static_cast<size_t>(rows));
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> f(static_cast<size_t>(cols));
  constexpr int64_t kDistinct = 37;
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = m.data() + static_cast<size_t>(r) * stride;
    if (r >= kDistinct) {
      std::memcpy(row, m.data() + static_cast<size_t>(r % kDistinct) * stride, stride);
      continue;
    }
    for (float& v : f) v = dist(rng);
    t.from_float(f.data(), row, cols);
  }
  return m;
}

struct Shape {
  int64_t rows, cols;
};
// Odd row counts (a padded last tile) and several matrices in one chunk; rows 0 stands for a matrix of ~2.5 MiB,
// bigger than the test's 2 MiB chunk.
const Shape kShapes[] = {{17, 256}, {3, 512}, {1, 256}, {0, 1024}, {33, 256}};

TEST(WeightArenaRepack, TilesMatchOwnBuffersAndFollowEachOther) {
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::TQ2_0}) {
    const RepackOps* ops = repack_ops_best(type);
    if (ops == nullptr) continue;  // no family or instruction set here: nothing is repacked
    const TypeTraits& t = *type_traits(type);
    SCOPED_TRACE(t.name);
    WeightArena arena(2u << 20);
    const uint8_t* prev_end = nullptr;
    uint32_t seed = 1;
    for (const Shape& s : kShapes) {
      const int64_t rows = s.rows != 0 ? s.rows : static_cast<int64_t>((5u << 19) / row_bytes(t, s.cols)) | 1;
      const auto m = random_matrix(t, rows, s.cols, seed++);
      const size_t chunks_before = arena.chunks();
      Result<RepackedWeight> own = repack_weight(*ops, m.data(), rows, s.cols, row_bytes(t, s.cols));
      Result<RepackedWeight> in = repack_weight(*ops, m.data(), rows, s.cols, row_bytes(t, s.cols), &arena);
      ASSERT_TRUE(own.is_ok() && in.is_ok());
      ASSERT_EQ(in->data.size(), own->data.size());
      EXPECT_EQ(std::memcmp(in->data.data(), own->data.data(), own->data.size()), 0) << rows << "x" << s.cols;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(in->data.data()) % 64, 0u);
      // Tile bytes are multiples of 64: within a chunk, the next matrix starts where the previous one ended.
      if (prev_end != nullptr && arena.chunks() == chunks_before) {
        EXPECT_EQ(in->data.data(), prev_end);
      }
      prev_end = in->data.data() + in->data.size();
    }
    EXPECT_GE(arena.chunks(), 2u);  // the big matrix did not fit in the first chunk
  }
}

TEST(WeightArenaRepack, LinearOverTheArenaComputesTheSameAfterTheArenaIsGone) {
  const GgmlType type = GgmlType::Q4_0;
  const TypeTraits& t = *type_traits(type);
  const int64_t rows = 37, cols = 320;
  const auto m = random_matrix(t, rows, cols, 7);
  const WeightView w{type, rows, cols, m.data(), row_bytes(t, cols)};
  Result<Linear> plain = Linear::prepare(w);
  ASSERT_TRUE(plain.is_ok());
  Linear shared;
  {
    WeightArena arena;
    Result<Linear> in = Linear::prepare(w, &arena);
    ASSERT_TRUE(in.is_ok()) << in.status().message();
    shared = *in;  // a copy shares the arena block
  }
  std::vector<float> x(static_cast<size_t>(3 * cols));
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& v : x) v = dist(rng);
  ThreadPool pool(2);
  MatmulScratch s1, s2;
  for (int64_t n = 1; n <= 3; ++n) {
    std::vector<float> y1(static_cast<size_t>(n * rows)), y2(y1.size());
    plain->forward(x.data(), n, y1.data(), pool, s1);
    shared.forward(x.data(), n, y2.data(), pool, s2);
    EXPECT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)), 0) << n << " tokens";
  }
}

}  // namespace
}  // namespace edgellm
