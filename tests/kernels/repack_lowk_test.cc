// Special cases of the low-bit k-quant tiles (kernels/repack_lowk.h) beyond the generic repack tests: the
// integer ranges the kernels rely on at their extremes (every level and scale at the ends of its range,
// activations at ±127 so the Q8_K 16-sums reach ±2032: Q2_K splits them into 16·h + l at the ends of the int8
// range, Q3_K scales them into its int16 sub-block sums), and the expanded activations' layout.
#include "kernels/repack_lowk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/quants.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

const RepackIsa kIsas[] = {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2, RepackIsa::kNeonDot};

// A Q8_K row whose 16-groups alternate between all +127 and all −127 (bsum ±2032), or random when `mixed`.
std::vector<uint8_t> extreme_acts(int64_t cols, bool mixed, uint32_t seed) {
  std::vector<float> xf(static_cast<size_t>(cols));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < cols; ++i) xf[i] = mixed ? u(rng) : ((i / 16) % 3 == 1 ? -1.0f : 1.0f);
  std::vector<uint8_t> xq(row_bytes(*type_traits(GgmlType::Q8_K), cols));
  q8_k_from_float(xf.data(), xq.data(), cols);
  return xq;
}

// 5 rows of Q2_K blocks with every level 3 and every scale/min nibble 15 (the largest integer sums), then rows
// with random bytes and sane fp16 scales.
std::vector<BlockQ2_K> extreme_q2k(int rows, int64_t nb) {
  std::vector<BlockQ2_K> m(static_cast<size_t>(rows * nb));
  std::mt19937 rng(3);
  for (int r = 0; r < rows; ++r)
    for (int64_t kb = 0; kb < nb; ++kb) {
      BlockQ2_K& b = m[static_cast<size_t>(r * nb + kb)];
      const bool max = r < 5;
      for (uint8_t& s : b.scales) s = max ? 0xFF : static_cast<uint8_t>(rng());
      for (uint8_t& q : b.qs) q = max ? 0xFF : static_cast<uint8_t>(rng());
      b.d = fp32_to_fp16(r == 1 ? 0.0f : 0.01f * static_cast<float>(1 + r % 4));
      b.dmin = fp32_to_fp16(r == 2 ? 0.0f : 0.02f);
    }
  return m;
}

TEST(RepackLowk, Q2kExtremeSumsMatchScalar) {
  const int rows = 21;
  const int64_t nb = 3, cols = nb * kQK_K;
  const auto m = extreme_q2k(rows, nb);
  const size_t stride = nb * sizeof(BlockQ2_K);
  for (RepackIsa isa : kIsas) {
    const RepackOps* ops = repack_ops(GgmlType::Q2_K, isa);
    if (ops == nullptr) continue;
    auto packed = repack_weight(*ops, m.data(), rows, cols, stride);
    ASSERT_TRUE(packed.is_ok()) << packed.status().message();
    for (bool mixed : {false, true}) {
      const auto xq = extreme_acts(cols, mixed, 9);
      AlignedBuffer acts(ops->act_row_bytes(cols));
      ops->expand_acts(xq.data(), cols, acts.data());
      std::vector<float> y(rows, NAN);
      ops->gemv(packed.value(), 0, packed.value().tiles, acts.data(), 0, 1, y.data(), rows);
      for (int r = 0; r < rows; ++r) {
        const auto* row = reinterpret_cast<const uint8_t*>(m.data()) + static_cast<size_t>(r) * stride;
        const float want = vec_dot_q2_k(cols, row, xq.data());
        EXPECT_NEAR(y[r], want, 1e-5f * (1.0f + std::fabs(want))) << "row " << r << (mixed ? " mixed" : " extreme");
      }
    }
  }
}

