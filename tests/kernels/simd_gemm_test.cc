// The prompt GEMM (kernels/simd_gemm.h) against the scalar row dot products, for every weight type with a
// GEMM kernel and every instruction-set variant this CPU runs, on shapes that cross every tile edge: rows
// around the 16-row tile and its 8-row halves, columns around the 1024-column repack chunk, token counts
// that exercise the 8/4/2/1 register tiles and partial 8-token activation tiles, and padded row strides.
#include "kernels/simd_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/blocks.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

struct GemmCase {
  GemmIsa isa;
  GgmlType type;
  int64_t rows, cols, tokens;
  size_t pad;  // extra bytes per weight row
};

void check_gemm(const GemmCase& c) {
  const TypeTraits* t = type_traits(c.type);
  const TypeTraits* q8 = type_traits(t->vec_dot_type);
  const auto expand = q8->type == GgmlType::Q8_K ? gemm_acts_from_q8_k : gemm_acts_from_q8_0;
  std::mt19937 rng(static_cast<uint32_t>(c.rows * 131 + c.cols * 7 + c.tokens));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> f(static_cast<size_t>(std::max(c.rows, c.tokens) * c.cols));

  const size_t stride = row_bytes(*t, c.cols) + c.pad;
  std::vector<uint8_t> w(stride * static_cast<size_t>(c.rows), 0xCD);
  for (float& v : f) v = dist(rng);
  for (int64_t r = 0; r < c.rows; ++r) t->from_float(f.data() + r * c.cols, w.data() + r * stride, c.cols);
  // Saturated blocks reach the extremes of each encoding (Q8_0's -127..127, Q4_0's 0 and 15). Rows 2 and
  // 3 put nearly every level of a block at one extreme, so that with token 0's activations at their top
  // (x = 127, the expanded byte 255) every product of a vpmaddubsw pair has the same sign and the AVX2
  // kernel's int16 sums reach their proven bound: row 2 all +1e3 (the largest-magnitude level of
  // the symmetric types), row 3 with one -1e3 per 16 columns and +1e3 elsewhere (the top level of the types with a
  // minimum).
  const auto extreme_row = [&](int64_t r) {
    for (int64_t k = 0; k < c.cols; ++k) {
      float v = (k % 2 ? 1e3f : -1e3f);
      if (r == 2) v = 1e3f;
      if (r == 3) v = k % 16 == 0 ? -1e3f : 1e3f;
      f[static_cast<size_t>(c.cols + k)] = v;
    }
    t->from_float(f.data() + c.cols, w.data() + static_cast<size_t>(r) * stride, c.cols);
  };
  for (int64_t r = 1; r < std::min<int64_t>(c.rows, 4); ++r) extreme_row(r);
  if (c.type == GgmlType::Q8_0 && c.rows > 2)
    for (int64_t b = 0; b < c.cols / 32; ++b)
      for (int8_t& q : reinterpret_cast<BlockQ8_0*>(w.data() + 2 * stride)[b].qs) q = -128;

  const size_t x_row = row_bytes(*q8, c.cols);
  std::vector<uint8_t> xq(x_row * static_cast<size_t>(c.tokens));
  std::vector<uint8_t> acts_storage(gemm_acts_bytes(c.tokens, c.cols) + 64);
  uint8_t* acts = acts_storage.data() + (64 - reinterpret_cast<uintptr_t>(acts_storage.data()) % 64) % 64;
  for (float& v : f) v = dist(rng) * 3.0f;
  // Token 0 (of several) at the activations' top level: Q8_0 maps +1 to 127; Q8_K maps the sign opposite
  // to its block's first largest value to +127.
  if (c.tokens > 1)
    for (int64_t k = 0; k < c.cols; ++k)
      f[static_cast<size_t>(k)] = q8->type != GgmlType::Q8_K || k % 256 == 0 ? 1.0f : -1.0f;
  for (int64_t k = 0; k < c.tokens; ++k) {
    q8->from_float(f.data() + k * c.cols, xq.data() + k * x_row, c.cols);
    // Q8_0 with -128, which no quantizer here writes but a foreign file or another activation quantizer
    // may: every weight of row 2 and every activation of token 1 (their products meet in pairs of 2^15).
    if (c.type == GgmlType::Q8_0 && k == 1)
      for (int64_t b = 0; b < c.cols / 32; ++b)
        for (int8_t& q : reinterpret_cast<BlockQ8_0*>(xq.data() + k * x_row)[b].qs) q = -128;
    expand(xq.data() + k * x_row, c.cols, k, acts);
  }

  GemmFn fn = gemm_kernel_for(c.type, c.isa);
  ASSERT_NE(fn, nullptr);
  std::vector<float> y(static_cast<size_t>(c.rows * c.tokens), NAN);
  // Two tasks split at a tile boundary, as two threads would.
  const int64_t split = (c.rows / 2) / kGemmTileRows * kGemmTileRows;
  for (auto [b, e] : {std::pair{int64_t{0}, split}, std::pair{split, c.rows}}) {
    GemmTask task;
    task.w = w.data();
    task.w_stride = stride;
    task.rows = c.rows;
    task.cols = c.cols;
    task.acts = acts;
    task.n_tokens = c.tokens;
    task.y = y.data();
    task.row_begin = b;
    task.row_end = e;
    if (b < e) fn(task);
  }
  for (int64_t k = 0; k < c.tokens; ++k)
    for (int64_t r = 0; r < c.rows; ++r) {
      const float expect = t->vec_dot(c.cols, w.data() + r * stride, xq.data() + k * x_row);
      // Integer group sums are exact; the float sum differs in order only.
      const float tol =
          2e-5f * std::fabs(expect) + 1e-5f * static_cast<float>(c.cols) * (r >= 1 && r <= 3 ? 1e3f : 1.0f);
      ASSERT_NEAR(y[static_cast<size_t>(k * c.rows + r)], expect, tol) << "row " << r << " token " << k;
    }
}

