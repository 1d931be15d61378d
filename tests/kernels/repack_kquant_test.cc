// The k-quant repack family (kernels/repack_kquant.h), beyond the generic tests of repack_test.cc: blocks of
// random bytes (every scale/min bit pattern, levels at both ends, which quantized floats rarely give) against
// activations of random bytes including −128, for every instruction set this CPU runs, 1..max_tokens
// tokens; and the tile sizes the layout promises (the GGUF size for Q4_K/Q5_K, +32 B per super-block for Q6_K).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

const GgmlType kTypes[] = {GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
const RepackIsa kIsas[] = {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2, RepackIsa::kNeonDot};

// rows × blocks super-blocks of random bytes with finite fp16 scales in [2^-8, 2^-4] (either sign).
std::vector<uint8_t> random_blocks(GgmlType type, int64_t rows, int64_t blocks, uint32_t seed) {
  const TypeTraits& t = *type_traits(type);
  std::mt19937 rng(seed);
  std::vector<uint8_t> m(t.type_size * static_cast<size_t>(rows * blocks));
  for (uint8_t& b : m) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> mag(1.0f / 256, 1.0f / 16);
  for (size_t b = 0; b < m.size() / t.type_size; ++b) {
    uint8_t* blk = m.data() + b * t.type_size;
    const auto put = [&](size_t off) {
      const uint16_t h = fp32_to_fp16(rng() % 2 ? mag(rng) : -mag(rng));
      std::memcpy(blk + off, &h, 2);
    };
    if (type == GgmlType::Q6_K) {
      put(offsetof(BlockQ6_K, d));
    } else {
      put(0);  // d
      put(2);  // dmin
    }
  }
  return m;
}

// Q8_K rows of random bytes (−128..127) with consistent 16-sums.
std::vector<uint8_t> random_acts(int64_t blocks, int64_t n_tokens, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<BlockQ8_K> x(static_cast<size_t>(blocks * n_tokens));
  for (BlockQ8_K& b : x) {
    b.d = 0.01f + static_cast<float>(rng() % 100) / 1000.0f;
    for (int8_t& q : b.qs) q = static_cast<int8_t>(rng());
    // Some blocks at the extremes, where 16-bit sums of 32 values are largest.
    if (rng() % 4 == 0) std::memset(b.qs, rng() % 2 ? 0x80 : 0x7F, sizeof(b.qs));
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += b.qs[16 * g + l];
      b.bsums[g] = static_cast<int16_t>(s);
    }
  }
  std::vector<uint8_t> out(x.size() * sizeof(BlockQ8_K));
  std::memcpy(out.data(), x.data(), out.size());
  return out;
}

TEST(RepackKquant, RandomBytesMatchScalarVecDot) {
  int checked = 0;
  for (GgmlType type : kTypes) {
    for (RepackIsa isa : kIsas) {
      const RepackOps* ops = repack_ops(type, isa);
      if (ops == nullptr) continue;
      const TypeTraits& t = *type_traits(type);
      for (const auto& [rows, blocks] : std::vector<std::pair<int64_t, int64_t>>{{17, 3}, {3, 1}, {32, 2}}) {
        const int64_t cols = blocks * kQK_K, n_tokens = ops->max_tokens;
        const size_t rb = row_bytes(t, cols);
        const std::vector<uint8_t> m = random_blocks(type, rows, blocks, 3 + static_cast<uint32_t>(rows));
        auto packed = repack_weight(*ops, m.data(), rows, cols, rb);
        ASSERT_TRUE(packed.is_ok()) << packed.status().message();
        const RepackedWeight& w = packed.value();
        const size_t xrow = sizeof(BlockQ8_K) * static_cast<size_t>(blocks), arow = ops->act_row_bytes(cols);
        const std::vector<uint8_t> xq = random_acts(blocks, n_tokens, 9);
        AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
        for (int64_t tok = 0; tok < n_tokens; ++tok)
          ops->expand_acts(xq.data() + tok * xrow, cols, acts.data() + tok * arow);
        std::vector<float> y(static_cast<size_t>(rows * n_tokens), NAN);
        ops->gemv(w, 0, w.tiles, acts.data(), arow, n_tokens, y.data(), rows);
        std::vector<float> wf(static_cast<size_t>(cols)), xf(static_cast<size_t>(cols));
        for (int64_t tok = 0; tok < n_tokens; ++tok) {
          type_traits(GgmlType::Q8_K)->to_float(xq.data() + tok * xrow, xf.data(), cols);
          for (int64_t r = 0; r < rows; ++r) {
            const uint8_t* wr = m.data() + static_cast<size_t>(r) * rb;
            t.to_float(wr, wf.data(), cols);
            double mag = 0;
            for (int64_t k = 0; k < cols; ++k) mag += std::fabs(static_cast<double>(wf[k]) * xf[k]);
            const float want = t.vec_dot(cols, wr, xq.data() + tok * xrow);
            ASSERT_NEAR(y[tok * rows + r], want, 3e-6 * mag + 1e-5)
                << t.name << " isa " << static_cast<int>(isa) << " rows " << rows << " token " << tok << " row " << r;
            ++checked;
          }
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no k-quant repack kernel on this CPU";
}

TEST(RepackKquant, TilesKeepTheGgufSize) {
  for (GgmlType type : kTypes) {
    for (RepackIsa isa : kIsas) {
      const RepackOps* ops = repack_ops(type, isa);
      if (ops == nullptr) continue;
      const size_t gguf = kRepackRows * row_bytes(*type_traits(type), 8 * kQK_K);
      EXPECT_EQ(ops->tile_bytes(8 * kQK_K), gguf + (type == GgmlType::Q6_K ? 8 * 32 : 0)) << type_traits(type)->name;
      EXPECT_EQ(ops->tile_bytes(8 * kQK_K) % 64, 0u);
    }
  }
}

}  // namespace
}  // namespace edgellm