// Q3_K rows at the ends of every range: levels all 7 (u − 4 = 3) or all 0 (−4), scales all −32 or 31, then
// random rows.
std::vector<BlockQ3_K> extreme_q3k(int rows, int64_t nb) {
  std::vector<BlockQ3_K> m(static_cast<size_t>(rows * nb));
  std::mt19937 rng(5);
  for (int r = 0; r < rows; ++r)
    for (int64_t kb = 0; kb < nb; ++kb) {
      BlockQ3_K& b = m[static_cast<size_t>(r * nb + kb)];
      if (r < 6) {
        std::memset(b.hmask, r % 2 == 0 ? 0xFF : 0x00, sizeof(b.hmask));
        std::memset(b.qs, r % 2 == 0 ? 0xFF : 0x00, sizeof(b.qs));
        int8_t sc[16];
        for (int8_t& v : sc) v = static_cast<int8_t>(r < 3 ? -32 : 31);
        kquant::pack_q3_scales(sc, b.scales);
      } else {
        for (uint8_t& v : b.hmask) v = static_cast<uint8_t>(rng());
        for (uint8_t& v : b.qs) v = static_cast<uint8_t>(rng());
        for (uint8_t& v : b.scales) v = static_cast<uint8_t>(rng());
      }
      b.d = fp32_to_fp16(r == 4 ? 0.0f : 0.01f * static_cast<float>(1 + r % 4));
    }
  return m;
}

TEST(RepackLowk, Q3kExtremeSumsMatchScalar) {
  const int rows = 19;
  const int64_t nb = 3, cols = nb * kQK_K;
  const auto m = extreme_q3k(rows, nb);
  const size_t stride = nb * sizeof(BlockQ3_K);
  for (RepackIsa isa : kIsas) {
    const RepackOps* ops = repack_ops(GgmlType::Q3_K, isa);
    if (ops == nullptr) continue;
    auto packed = repack_weight(*ops, m.data(), rows, cols, stride);
    ASSERT_TRUE(packed.is_ok()) << packed.status().message();
    for (bool mixed : {false, true}) {
      const auto xq = extreme_acts(cols, mixed, 2);
      AlignedBuffer acts(ops->act_row_bytes(cols) * 2);
      ops->expand_acts(xq.data(), cols, acts.data());
      ops->expand_acts(xq.data(), cols, acts.data() + ops->act_row_bytes(cols));
      // Two identical tokens: both outputs must match (the multi-token path shares the decoded levels).
      std::vector<float> y(2 * rows, NAN);
      ops->gemv(packed.value(), 0, packed.value().tiles, acts.data(), ops->act_row_bytes(cols), 2, y.data(), rows);
      for (int r = 0; r < rows; ++r) {
        const auto* row = reinterpret_cast<const uint8_t*>(m.data()) + static_cast<size_t>(r) * stride;
        const float want = vec_dot_q3_k(cols, row, xq.data());
        EXPECT_NEAR(y[r], want, 1e-5f * (1.0f + std::fabs(want))) << "row " << r << (mixed ? " mixed" : " extreme");
        EXPECT_EQ(y[r], y[rows + r]) << "row " << r;
      }
    }
  }
}

TEST(RepackLowk, Q2kActivationsSplitBsumsExactly) {
  const int64_t cols = 2 * kQK_K;
  for (bool mixed : {false, true}) {
    const auto xq = extreme_acts(cols, mixed, 4);
    std::vector<uint8_t> a(lowk::q2k_act_row_bytes(cols));
    ASSERT_EQ(a.size() % 64, 0u);
    lowk::q2k_expand_acts(xq.data(), cols, a.data());
    for (int64_t kb = 0; kb < cols / kQK_K; ++kb) {
      BlockQ8_K b;
      std::memcpy(&b, xq.data() + kb * sizeof(BlockQ8_K), sizeof(b));
      const uint8_t* e = a.data() + kb * lowk::kQ2kActBlockBytes;
      EXPECT_EQ(std::memcmp(e, b.qs, kQK_K), 0);
      for (int g = 0; g < 16; ++g) {
        const int h = static_cast<int8_t>(e[lowk::kQ2kActHOffset + g]), l = e[lowk::kQ2kActLOffset + g];
        EXPECT_EQ(16 * h + l, b.bsums[g]) << "group " << g;
        EXPECT_LT(l, 16);
        EXPECT_GE(h, -127);
      }
      float d;
      std::memcpy(&d, e + lowk::kQ2kActDOffset, sizeof(d));
      EXPECT_EQ(d, b.d);
    }
  }
}

}  // namespace
}  // namespace edgellm
