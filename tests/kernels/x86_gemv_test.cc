// The x86 decode GEMV kernels (kernels/x86_gemv.h), every variant this CPU runs, against the scalar
// traits vec_dot on random blocks of odd shapes.
#include "kernels/x86_gemv.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

std::vector<float> random_normal(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = dist(rng);
  return v;
}

const GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0};
const GemvIsa kIsas[] = {GemvIsa::kAvx512Vnni, GemvIsa::kAvxVnni, GemvIsa::kAvx2};

std::string isa_name(GemvIsa isa) {
  switch (isa) {
    case GemvIsa::kAvx512Vnni:
      return "avx512vnni";
    case GemvIsa::kAvxVnni:
      return "avxvnni";
    case GemvIsa::kAvx2:
      return "avx2";
  }
  return "?";
}

// Runs the kernel over `rows` × `blocks`·32 weights stored at `w` (stride bytes apart) for n_tokens tokens
// and checks every output against the scalar vec_dot within a bound relative to Σ|w·x|.
void check(GgmlType type, const GemvKernel& k, const uint8_t* w, size_t stride, int64_t rows, int64_t blocks,
           int64_t n_tokens, uint32_t seed) {
  const TypeTraits* t = type_traits(type);
  const TypeTraits* q8 = type_traits(GgmlType::Q8_0);
  const int64_t cols = blocks * 32;
  const size_t xrow = row_bytes(*q8, cols), arow = gemv_act_row_bytes(cols);
  std::vector<uint8_t> xq(xrow * static_cast<size_t>(n_tokens));
  AlignedBuffer acts(arow * static_cast<size_t>(n_tokens));
  std::vector<float> xf_all, wf(static_cast<size_t>(cols)), xd(static_cast<size_t>(cols));
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    const auto xf = random_normal(cols, seed + 100 + static_cast<uint32_t>(tok), 3.0f);
    q8->from_float(xf.data(), xq.data() + tok * xrow, cols);
    gemv_expand_acts(xq.data() + tok * xrow, cols, k.offset, acts.data() + tok * arow);
  }
  std::vector<float> y(static_cast<size_t>(n_tokens * rows), NAN);
  GemvTask task;
  task.w = w;
  task.w_stride = stride;
  task.cols = cols;
  task.acts = acts.data();
  task.n_tokens = n_tokens;
  task.y = y.data();
  task.y_stride = rows;
  task.row_begin = 0;
  task.row_end = rows;
  k.fn(task);
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    q8->to_float(xq.data() + tok * xrow, xd.data(), cols);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* wr = w + static_cast<size_t>(r) * stride;
      t->to_float(wr, wf.data(), cols);
      double mag = 0;
      for (int64_t c = 0; c < cols; ++c) mag += std::fabs(static_cast<double>(wf[c]) * xd[c]);
      const float want = t->vec_dot(cols, wr, xq.data() + tok * xrow);
      ASSERT_NEAR(y[tok * rows + r], want, 2e-6 * mag + 1e-6)
          << t->name << " rows=" << rows << " blocks=" << blocks << " token " << tok << " row " << r;
    }
  }
}

// Random weights of a type, rows `stride` bytes apart (padding bytes 0xEE).
std::vector<uint8_t> make_weights(GgmlType type, int64_t rows, int64_t cols, size_t stride, uint32_t seed) {
  const TypeTraits* t = type_traits(type);
  std::vector<uint8_t> w(stride * static_cast<size_t>(rows), 0xEE);
  const auto f = random_normal(rows * cols, seed, 0.05f);
  for (int64_t r = 0; r < rows; ++r) t->from_float(f.data() + r * cols, w.data() + r * stride, cols);
  return w;
}