class SimdGemm : public ::testing::TestWithParam<GemmCase> {};

TEST_P(SimdGemm, MatchesScalarRowDots) {
  if (!gemm_isa_supported(GetParam().isa)) GTEST_SKIP() << "this CPU cannot run this GEMM variant";
  check_gemm(GetParam());
}

constexpr GemmIsa kIsas[] = {GemmIsa::kAvx512Vnni, GemmIsa::kAvxVnni, GemmIsa::kAvx2};

const char* isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAvx512Vnni:
      return "avx512";
    case GemmIsa::kAvxVnni:
      return "avxvnni";
    case GemmIsa::kAvx2:
      return "avx2";
  }
  return "?";
}

std::vector<GemmCase> cases() {
  std::vector<GemmCase> v;
  for (GemmIsa isa : kIsas) {
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0}) {
      v.push_back({isa, type, 1, 32, 1, 0});
      v.push_back({isa, type, 3, 32, 5, 0});
      v.push_back({isa, type, 17, 64, 9, 0});
      v.push_back({isa, type, 33, 96, 17, 0});
      v.push_back({isa, type, 17, 96, 15, 0});
      v.push_back({isa, type, 16, 1024, 8, 6});
      v.push_back({isa, type, 33, 1056, 13, 2});
      v.push_back({isa, type, 40, 2080, 4, 0});
    }
    // The k-quants: 256-column super-blocks; Q4_K/Q5_K in groups of 32 with minimums, Q2_K (with
    // minimums), Q3_K and Q6_K in groups of 16.
    for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
      v.push_back({isa, type, 1, 256, 1, 0});
      v.push_back({isa, type, 3, 256, 5, 0});
      v.push_back({isa, type, 17, 512, 17, 0});
      v.push_back({isa, type, 33, 1280, 9, 4});
      v.push_back({isa, type, 16, 2304, 4, 0});
    }
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Shapes, SimdGemm, ::testing::ValuesIn(cases()), [](const auto& info) {
  const GemmCase& c = info.param;
  return std::string(isa_name(c.isa)) + "_" + type_traits(c.type)->name + "_" + std::to_string(c.rows) + "x" +
         std::to_string(c.cols) + "_t" + std::to_string(c.tokens) + "_pad" + std::to_string(c.pad);
});

TEST(SimdGemm, KernelsOnlyForSupportedTypes) {
  for (GemmIsa isa : kIsas) {
    EXPECT_EQ(gemm_kernel_for(GgmlType::F16, isa), nullptr);
    EXPECT_EQ(gemm_kernel_for(GgmlType::TQ2_0, isa), nullptr);
  }
  EXPECT_EQ(gemm_supported_cpu(), gemm_kernel(GgmlType::Q4_0) != nullptr);
  // An activation tile holds 8 tokens: 9 tokens take two, and every tile is whole cache lines.
  EXPECT_EQ(gemm_acts_bytes(9, 256), 2 * gemm_acts_bytes(8, 256));
  EXPECT_EQ(gemm_acts_bytes(1, 96) % 64, 0u);
  EXPECT_GE(gemm_acts_bytes(1, 96), 8u * (96u + 3u * 8u + 6u * 4u));
}

TEST(SimdGemm, EnvironmentCapsTheChoice) {
  if (!gemm_isa_supported(GemmIsa::kAvx2)) GTEST_SKIP() << "this CPU runs no GEMM variant";
  const char* saved = std::getenv("EDGELLM_GEMM_ISA");
  const std::string restore = saved != nullptr ? saved : "";
  unsetenv("EDGELLM_GEMM_ISA");
  const GemmFn best = gemm_kernel(GgmlType::Q4_0);
  GemmFn fastest = nullptr;
  for (GemmIsa isa : kIsas)
    if (fastest == nullptr && gemm_isa_supported(isa)) fastest = gemm_kernel_for(GgmlType::Q4_0, isa);
  EXPECT_EQ(best, fastest);
  setenv("EDGELLM_GEMM_ISA", "avx2", 1);
  EXPECT_EQ(gemm_kernel(GgmlType::Q4_0), gemm_kernel_for(GgmlType::Q4_0, GemmIsa::kAvx2));
  EXPECT_EQ(gemm_kernel(GgmlType::Q6_K), gemm_kernel_for(GgmlType::Q6_K, GemmIsa::kAvx2));
  setenv("EDGELLM_GEMM_ISA", "avxvnni", 1);
  EXPECT_EQ(
      gemm_kernel(GgmlType::Q4_0),
      gemm_kernel_for(GgmlType::Q4_0, gemm_isa_supported(GemmIsa::kAvxVnni) ? GemmIsa::kAvxVnni : GemmIsa::kAvx2));
  setenv("EDGELLM_GEMM_ISA", "sse2", 1);  // unknown: ignored
  EXPECT_EQ(gemm_kernel(GgmlType::Q4_0), best);
  EXPECT_EQ(gemm_kernel(GgmlType::F16), nullptr);
  if (saved != nullptr)
    setenv("EDGELLM_GEMM_ISA", restore.c_str(), 1);
  else
    unsetenv("EDGELLM_GEMM_ISA");
}

}  // namespace
}  // namespace edgellm
