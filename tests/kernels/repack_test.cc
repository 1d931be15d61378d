// The row-interleaved repack (kernels/repack.h), for every family, type and instruction set this CPU runs:
// pack → unpack is bit-exact, the decode kernel matches the scalar traits vec_dot on random blocks of odd
// shapes (rows 1, 3, 17, 33; odd block counts) for 1..max_tokens tokens, tile ranges split anywhere, and the
// GEMM over unpacked tiles matches too. Types without a family are listed as such (not failures).
#include "kernels/repack.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "kernels/simd_gemm.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

const GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                           GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                           GgmlType::TQ1_0, GgmlType::TQ2_0};
const RepackIsa kIsas[] = {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2, RepackIsa::kNeonDot};

std::string isa_name(RepackIsa isa) {
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

std::vector<float> random_normal(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

// A random rows × cols matrix of `type` (rows stride bytes apart; the padding bytes between rows are 0xA5 so a
// kernel that reads them shows up).
std::vector<uint8_t> random_matrix(const TypeTraits& t, int64_t rows, int64_t cols, size_t stride, uint32_t seed) {
  std::vector<uint8_t> m(stride * static_cast<size_t>(rows), 0xA5);
  for (int64_t r = 0; r < rows; ++r) {
    // Some rows with a large scale and some near zero, so scales cover their range.
    const float scale = r % 5 == 4 ? 40.0f : r % 7 == 3 ? 1e-3f : 1.0f;
    const auto f = random_normal(cols, seed + static_cast<uint32_t>(r), scale);
    t.from_float(f.data(), m.data() + static_cast<size_t>(r) * stride, cols);
  }
  return m;
}

struct Case {
  const RepackOps* ops;
  std::string name;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (GgmlType type : kTypes)
    for (RepackIsa isa : kIsas)
      if (const RepackOps* ops = repack_ops(type, isa))
        out.push_back({ops, std::string(type_traits(type)->name) + "/" + isa_name(isa)});
  return out;
}

TEST(Repack, ListsWhatThisCpuRuns) {
  std::string have, none;
  for (GgmlType type : kTypes) {
    bool any = false;
    for (RepackIsa isa : kIsas)
      if (repack_ops(type, isa) != nullptr) {
        have += std::string(" ") + type_traits(type)->name + "/" + isa_name(isa);
        any = true;
      }
    if (!any) none += std::string(" ") + type_traits(type)->name;
  }
  std::printf("repack kernels here:%s\nno repack kernel here:%s\n", have.c_str(), none.c_str());
  for (const Case& c : cases()) {
    EXPECT_GE(c.ops->max_tokens, 1) << c.name;
  }
}

// Shapes: rows around the tile size, block counts odd and even.
struct Shape {
  int64_t rows, blocks;
};
const Shape kShapes[] = {{1, 1}, {3, 3}, {17, 2}, {33, 5}, {16, 8}};

TEST(Repack, PackUnpackIsExact) {
  for (const Case& c : cases()) {
    const TypeTraits& t = *type_traits(c.ops->type);
    for (const Shape& s : kShapes) {
      const int64_t cols = s.blocks * t.block_size;
      const size_t row = row_bytes(t, cols), stride = row + (t.type_size % 4 == 0 ? 4 : 2);
      const auto m = random_matrix(t, s.rows, cols, stride, 7);
      auto packed = repack_weight(*c.ops, m.data(), s.rows, cols, stride);
      ASSERT_TRUE(packed.is_ok()) << c.name << ": " << packed.status().message();
      const RepackedWeight& w = packed.value();
      EXPECT_LE(w.tile_bytes, static_cast<size_t>(kRepackRows) * row * 110 / 100 + 64) << c.name << " grows >10%";
      std::vector<uint8_t> back(static_cast<size_t>(kRepackRows) * row);
      for (int64_t tile = 0; tile < w.tiles; ++tile) {
        const int n = static_cast<int>(std::min<int64_t>(kRepackRows, s.rows - tile * kRepackRows));
        c.ops->unpack_tile(w.tile(tile), n, cols, back.data(), row);
        for (int r = 0; r < n; ++r)
          ASSERT_EQ(std::memcmp(back.data() + static_cast<size_t>(r) * row,
                                m.data() + static_cast<size_t>(tile * kRepackRows + r) * stride, row),
                    0)
              << c.name << " rows " << s.rows << " blocks " << s.blocks << " row " << tile * kRepackRows + r;
      }
    }
  }
}

// Expected outputs from the scalar traits: y_ref[t][r] and a bound relative to Σ|w·x| (the integer parts are
// exact; only float summation order differs).
void reference(const TypeTraits& t, const uint8_t* m, size_t stride, int64_t rows, int64_t cols,
               const std::vector<uint8_t>& xq, size_t xrow, int64_t n_tokens, std::vector<float>& want,
               std::vector<float>& bound) {
  const TypeTraits& a = *type_traits(t.vec_dot_type);
  std::vector<float> wf(static_cast<size_t>(cols)), xd(static_cast<size_t>(cols));
  want.assign(static_cast<size_t>(rows * n_tokens), 0.0f);
  bound.assign(want.size(), 0.0f);
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    a.to_float(xq.data() + tok * xrow, xd.data(), cols);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* wr = m + static_cast<size_t>(r) * stride;
      t.to_float(wr, wf.data(), cols);
      double mag = 0;
      for (int64_t k = 0; k < cols; ++k) mag += std::fabs(static_cast<double>(wf[k]) * xd[k]);
      want[tok * rows + r] = t.vec_dot(cols, wr, xq.data() + tok * xrow);
      bound[tok * rows + r] = static_cast<float>(3e-6 * mag + 1e-5);
    }
  }
}

