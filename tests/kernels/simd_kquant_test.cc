// The k-quant decode dot products against the scalar oracles: the Highway kernels on every compiled and
// supported target, and the hand-written x86 kernels (x86_kquant.h) in every variant this CPU runs.
#include "kernels/simd_kquant.h"

#include <gtest/gtest.h>
#include <hwy/highway.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/quants.h"
#include "kernels/type_traits.h"
#include "kernels/x86_kquant.h"
#include "hwy_targets.h"

namespace edgellm {
namespace {

using DotFn = float (*)(int64_t, const void*, const void*);

struct Case {
  GgmlType type;
  DotFn simd;
  DotFn scalar;
};
const Case kCases[] = {
    {GgmlType::Q2_K, simd_vec_dot_q2_k, vec_dot_q2_k}, {GgmlType::Q3_K, simd_vec_dot_q3_k, vec_dot_q3_k},
    {GgmlType::Q4_K, simd_vec_dot_q4_k, vec_dot_q4_k}, {GgmlType::Q5_K, simd_vec_dot_q5_k, vec_dot_q5_k},
    {GgmlType::Q6_K, simd_vec_dot_q6_k, vec_dot_q6_k},
};
const int64_t kSuperBlocks[] = {1, 3, 7, 11};

std::vector<float> random_normal(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

std::vector<uint8_t> quantize(GgmlType type, const std::vector<float>& x) {
  const TypeTraits* t = type_traits(type);
  std::vector<uint8_t> q(row_bytes(*t, static_cast<int64_t>(x.size())));
  t->from_float(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> dequantize(GgmlType type, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  type_traits(type)->to_float(q.data(), y.data(), n);
  return y;
}

// Stores block i's fp16 d and dmin (Q2_K, Q4_K, Q5_K).
void set_d_dmin(GgmlType type, uint8_t* row, int64_t i, uint16_t d, uint16_t dmin) {
  const uint16_t dd[2] = {d, dmin};
  if (type == GgmlType::Q2_K)  // d, dmin trail the block
    std::memcpy(row + static_cast<size_t>(i) * sizeof(BlockQ2_K) + offsetof(BlockQ2_K, d), dd, sizeof(dd));
  else  // d, dmin lead Q4_K and Q5_K blocks
    std::memcpy(row + static_cast<size_t>(i) * type_traits(type)->type_size, dd, sizeof(dd));
}

// A row of random bytes (every level, scale and high-bit pattern) with sane fp16 super-block scales in
// [2^-8, 2^-4) (sign random for Q3_K's and Q6_K's d, positive for the others' d and dmin).
std::vector<uint8_t> random_blocks(GgmlType type, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> mag(1.0f / 256, 1.0f / 16);
  std::vector<uint8_t> q(row_bytes(*type_traits(type), n));
  for (uint8_t& b : q) b = static_cast<uint8_t>(byte(rng));
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    if (type == GgmlType::Q6_K) {
      auto* blk = reinterpret_cast<BlockQ6_K*>(q.data()) + i;
      const uint16_t d = fp32_to_fp16(byte(rng) & 1 ? mag(rng) : -mag(rng));
      std::memcpy(&blk->d, &d, sizeof(d));
    } else if (type == GgmlType::Q3_K) {
      auto* blk = reinterpret_cast<BlockQ3_K*>(q.data()) + i;
      const uint16_t d = fp32_to_fp16(byte(rng) & 1 ? mag(rng) : -mag(rng));
      std::memcpy(&blk->d, &d, sizeof(d));
    } else {
      const uint16_t d = fp32_to_fp16(mag(rng));
      set_d_dmin(type, q.data(), i, d, fp32_to_fp16(mag(rng)));
    }
  }
  return q;
}

template <class F>
void for_each_target(F&& body) {
  for_each_hwy_target(&simd_kquant_dispatched_target, std::forward<F>(body));
}

// Integer block sums are exact on both paths; only the float accumulation order differs, so the gap is
// a few float roundings of the terms' magnitude Σ|w·x| (from the dequantized rows).
double bound(GgmlType wt, const std::vector<uint8_t>& wq, const std::vector<uint8_t>& xq, int64_t n) {
  const auto w = dequantize(wt, wq, n), x = dequantize(GgmlType::Q8_K, xq, n);
  double mag = 0;
  for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(w[i]) * x[i]);
  return 2e-5 * mag + 1e-6;
}

TEST(SimdKquant, RandomBlocksMatchScalarOnEveryTarget) {
  for_each_target([] {
    for (const Case& c : kCases) {
      for (int64_t k : kSuperBlocks) {
        const int64_t n = k * kQK_K;
        const auto wq = random_blocks(c.type, n, 10 + static_cast<uint32_t>(k));
        const auto xq = quantize(GgmlType::Q8_K, random_normal(n, 20 + static_cast<uint32_t>(k), 3.0f));
        const float want = c.scalar(n, wq.data(), xq.data());
        EXPECT_NEAR(c.simd(n, wq.data(), xq.data()), want, bound(c.type, wq, xq, n))
            << type_traits(c.type)->name << " n=" << n;
      }
    }
  });
}

TEST(SimdKquant, QuantizedGaussianRowsMatchScalarOnEveryTarget) {
  for_each_target([] {
    for (const Case& c : kCases) {
      for (int64_t k : kSuperBlocks) {
        const int64_t n = k * kQK_K;
        const auto wq = quantize(c.type, random_normal(n, 30 + static_cast<uint32_t>(k), 0.02f));
        const auto xq = quantize(GgmlType::Q8_K, random_normal(n, 40 + static_cast<uint32_t>(k), 1.0f));
        const float want = c.scalar(n, wq.data(), xq.data());
        ASSERT_NE(want, 0.0f);
        EXPECT_NEAR(c.simd(n, wq.data(), xq.data()), want, bound(c.type, wq, xq, n))
            << type_traits(c.type)->name << " n=" << n;
      }
    }
  });
}

// Extreme levels everywhere (max scales, all-ones quants, activations at ±127) stay within int32.
TEST(SimdKquant, SaturatedBlocksDoNotOverflow) {
  for_each_target([] {
    for (const Case& c : kCases) {
      const int64_t n = 2 * kQK_K;
      std::vector<uint8_t> wq(row_bytes(*type_traits(c.type), n), 0xFF);
      for (int64_t i = 0; i < n / kQK_K; ++i) {
        const uint16_t one = fp32_to_fp16(1.0f);
        if (c.type == GgmlType::Q6_K) {
          auto* blk = reinterpret_cast<BlockQ6_K*>(wq.data()) + i;
          std::memset(blk->ql, 0, sizeof(blk->ql));  // with qh = 0: level 0 - 32 = -32, the largest |level|
          std::memset(blk->qh, 0, sizeof(blk->qh));
          std::memset(blk->scales, 0x80, sizeof(blk->scales));  // -128
          std::memcpy(&blk->d, &one, sizeof(one));
        } else if (c.type == GgmlType::Q3_K) {  // all ones: level 3, scale 31
          std::memcpy(&(reinterpret_cast<BlockQ3_K*>(wq.data()) + i)->d, &one, sizeof(one));
        } else {
          set_d_dmin(c.type, wq.data(), i, one, one);
        }
      }
      std::vector<float> xf(static_cast<size_t>(n), 1.0f);
      for (size_t i = 0; i < xf.size(); i += 3) xf[i] = -1.0f;
      const auto xq = quantize(GgmlType::Q8_K, xf);
      const float want = c.scalar(n, wq.data(), xq.data());
      ASSERT_TRUE(std::isfinite(want) && std::fabs(want) > 1e3f) << want;
      EXPECT_NEAR(c.simd(n, wq.data(), xq.data()), want, 1e-6 * std::fabs(want) + 1e-3) << type_traits(c.type)->name;
    }
  });
}

TEST(SimdKquant, ResolvesOnlyTheTypesWithAFastPath) {
  EXPECT_NE(simd_kquant_vec_dot(GgmlType::Q4_K), nullptr);
  EXPECT_NE(simd_kquant_vec_dot(GgmlType::Q5_K), nullptr);
  EXPECT_NE(simd_kquant_vec_dot(GgmlType::Q6_K), nullptr);
  EXPECT_NE(simd_kquant_vec_dot(GgmlType::Q2_K), nullptr);
  EXPECT_NE(simd_kquant_vec_dot(GgmlType::Q3_K), nullptr);
  EXPECT_EQ(simd_kquant_vec_dot(GgmlType::Q8_0), nullptr);
}

// --- Hand-written x86 kernels, every variant this CPU runs (the 256-bit one too on AVX-512 machines). ---

const KquantIsa kIsas[] = {KquantIsa::kAvx512Vnni, KquantIsa::kAvx2};
const char* isa_name(KquantIsa isa) { return isa == KquantIsa::kAvx512Vnni ? "avx512vnni" : "avx2"; }

// Runs body(isa, case, kernel) for every supported variant and k-quant type; fails if this x86 CPU runs
// none (every x86-64 CI machine has AVX2), skips loudly elsewhere.
template <class F>
void for_each_x86_kernel(F&& body) {
  int ran = 0;
  for (KquantIsa isa : kIsas) {
    if (!x86_kquant_supported(isa)) {
      std::printf("[  NOTE    ] x86 k-quant variant %s: not supported by this CPU, not tested\n", isa_name(isa));
      continue;
    }
    for (const Case& c : kCases) {
      const VecDotFn fn = x86_kquant_vec_dot(c.type, isa);
      ASSERT_NE(fn, nullptr) << isa_name(isa) << " " << type_traits(c.type)->name;
      SCOPED_TRACE(std::string(isa_name(isa)) + " " + type_traits(c.type)->name);
      body(c, fn);
      ++ran;
    }
  }
#if defined(__x86_64__)
  EXPECT_GT(ran, 0) << "no x86 k-quant variant ran";
#else
  if (ran == 0) GTEST_SKIP() << "not an x86-64 build";
#endif
}

const int64_t kX86SuperBlocks[] = {1, 3, 7, 32};

TEST(X86Kquant, RandomBlocksMatchScalar) {
  for_each_x86_kernel([](const Case& c, VecDotFn fn) {
    for (int64_t k : kX86SuperBlocks) {
      const int64_t n = k * kQK_K;
      const auto wq = random_blocks(c.type, n, 50 + static_cast<uint32_t>(k));
      const auto xq = quantize(GgmlType::Q8_K, random_normal(n, 60 + static_cast<uint32_t>(k), 3.0f));
      EXPECT_NEAR(fn(n, wq.data(), xq.data()), c.scalar(n, wq.data(), xq.data()), bound(c.type, wq, xq, n))
          << "n=" << n;
    }
  });
}

TEST(X86Kquant, QuantizedGaussianRowsMatchScalar) {
  for_each_x86_kernel([](const Case& c, VecDotFn fn) {
    for (int64_t k : kX86SuperBlocks) {
      const int64_t n = k * kQK_K;
      const auto wq = quantize(c.type, random_normal(n, 70 + static_cast<uint32_t>(k), 0.02f));
      const auto xq = quantize(GgmlType::Q8_K, random_normal(n, 80 + static_cast<uint32_t>(k), 1.0f));
      const float want = c.scalar(n, wq.data(), xq.data());
      ASSERT_NE(want, 0.0f);
      EXPECT_NEAR(fn(n, wq.data(), xq.data()), want, bound(c.type, wq, xq, n)) << "n=" << n;
    }
  });
}

// Every weight byte 0xFF or 0x00 (all-max or all-min levels) with the largest scales and minimums, against
// activations at ±127: the int16 narrowing and the int32 sums must stay exact.
TEST(X86Kquant, ExtremeBlocksAreExact) {
  for_each_x86_kernel([](const Case& c, VecDotFn fn) {
    const int64_t n = 3 * kQK_K;
    for (uint8_t fill : {uint8_t{0xFF}, uint8_t{0x00}}) {
      std::vector<uint8_t> wq(row_bytes(*type_traits(c.type), n), fill);
      const uint16_t one = fp32_to_fp16(1.0f);
      for (int64_t i = 0; i < n / kQK_K; ++i) {
        if (c.type == GgmlType::Q6_K) {
          auto* blk = reinterpret_cast<BlockQ6_K*>(wq.data()) + i;
          std::memset(blk->scales, fill == 0 ? 0x80 : 0x7F, sizeof(blk->scales));  // -128 / 127
          std::memcpy(&blk->d, &one, sizeof(one));
        } else if (c.type == GgmlType::Q3_K) {
          auto* blk = reinterpret_cast<BlockQ3_K*>(wq.data()) + i;
          if (fill == 0) std::memset(blk->scales, 0xFF, sizeof(blk->scales));  // scale 31 with level -4
          std::memcpy(&blk->d, &one, sizeof(one));
        } else {
          if (fill == 0) {  // levels 0, largest scales and minimums
            uint8_t* base = wq.data() + static_cast<size_t>(i) * type_traits(c.type)->type_size;
            if (c.type == GgmlType::Q2_K)
              std::memset(reinterpret_cast<BlockQ2_K*>(base)->scales, 0xFF, 16);
            else
              std::memset(base + 4, 0xFF, kKScaleSize);
          }
          set_d_dmin(c.type, wq.data(), i, one, one);
        }
      }
      for (float sign : {1.0f, -1.0f}) {
        std::vector<float> xf(static_cast<size_t>(n), sign);
        for (size_t i = 0; i < xf.size(); i += 5) xf[i] = -sign;
        const auto xq = quantize(GgmlType::Q8_K, xf);
        const float want = c.scalar(n, wq.data(), xq.data());
        ASSERT_TRUE(std::isfinite(want)) << want;
        EXPECT_NEAR(fn(n, wq.data(), xq.data()), want, 1e-6 * std::fabs(want) + 1e-3)
            << "fill " << int{fill} << " sign " << sign;
      }
    }
  });
}

TEST(X86Kquant, PreparedKernelIsTheBestSupportedVariant) {
  for (const Case& c : kCases) {
    VecDotFn want = nullptr;
    for (KquantIsa isa : kIsas) {
      if (x86_kquant_supported(isa)) {
        want = x86_kquant_vec_dot(c.type, isa);
        break;
      }
    }
    if (want != nullptr) {
      EXPECT_EQ(simd_kquant_vec_dot(c.type), want) << type_traits(c.type)->name;
    }
  }
}

// --- The Highway Q8_K activation quantizer: bit-exact to the scalar one (qs, d and bsums) on every target. ---

// Blocks of 256: gaussian, exact ties (k + 0.5 after scaling), all zero, a NaN, an inf, a subnormal extreme,
// huge values, and the extreme value positive / negative / repeated.
std::vector<float> q8_k_edge_rows() {
  std::vector<float> x = random_normal(12 * kQK_K, 90, 2.0f);
  auto block = [&](int b) { return x.data() + b * kQK_K; };
  for (int l = 0; l < kQK_K; ++l) block(1)[l] = static_cast<float>(l % 254 - 127) + 0.5f;  // exact ties: the scale is 1
  block(1)[7] = -127.0f;                                                                 // max -> -127
  std::fill(block(2), block(2) + kQK_K, 0.0f);
  block(3)[100] = std::nanf("");
  block(4)[5] = -INFINITY;
  for (int l = 0; l < kQK_K; ++l) block(5)[l] = 1e-41f * static_cast<float>(l % 7 - 3);  // subnormal max
  for (int l = 0; l < kQK_K; ++l) block(6)[l] *= 1e37f;
  block(7)[0] = 50.0f;
  block(7)[200] = -50.0f;  // two extremes: the first one decides the sign
  block(8)[3] = -0.0f;
  for (int l = 0; l < kQK_K; ++l) block(9)[l] = static_cast<float>((l * 37) % 255 - 127);  // integers: ±127 exact
  return x;
}

TEST(SimdQuantizeQ8K, BitExactToScalarOnEveryTarget) {
  const std::vector<float> x = q8_k_edge_rows();
  const int64_t n = static_cast<int64_t>(x.size());
  const size_t bytes = row_bytes(*type_traits(GgmlType::Q8_K), n);
  std::vector<uint8_t> want(bytes), got(bytes);
  q8_k_from_float(x.data(), want.data(), n);
  for_each_target([&] {
    std::fill(got.begin(), got.end(), uint8_t{0xAB});
    simd_quantize_q8_k(x.data(), got.data(), n);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      const size_t off = static_cast<size_t>(b) * sizeof(BlockQ8_K);
      EXPECT_EQ(std::memcmp(want.data() + off, got.data() + off, sizeof(BlockQ8_K)), 0) << "block " << b;
    }
  });
}

// The rounding without a clamp and the bsums from byte sums: blocks whose extreme is -127 (scale 1) or -127/3,
// filled with the 32 floats either side of ±(k + 0.5) for every k < 127, and blocks of all ±127 (bsums ±2032).
TEST(SimdQuantizeQ8K, NearTiesAndFullBlocksAreBitExact) {
  std::vector<float> x;
  for (float scale : {1.0f, 1.0f / 3.0f}) {
    for (int k = 0; k < 127; ++k) {
      float up = static_cast<float>(k) + 0.5f, down = up;
      for (int u = 0; u < 32; ++u) {
        for (float v : {up, -up, down, -down}) {
          if (x.size() % kQK_K == 0) x.push_back(-127.0f * scale);
          x.push_back(v * scale);
        }
        up = std::nextafter(up, 200.0f);
        down = std::nextafter(down, 0.0f);
      }
    }
  }
  while (x.size() % kQK_K != 0) x.push_back(0.25f);
  x.insert(x.end(), kQK_K, 127.0f);
  x.insert(x.end(), kQK_K, -127.0f);
  const int64_t n = static_cast<int64_t>(x.size());
  const size_t bytes = row_bytes(*type_traits(GgmlType::Q8_K), n);
  std::vector<uint8_t> want(bytes);
  q8_k_from_float(x.data(), want.data(), n);
  for_each_target([&] {
    std::vector<uint8_t> got(bytes, 0xAB);
    simd_quantize_q8_k(x.data(), got.data(), n);
    for (int64_t b = 0; b < n / kQK_K; ++b) {
      const size_t off = static_cast<size_t>(b) * sizeof(BlockQ8_K);
      ASSERT_EQ(std::memcmp(want.data() + off, got.data() + off, sizeof(BlockQ8_K)), 0) << "block " << b;
    }
  });
}

TEST(SimdQuantizeQ8K, ResolvedQuantizerIsBitExact) {
  const std::vector<float> x = random_normal(7 * kQK_K, 91, 0.3f);
  const size_t bytes = row_bytes(*type_traits(GgmlType::Q8_K), 7 * kQK_K);
  std::vector<uint8_t> want(bytes), got(bytes);
  q8_k_from_float(x.data(), want.data(), 7 * kQK_K);
  simd_kquant_quantize_q8_k()(x.data(), got.data(), 7 * kQK_K);
  EXPECT_EQ(want, got);
}

}  // namespace
}  // namespace edgellm
