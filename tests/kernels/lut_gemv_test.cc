// The table-lookup GEMV on every compiled Highway target, the AVX-512 VBMI kernel and the portable kernel against
// the scalar lookup oracle elq_vec_dot_lut, on random weights and activations of odd shapes.
// The same targets as kernels/lut_gemv.cc (NEON only on ARM), so the loop below visits what it compiled.
#define HWY_DISABLED_TARGETS (HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128)
#include "kernels/lut_gemv.h"

#include <gtest/gtest.h>
#include <hwy/highway.h>
#include <hwy/targets.h>

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "kernels/elq.h"
#include "kernels/lut_gemm.h"
#include "kernels/matmul.h"
#include "hwy_targets.h"

namespace edgellm {
namespace {

std::vector<float> random_normal(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

// On ARM the LUT kernel compiles NEON only (no SVE targets), so one target is all there is.
template <class F>
void for_each_target(F&& body) {
#if defined(__x86_64__)
  for_each_hwy_target(&lut_dispatched_target, std::forward<F>(body));
#else
  for_each_hwy_target(&lut_dispatched_target, std::forward<F>(body), 1);
#endif
}

std::vector<uint32_t> formats_under_test() {
  std::vector<uint32_t> ids;
  for (int bits = 1; bits <= 8; ++bits)
    for (bool zp : {false, true}) ids.push_back(elq_type_id(bits, 64, zp));
  for (int g : {32, 128})
    for (int bits : {2, 4}) ids.push_back(elq_type_id(bits, g, bits == 4));
  for (int g : {32, 64, 128}) ids.push_back(elq_ternary_id(g));
  return ids;
}

struct Case {
  int64_t rows, cols, tokens;
};

void check(uint32_t id, const Case& c, LutGemvFn fn) {
  const ElqFormat& f = *elq_format(id);
  const int64_t cols = c.cols / f.group * f.group;
  if (cols == 0) return;
  const std::vector<float> w = random_normal(c.rows * cols, static_cast<uint32_t>(id + c.rows));
  std::vector<uint8_t> q(static_cast<size_t>(c.rows * (cols / f.group)) * f.block_bytes);
  elq_quantize(f, w.data(), q.data(), c.rows * cols);
  const size_t stride = static_cast<size_t>(cols / f.group) * f.block_bytes;
  Result<LutPacked> packed = lut_pack(id, c.rows, cols, q.data(), stride);
  ASSERT_TRUE(packed.is_ok()) << packed.status().message();

  const size_t x_stride = static_cast<size_t>(cols / kElqActBlock) * sizeof(BlockElqAct);
  std::vector<uint8_t> act(x_stride * static_cast<size_t>(c.tokens));
  const std::vector<float> x = random_normal(c.tokens * cols, 99);
  for (int64_t t = 0; t < c.tokens; ++t) elq_act_from_float(x.data() + t * cols, act.data() + t * x_stride, cols);

  // Sentinels beyond the last row catch writes past the matrix.
  const int64_t y_stride = c.rows + 5;
  std::vector<float> y(static_cast<size_t>(y_stride * c.tokens), -777.0f);
  fn(*packed, 0, packed->tiles, act.data(), x_stride, c.tokens, y.data(), y_stride);
  for (int64_t t = 0; t < c.tokens; ++t) {
    for (int64_t r = 0; r < c.rows; ++r) {
      const float ref = elq_vec_dot_lut(f, cols, q.data() + r * stride, act.data() + t * x_stride);
      // Same integer sums; only the float accumulation order differs.
      ASSERT_NEAR(y[t * y_stride + r], ref, 2e-4f * (1.0f + std::fabs(ref)) + 1e-5f * static_cast<float>(cols))
          << f.name << " rows=" << c.rows << " cols=" << cols << " token " << t << " row " << r;
    }
    for (int64_t r = c.rows; r < y_stride; ++r) ASSERT_EQ(y[t * y_stride + r], -777.0f);
  }
}

const Case kCases[] = {{1, 128, 1}, {3, 96, 2}, {17, 384, 1}, {33, 640, 3}, {16, 1024, 1}};

TEST(LutGemv, EveryTargetMatchesLookupOracle) {
  for_each_target([] {
    for (uint32_t id : formats_under_test())
      for (const Case& c : kCases) check(id, c, lut_gemv_dispatch);
  });
}

TEST(LutGemv, PortableKernelMatchesLookupOracle) {
  for (uint32_t id : formats_under_test())
    for (const Case& c : kCases) check(id, c, lut_gemv_portable);
}

TEST(LutGemv, VbmiKernelMatchesLookupOracle) {
  const LutGemvFn vbmi = lut_gemv_vbmi();
  if (vbmi == nullptr) GTEST_SKIP() << "this CPU lacks AVX-512 VBMI + VNNI";
  for (uint32_t id : formats_under_test())
    for (const Case& c : kCases) check(id, c, vbmi);
}

// EDGELLM_LUT_VBMI=off selects the Highway kernel; unset or anything else the VBMI one where the CPU has it.
TEST(LutGemv, VbmiSwitchSelectsKernel) {
  const LutGemvFn hwy = lut_gemv_select("off");
  ASSERT_NE(hwy, nullptr);
  EXPECT_NE(hwy, lut_gemv_vbmi());
  const LutGemvFn best = lut_gemv_vbmi() != nullptr ? lut_gemv_vbmi() : hwy;
  EXPECT_EQ(lut_gemv_select(nullptr), best);
  EXPECT_EQ(lut_gemv_select("on"), best);
}

// The AVX-512 table builder gives elq_act_from_float's int8 tables and scales bit for bit, its sums up to
// float order, also for blocks of zeros and with non-finite inputs (which both builders zero).
TEST(LutGemv, Avx512TablesMatchScalarBuilder) {
  const LutActFn fast = lut_act_avx512();
  if (fast == nullptr) GTEST_SKIP() << "this CPU lacks AVX-512 BW";
  for (int64_t n : {32, 96, 2080}) {
    std::vector<float> x = random_normal(n, static_cast<uint32_t>(n));
    for (int i = 32; i < 64 && i < n; ++i) x[static_cast<size_t>(i)] = 0.0f;
    if (n > 100) {
      x[100] = INFINITY;
      x[101] = -INFINITY;
      x[102] = NAN;
      x[200] *= 1e6f;
    }
    std::vector<BlockElqAct> ref(static_cast<size_t>(n / kElqActBlock)), got(ref.size());
    elq_act_from_float(x.data(), ref.data(), n);
    fast(x.data(), got.data(), n);
    for (size_t b = 0; b < ref.size(); ++b) {
      ASSERT_EQ(got[b].scale, ref[b].scale) << "n=" << n << " block " << b;
      ASSERT_NEAR(got[b].sum, ref[b].sum, 1e-5f * (1.0f + std::fabs(ref[b].sum)) + 1e-4f * ref[b].scale * 127.0f)
          << "n=" << n << " block " << b;
      for (int j = 0; j < 8; ++j)
        for (int i = 0; i < 16; ++i)
          ASSERT_EQ(got[b].tables[j][i], ref[b].tables[j][i]) << "block " << b << " table " << j;
    }
  }
}

TEST(LutGemv, PackRejectsBadInput) {
  std::vector<uint8_t> q(1024);
  const uint32_t id = elq_type_id(4, 64, false);
  EXPECT_FALSE(lut_pack(2 /* q4_0 */, 1, 64, q.data(), 36).is_ok());
  EXPECT_FALSE(lut_pack(id, 1, 96, q.data(), 51).is_ok());
  EXPECT_FALSE(lut_pack(id, 0, 64, q.data(), 34).is_ok());
  EXPECT_FALSE(lut_pack(id, 1, 64, nullptr, 34).is_ok());
  EXPECT_TRUE(lut_pack(id, 1, 64, q.data(), 34).is_ok());
}

// A whole tile range split in two calls gives the same result as one call (threads split tiles this way).
TEST(LutGemv, TileRangesCompose) {
  const uint32_t id = elq_type_id(3, 64, true);
  const ElqFormat& f = *elq_format(id);
  const int64_t rows = 40, cols = 256;
  const std::vector<float> w = random_normal(rows * cols, 5), x = random_normal(cols, 6);
  std::vector<uint8_t> q(static_cast<size_t>(rows * cols / f.group) * f.block_bytes);
  elq_quantize(f, w.data(), q.data(), rows * cols);
  Result<LutPacked> p = lut_pack(id, rows, cols, q.data(), static_cast<size_t>(cols / f.group) * f.block_bytes);
  ASSERT_TRUE(p.is_ok());
  std::vector<BlockElqAct> act(cols / 32);
  elq_act_from_float(x.data(), act.data(), cols);
  std::vector<float> a(rows), b(rows);
  lut_gemv_kernel()(*p, 0, p->tiles, act.data(), 0, 1, a.data(), rows);
  lut_gemv_kernel()(*p, 0, 1, act.data(), 0, 1, b.data(), rows);
  lut_gemv_kernel()(*p, 1, p->tiles, act.data(), 0, 1, b.data(), rows);
  EXPECT_EQ(a, b);
}

// Linear runs elq weights through the lookup kernel below kLutGemmMinTokens tokens (from there on the GEMM of
// lut_gemm_test.cc): 1 token (decode) and a few, 1 and 2 threads.
TEST(LutGemv, LinearForwardMatchesOracle) {
  for (uint32_t id : {elq_type_id(4, 64, false), elq_type_id(2, 128, true), elq_ternary_id(64)}) {
    const ElqFormat& f = *elq_format(id);
    const int64_t rows = 37, cols = 384, tokens = kLutGemmMinTokens - 1;
    const std::vector<float> w = random_normal(rows * cols, 21), x = random_normal(tokens * cols, 22);
    std::vector<uint8_t> q(static_cast<size_t>(rows * cols / f.group) * f.block_bytes);
    elq_quantize(f, w.data(), q.data(), rows * cols);
    Result<Linear> lin = Linear::prepare(WeightView{static_cast<GgmlType>(id), rows, cols, q.data(), 0});
    ASSERT_TRUE(lin.is_ok()) << lin.status().message();
    std::vector<BlockElqAct> act(cols / 32);
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      MatmulScratch scratch;
      for (int64_t n : {int64_t{1}, tokens}) {
        std::vector<float> y(static_cast<size_t>(n * rows));
        lin->forward(x.data(), n, y.data(), pool, scratch);
        for (int64_t t = 0; t < n; ++t) {
          elq_act_from_float(x.data() + t * cols, act.data(), cols);
          for (int64_t r = 0; r < rows; ++r) {
            const float ref = elq_vec_dot_lut(f, cols, q.data() + r * (cols / f.group) * f.block_bytes, act.data());
            ASSERT_NEAR(y[t * rows + r], ref, 2e-4f * (1.0f + std::fabs(ref))) << f.name << " t=" << t << " r=" << r;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace edgellm