TEST(Repack, GemvMatchesScalarVecDot) {
  for (const Case& c : cases()) {
    const TypeTraits& t = *type_traits(c.ops->type);
    const TypeTraits& a = *type_traits(t.vec_dot_type);
    for (const Shape& s : kShapes) {
      const int64_t cols = s.blocks * t.block_size;
      const size_t stride = row_bytes(t, cols);
      const auto m = random_matrix(t, s.rows, cols, stride, 11 + static_cast<uint32_t>(s.rows));
      auto packed = repack_weight(*c.ops, m.data(), s.rows, cols, stride);
      ASSERT_TRUE(packed.is_ok()) << c.name;
      const RepackedWeight& w = packed.value();
      const int64_t n_tokens = c.ops->max_tokens;
      const size_t xrow = row_bytes(a, cols), arow = c.ops->act_row_bytes(cols);
      ASSERT_EQ(arow % 64, 0u) << c.name;
      std::vector<uint8_t> xq(xrow * static_cast<size_t>(n_tokens));
      AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
      for (int64_t tok = 0; tok < n_tokens; ++tok) {
        const auto xf = random_normal(cols, 100 + static_cast<uint32_t>(tok), 3.0f);
        a.from_float(xf.data(), xq.data() + tok * xrow, cols);
        c.ops->expand_acts(xq.data() + tok * xrow, cols, acts.data() + tok * arow);
      }
      std::vector<float> want, bound;
      reference(t, m.data(), stride, s.rows, cols, xq, xrow, n_tokens, want, bound);
      for (int64_t n = 1; n <= n_tokens; ++n) {
        // y has one guard row past the matrix: the kernel must not write rows of the padded tile.
        std::vector<float> y(static_cast<size_t>(n * (s.rows + 1)), NAN);
        const int64_t ys = s.rows + 1;
        // Split the tiles at 1 so ranges that start inside the matrix are exercised.
        const int64_t split = std::min<int64_t>(1, w.tiles);
        c.ops->gemv(w, 0, split, acts.data(), arow, n, y.data(), ys);
        c.ops->gemv(w, split, w.tiles, acts.data(), arow, n, y.data(), ys);
        for (int64_t tok = 0; tok < n; ++tok) {
          for (int64_t r = 0; r < s.rows; ++r)
            ASSERT_NEAR(y[tok * ys + r], want[tok * s.rows + r], bound[tok * s.rows + r])
                << c.name << " rows " << s.rows << " blocks " << s.blocks << " tokens " << n << " token " << tok
                << " row " << r;
          ASSERT_TRUE(std::isnan(y[tok * ys + s.rows])) << c.name << " wrote past the last row";
        }
      }
    }
  }
}

