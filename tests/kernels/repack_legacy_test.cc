// The legacy family's tiles (kernels/repack_legacy.h) beyond the generic repack_test: the tile size is
// exactly the GGUF bytes for even block counts, and the kernels of every instruction set this CPU runs stay
// exact at the extremes where an int16 or int8 shortcut would overflow (all levels at their maximum or
// minimum, activations ±127), for 1..max_tokens tokens and a partial last tile.
#include "kernels/repack_legacy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

const GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0};
const RepackIsa kIsas[] = {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2, RepackIsa::kNeonDot};

TEST(RepackLegacy, TileIsTheGgufBytesForEvenBlockCounts) {
  for (GgmlType type : kTypes)
    for (RepackIsa isa : kIsas) {
      const RepackOps* ops = repack_ops(type, isa);
      if (ops == nullptr) continue;
      const TypeTraits& t = *type_traits(type);
      for (int64_t blocks : {2, 8, 64}) {
        const int64_t cols = blocks * 32;
        EXPECT_EQ(ops->tile_bytes(cols), static_cast<size_t>(kRepackRows) * row_bytes(t, cols)) << t.name;
      }
      // One group alone adds at most 32 bytes (the scale section rounded up to 64).
      EXPECT_LE(ops->tile_bytes(32), static_cast<size_t>(kRepackRows) * t.type_size + 32) << t.name;
      EXPECT_EQ(ops->tile_bytes(96) % 64, 0u) << t.name;
    }
}

// Every byte of every block set to `fill` (qs, qh; Q8_0 values), scales 1.0 and minima −0.5.
std::vector<uint8_t> extreme_matrix(const TypeTraits& t, int64_t rows, int64_t cols, uint8_t fill) {
  const size_t row = row_bytes(t, cols);
  std::vector<uint8_t> m(row * static_cast<size_t>(rows), fill);
  const uint16_t one = fp32_to_fp16(1.0f), minus_half = fp32_to_fp16(-0.5f);
  const bool has_min = t.type == GgmlType::Q4_1 || t.type == GgmlType::Q5_1;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < cols / 32; ++b) {
      uint8_t* blk = m.data() + static_cast<size_t>(r) * row + static_cast<size_t>(b) * t.type_size;
      std::memcpy(blk, &one, 2);
      if (has_min) std::memcpy(blk + 2, &minus_half, 2);
    }
  return m;
}

TEST(RepackLegacy, ExtremeLevelsAndActivationsAreExact) {
  const int64_t rows = 19, cols = 32 * 7;
  for (GgmlType type : kTypes)
    for (RepackIsa isa : kIsas) {
      const RepackOps* ops = repack_ops(type, isa);
      if (ops == nullptr) continue;
      const TypeTraits& t = *type_traits(type);
      const std::string name = std::string(t.name) + "/isa " + std::to_string(static_cast<int>(isa));
      // 0xFF: the largest levels (and Q8_0 −1); 0x80: Q8_0's −128; 0x7F: Q8_0's 127 and 4-bit 15/7.
      for (uint8_t fill : {uint8_t{0xFF}, uint8_t{0x80}, uint8_t{0x7F}}) {
        const auto m = extreme_matrix(t, rows, cols, fill);
        auto packed = repack_weight(*ops, m.data(), rows, cols, row_bytes(t, cols));
        ASSERT_TRUE(packed.is_ok()) << name;
        const int64_t n_tokens = ops->max_tokens;
        const size_t xrow = row_bytes(*type_traits(GgmlType::Q8_0), cols), arow = ops->act_row_bytes(cols);
        std::vector<BlockQ8_0> xq(static_cast<size_t>(n_tokens * cols / 32));
        for (size_t i = 0; i < xq.size(); ++i) {
          xq[i].d = fp32_to_fp16(0.5f);
          // Token 0: all +127, token 1: all −127, then alternating signs (the Q8_0 quantizer's range is
          // ±127: d = amax/127).
          const size_t tok = i / static_cast<size_t>(cols / 32);
          for (int k = 0; k < 32; ++k)
            xq[i].qs[k] = static_cast<int8_t>(tok == 0 ? 127 : tok == 1 ? -127 : (k + tok) % 2 ? 127 : -127);
        }
        AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
        for (int64_t tok = 0; tok < n_tokens; ++tok)
          ops->expand_acts(reinterpret_cast<const uint8_t*>(xq.data()) + tok * xrow, cols, acts.data() + tok * arow);
        std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN);
        ops->gemv(packed.value(), 0, packed.value().tiles, acts.data(), arow, n_tokens, y.data(), rows);
        for (int64_t tok = 0; tok < n_tokens; ++tok) {
          const float want = t.vec_dot(cols, m.data(), reinterpret_cast<const uint8_t*>(xq.data()) + tok * xrow);
          for (int64_t r = 0; r < rows; ++r)
            ASSERT_NEAR(y[tok * rows + r], want, 1e-5f * std::fabs(want) + 1e-3f)
                << name << " fill " << int{fill} << " token " << tok << " row " << r;
        }
      }
    }
}

}  // namespace
}  // namespace edgellm