TEST(X86Gemv, EveryVariantMatchesScalarOnOddShapes) {
  int variants = 0;
  for (GemvIsa isa : kIsas) {
    for (GgmlType type : kTypes) {
      const GemvKernel k = x86_gemv_kernel(type, isa);
      if (k.fn == nullptr) continue;
      ++variants;
      SCOPED_TRACE(isa_name(isa));
      const TypeTraits* t = type_traits(type);
      for (int64_t rows : {1, 3, 17})
        for (int64_t blocks : {1, 2, 3, 7, 130}) {
          const size_t stride = row_bytes(*t, blocks * 32) + (rows == 3 ? 6 : 0);
          const auto w = make_weights(type, rows, blocks * 32, stride, static_cast<uint32_t>(rows * 1000 + blocks));
          for (int64_t n_tokens = 1; n_tokens <= kGemvMaxTokens; ++n_tokens)
            check(type, k, w.data(), stride, rows, blocks, n_tokens, static_cast<uint32_t>(blocks + n_tokens));
        }
    }
  }
#if defined(__x86_64__)
  // Every x86-64 CPU this project targets has at least AVX2.
  EXPECT_GE(variants, 5);
#endif
}

TEST(X86Gemv, BestVariantIsTheWidest) {
  const GemvKernel best = x86_gemv_best(GgmlType::Q4_0);
  for (GemvIsa isa : kIsas) {
    const GemvKernel k = x86_gemv_kernel(GgmlType::Q4_0, isa);
    if (k.fn == nullptr) continue;
    EXPECT_EQ(best.fn, k.fn) << isa_name(isa);
    break;
  }
  EXPECT_EQ(x86_gemv_best(GgmlType::Q4_K).fn, nullptr);
}

// The last row of a matrix that ends at an unreadable page: the kernels must not read past the row.
TEST(X86Gemv, LastRowEndingAtAPageBoundaryDoesNotFault) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* map = mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto* base = static_cast<uint8_t*>(map);
  ASSERT_EQ(mprotect(base + 2 * page, page, PROT_NONE), 0);
  for (GemvIsa isa : kIsas)
    for (GgmlType type : kTypes) {
      const GemvKernel k = x86_gemv_kernel(type, isa);
      if (k.fn == nullptr) continue;
      SCOPED_TRACE(isa_name(isa));
      const TypeTraits* t = type_traits(type);
      for (int64_t blocks : {3, 4}) {
        const size_t stride = row_bytes(*t, blocks * 32);
        const auto w = make_weights(type, 2, blocks * 32, stride, 7);
        // Both rows end exactly at the protected page, so the last block is its final byte.
        uint8_t* at = base + 2 * page - w.size();
        std::memcpy(at, w.data(), w.size());
        check(type, k, at, stride, 2, blocks, 1, 3);
      }
    }
  munmap(map, 3 * page);
}

TEST(X86Gemv, ExpandedActivationsArePaddedWithZeros) {
  const int64_t cols = 96;  // three blocks: padded to 128
  const TypeTraits* q8 = type_traits(GgmlType::Q8_0);
  const auto xf = random_normal(cols, 5, 2.0f);
  std::vector<uint8_t> xq(row_bytes(*q8, cols));
  q8->from_float(xf.data(), xq.data(), cols);
  ASSERT_EQ(gemv_act_row_bytes(cols), 4u * 128u);
  std::vector<uint8_t> acts(gemv_act_row_bytes(cols), 0xAB);
  gemv_expand_acts(xq.data(), cols, 8, acts.data());
  for (size_t section = 0; section < 4; ++section)
    for (size_t b = 96; b < 128; ++b) EXPECT_EQ(acts[section * 128 + b], 0) << "section " << section << " byte " << b;
  // Lane 0 of block 0: init = −8·(sum of x[0..3]).
  int32_t init0;
  std::memcpy(&init0, acts.data() + 256, 4);
  const auto* qs = reinterpret_cast<const int8_t*>(xq.data() + 2);
  EXPECT_EQ(init0, -8 * (qs[0] + qs[1] + qs[2] + qs[3]));
}

}  // namespace
}  // namespace edgellm