TEST(Repack, GemmOverUnpackedTilesMatchesScalarVecDot) {
  for (const Case& c : cases()) {
    const GemmFn gemm = gemm_kernel(c.ops->type);
    if (gemm == nullptr) continue;
    const TypeTraits& t = *type_traits(c.ops->type);
    const TypeTraits& a = *type_traits(t.vec_dot_type);
    const Shape s{33, 3};
    const int64_t cols = s.blocks * t.block_size, n_tokens = 9;
    const size_t stride = row_bytes(t, cols);
    const auto m = random_matrix(t, s.rows, cols, stride, 5);
    auto packed = repack_weight(*c.ops, m.data(), s.rows, cols, stride);
    ASSERT_TRUE(packed.is_ok()) << c.name;
    const size_t xrow = row_bytes(a, cols);
    std::vector<uint8_t> xq(xrow * n_tokens);
    AlignedBuffer acts(gemm_acts_bytes(n_tokens, cols));
    for (int64_t tok = 0; tok < n_tokens; ++tok) {
      const auto xf = random_normal(cols, 300 + static_cast<uint32_t>(tok), 2.0f);
      a.from_float(xf.data(), xq.data() + tok * xrow, cols);
      (a.type == GgmlType::Q8_K ? gemm_acts_from_q8_k : gemm_acts_from_q8_0)(xq.data() + tok * xrow, cols, tok,
                                                                              acts.data());
    }
    std::vector<float> want, bound, y(static_cast<size_t>(n_tokens * s.rows), NAN);
    reference(t, m.data(), stride, s.rows, cols, xq, xrow, n_tokens, want, bound);
    AlignedBuffer buffer(repack_gemm_buffer_bytes(packed.value()));
    repack_gemm(packed.value(), gemm, 0, packed.value().tiles, acts.data(), n_tokens, y.data(), buffer.data());
    for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], want[i], 4 * bound[i]) << c.name << " output " << i;
  }
}

// Large matrices are packed on several threads: the result is the same tile for tile as packing serially,
// including the last, partial tile.
TEST(Repack, LargeMatrixPackedInParallelMatchesSerialPacking) {
  const auto all = cases();
  if (all.empty()) GTEST_SKIP() << "no repack kernel on this CPU";
  const RepackOps& ops = *all.front().ops;
  const TypeTraits& t = *type_traits(ops.type);
  const int64_t cols = 2048, rows = 16 * 600 + 5;  // ~5-10 MB of tiles: above the parallel threshold
  const size_t row = row_bytes(t, cols);
  const auto pattern = random_matrix(t, 7, cols, row, 3);
  std::vector<uint8_t> m(row * rows);
  for (int64_t r = 0; r < rows; ++r) std::memcpy(m.data() + r * row, pattern.data() + (r % 7) * row, row);
  auto packed = repack_weight(ops, m.data(), rows, cols, row);
  ASSERT_TRUE(packed.is_ok()) << packed.status().message();
  const RepackedWeight& w = packed.value();
  AlignedBuffer one(w.tile_bytes);
  for (int64_t tile = 0; tile < w.tiles; ++tile) {
    const int n = static_cast<int>(std::min<int64_t>(kRepackRows, rows - tile * kRepackRows));
    ops.pack_tile(m.data() + tile * kRepackRows * row, row, n, cols, one.data());
    ASSERT_EQ(std::memcmp(one.data(), w.tile(tile), w.tile_bytes), 0) << all.front().name << " tile " << tile;
  }
}

TEST(Repack, RejectsBadShapes) {
  for (const Case& c : cases()) {
    const TypeTraits& t = *type_traits(c.ops->type);
    std::vector<uint8_t> m(row_bytes(t, t.block_size) * 2);
    EXPECT_FALSE(repack_weight(*c.ops, m.data(), 2, t.block_size + 1, row_bytes(t, t.block_size)).is_ok()) << c.name;
    EXPECT_FALSE(repack_weight(*c.ops, nullptr, 2, t.block_size, row_bytes(t, t.block_size)).is_ok()) << c.name;
    EXPECT_FALSE(repack_weight(*c.ops, m.data(), 2, t.block_size, 1).is_ok()) << c.name;
  }
}

}  // namespace
}  // namespace edgellm
