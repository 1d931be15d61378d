// The ternary repack family (kernels/repack_ternary.h) beyond what repack_test.cc checks for every family: the
// tile layouts are the ones its header documents, and raw blocks (TQ2_0 code 3, TQ1_0 bytes the quantizer never
// writes, both representable in a file) with extreme Q8_K activations (−128, 127) still unpack exactly and give
// the scalar reference's sums on every instruction set this CPU runs.
#include "kernels/repack_ternary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/tq.h"

namespace edgellm {
namespace {

const RepackIsa kIsas[] = {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2, RepackIsa::kNeonDot};

std::vector<const RepackOps*> ops_of(GgmlType type) {
  std::vector<const RepackOps*> out;
  for (RepackIsa isa : kIsas)
    if (const RepackOps* ops = repack_ops(type, isa)) out.push_back(ops);
  return out;
}

TEST(RepackTernary, Tq2TileLayoutIsTheDocumentedOne) {
  const auto all = ops_of(GgmlType::TQ2_0);
  if (all.empty()) GTEST_SKIP() << "no TQ2_0 repack kernel on this CPU";
  const int64_t cols = 2 * kTqBlock;
  // Row 5, block 1, column 137 = half 1, element 9 of it: GGUF byte 32 + 9, crumb 0 holds code 2.
  std::vector<uint8_t> rows(6 * kTq2Bytes * 2, 0);
  uint8_t* blk = rows.data() + 5 * 2 * kTq2Bytes + kTq2Bytes;
  blk[32 + 9] = 2;
  const uint16_t d = fp32_to_fp16(0.5f);
  std::memcpy(blk + 64, &d, 2);
  for (const RepackOps* ops : all) {
    AlignedBuffer tile(ops->tile_bytes(cols));
    ops->pack_tile(rows.data(), 2 * kTq2Bytes, 6, cols, tile.data());
    // Step 137 / 4 = 34 = vector 2 + 16·2: crumb 2 of byte 64·2 + 4·5 + 1 of block 1's levels.
    const uint8_t* lev = tile.data() + 64 + kTq2TileBlockBytes;
    for (size_t i = 0; i < kTq2TileBlockBytes; ++i)
      EXPECT_EQ(lev[i], i == 64 * 2 + 4 * 5 + 1 ? 2 << 4 : 0) << "level byte " << i;
    uint16_t got;
    std::memcpy(&got, tile.data() + 32 + 2 * 5, 2);
    EXPECT_EQ(got, d);
    EXPECT_EQ(ops->tile_bytes(cols), 64u + 2 * kTq2TileBlockBytes);
    EXPECT_EQ(ops->tile_bytes(3 * kTqBlock), 2 * 64u + 3 * kTq2TileBlockBytes);
  }
}

TEST(RepackTernary, Tq1TileLayoutIsTheDocumentedOne) {
  const auto all = ops_of(GgmlType::TQ1_0);
  if (all.empty()) GTEST_SKIP() << "no TQ1_0 repack kernel on this CPU";
  const int64_t cols = 2 * kTqBlock;
  std::vector<uint8_t> rows(3 * kTq1Bytes * 2);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint8_t>(i * 7 + 1);
  for (const RepackOps* ops : all) {
    AlignedBuffer tile(ops->tile_bytes(cols));
    ops->pack_tile(rows.data(), 2 * kTq1Bytes, 3, cols, tile.data());
    EXPECT_EQ(ops->tile_bytes(cols), 64u + 2 * kTq1TileBlockBytes);
    EXPECT_EQ(ops->tile_bytes(3 * kTqBlock), 2 * 64u + 3 * kTq1TileBlockBytes);
    for (int r = 0; r < 3; ++r)
      for (int b = 0; b < 2; ++b) {
        const uint8_t* blk = rows.data() + (2 * r + b) * kTq1Bytes;
        const uint8_t* lev = tile.data() + 64 + b * kTq1TileBlockBytes;
        for (int i = 0; i < 52; ++i)
          EXPECT_EQ(lev[64 * (i / 4) + 4 * r + i % 4], tq1_tile_byte(blk[i])) << "row " << r << " byte " << i;
        EXPECT_EQ(std::memcmp(tile.data() + 32 * b + 2 * r, blk + 52, 2), 0);
      }
  }
}

// Every byte keeps its 5 digits through the tile recoding (distinct digit tuples get distinct tile bytes), and
// the unpacked byte is the quantizer's own for quantizer output (v = 0..242 as ceil(v · 256 / 243)).
TEST(RepackTernary, Tq1RecodingKeepsEveryByteDigits) {
  for (int q = 0; q < 256; ++q) {
    const int e = tq1_tile_byte(q);
    for (int n = 0; n < 5; ++n) {
      EXPECT_EQ(tq1_tile_digit(e, n), tq1_digit(q, n)) << "byte " << q << " digit " << n;
      EXPECT_EQ(tq1_digit(tq1_gguf_byte(e), n), tq1_digit(q, n)) << "byte " << q << " digit " << n;
    }
  }
  EXPECT_EQ(tq1_tile_byte(0), 0);  // zero rows padding a tile stay zero
  for (int v = 0; v < 243; ++v) {
    const int q = (v * 256 + 242) / 243;
    EXPECT_EQ(tq1_gguf_byte(tq1_tile_byte(q)), q) << "v " << v;
  }
}

// Random bytes as blocks (TQ2_0 code 3, TQ1_0 bytes no quantizer writes) and activations at the int8 extremes.
void check_raw_blocks(GgmlType type, size_t block_bytes, float (*reference)(int64_t, const void*, const void*)) {
  const auto all = ops_of(type);
  if (all.empty()) GTEST_SKIP() << "no repack kernel for this type on this CPU";
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(-2.0f, 2.0f);
  for (const RepackOps* ops : all) {
    // 256, 512, 768 (an odd last block pair) and 2048 columns (the 1B shape; long accumulator chains).
    for (int64_t nb : {1, 2, 3, 8})
      for (int64_t n_rows : {1, 3, 17}) {
        const int64_t cols = nb * kTqBlock;
        const size_t row = static_cast<size_t>(nb) * block_bytes;
        std::vector<uint8_t> m(row * static_cast<size_t>(n_rows));
        for (int64_t r = 0; r < n_rows; ++r)
          for (int64_t b = 0; b < nb; ++b) {
            uint8_t* blk = m.data() + static_cast<size_t>(r) * row + b * block_bytes;
            for (size_t i = 0; i + 2 < block_bytes; ++i) blk[i] = static_cast<uint8_t>(byte(rng));
            const uint16_t d = fp32_to_fp16(scale(rng));
            std::memcpy(blk + block_bytes - 2, &d, 2);
          }
        auto packed = repack_weight(*ops, m.data(), n_rows, cols, row);
        ASSERT_TRUE(packed.is_ok()) << packed.status().message();
        std::vector<uint8_t> back(row * kRepackRows);
        for (int64_t tile = 0; tile < packed->tiles; ++tile) {
          const int n = static_cast<int>(std::min<int64_t>(kRepackRows, n_rows - tile * kRepackRows));
          ops->unpack_tile(packed->tile(tile), n, cols, back.data(), row);
          const uint8_t* orig = m.data() + static_cast<size_t>(tile * kRepackRows) * row;
          if (type != GgmlType::TQ1_0) {
            ASSERT_EQ(std::memcmp(back.data(), orig, row * static_cast<size_t>(n)), 0);
            continue;
          }
          // TQ1_0 tiles hold the digits, not the bytes (repack_ternary.h): the same trits and the same scale bits.
          for (size_t at = 0; at < row * static_cast<size_t>(n); at += block_bytes) {
            int8_t want[kTqBlock], got[kTqBlock];
            tq1_0_decode(orig + at, want);
            tq1_0_decode(back.data() + at, got);
            ASSERT_EQ(std::memcmp(got, want, sizeof(want)), 0) << "cols " << cols << " block at " << at;
            ASSERT_EQ(std::memcmp(back.data() + at + 52, orig + at + 52, 2), 0)
                << "cols " << cols << " block at " << at;
          }
        }
        // Activations at the int8 extremes, mostly alternating, so the int32 sums are as large as they get; bsums
        // hold the group sums as in any Q8_K row (the expansion takes the block sum from them).
        std::vector<BlockQ8_K> x(static_cast<size_t>(nb * ops->max_tokens));
        for (size_t k = 0; k < x.size(); ++k) {
          x[k].d = 0.01f * static_cast<float>(k + 1);
          for (int i = 0; i < kQK_K; ++i)
            x[k].qs[i] = static_cast<int8_t>(i % 3 == 0 ? -128 : i % 3 == 1 ? 127 : byte(rng) - 128);
          for (int g = 0; g < kQK_K / 16; ++g) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += x[k].qs[16 * g + i];
            x[k].bsums[g] = static_cast<int16_t>(sum);
          }
        }
        const size_t arow = ops->act_row_bytes(cols);
        AlignedBuffer acts(arow * static_cast<size_t>(ops->max_tokens));
        for (int64_t t = 0; t < ops->max_tokens; ++t)
          ops->expand_acts(&x[static_cast<size_t>(t * nb)], cols, acts.data() + t * arow);
        for (int64_t n_tokens = 1; n_tokens <= ops->max_tokens; ++n_tokens) {
          std::vector<float> y(static_cast<size_t>(n_tokens * n_rows), NAN);
          ops->gemv(*packed, 0, packed->tiles, acts.data(), arow, n_tokens, y.data(), n_rows);
          for (int64_t t = 0; t < n_tokens; ++t)
            for (int64_t r = 0; r < n_rows; ++r) {
              const float want =
                  reference(cols, m.data() + static_cast<size_t>(r) * row, &x[static_cast<size_t>(t * nb)]);
              EXPECT_NEAR(y[t * n_rows + r], want, 1e-5f * (1.0f + std::fabs(want)) + 2e-3f)
                  << "cols " << cols << " rows " << n_rows << " tokens " << n_tokens << " token " << t << " row " << r;
            }
        }
      }
  }
}

TEST(RepackTernary, Tq2RawCodesAndExtremeActivationsMatchReference) {
  check_raw_blocks(GgmlType::TQ2_0, kTq2Bytes, vec_dot_tq2_0_q8_k);
}

TEST(RepackTernary, Tq1RawBytesAndExtremeActivationsMatchReference) {
  check_raw_blocks(GgmlType::TQ1_0, kTq1Bytes, vec_dot_tq1_0_q8_k);
}

}  // namespace
}  // namespace edgellm
