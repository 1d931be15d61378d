// The grouped-attention kernels of ops_simd.h (scores over cached F16 keys, probability-weighted sum of F16 values)
// against double-precision references, on every Highway target this CPU runs, for the context lengths around the
// kernels' position blocks (1 … 33) and long ones (640, 1000), head sizes that are and are not a multiple of the
// vector (40, 64, 80, 96, 128; 8 is below one AVX-512 vector) and group sizes 1 … 8 (odd ones leave blocks of 2
// and 1 heads). The positions-outer decode kernel (online softmax over blocks of positions, several KV heads per
// call) against a double-precision softmax, and attention() on 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "core/thread_pool.h"
#include "hwy_targets.h"
#include "kernels/ops.h"
#include "kernels/ops_simd.h"

namespace edgellm {
namespace {

constexpr float kGuard = 12345.0f;  // written past every output: a kernel must never touch it
constexpr double kEps = 5.96e-8;    // unit roundoff of float

// A KV-cache-like slab: n rows `stride` halves apart, the head's hd values at the start of each row, random F16.
std::vector<uint16_t> random_rows(int64_t n, int64_t stride, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<uint16_t> r(static_cast<size_t>(n * stride));
  for (uint16_t& h : r) h = fp32_to_fp16(nd(rng));
  return r;
}

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  return v;
}

// Runs `body(kernels, name)` for the vectorized and the row-wise kernels of every Highway target.
template <class F>
void for_each_kernel(F&& body) {
  for_each_hwy_target(&f16_ops_dispatched_target, [&] {
    body(f16_op_kernels_for_chosen_target(), "blocked");
    body(f16_op_kernels_rowwise(), "rowwise");
  });
}

struct Case {
  int64_t n, hd, g;  // context length, head size, query heads per KV head
};

// Every head size × group size at the short contexts around the position blocks (1 … 33); the long contexts for a
// few of them, so the tests stay fast under qemu's SVE emulation in the ARM64 run.
std::vector<Case> cases() {
  std::vector<Case> c;
  for (int64_t hd : {40, 64, 80, 96, 128, 8}) {
    for (int64_t g : {1, 2, 4, 5, 7, 8}) {
      for (int64_t n : {1, 2, 3, 15, 16, 17, 31, 33}) c.push_back({n, hd, g});
    }
  }
  for (int64_t n : {640, 1000}) {
    c.push_back({n, 64, 4});
    c.push_back({n, 40, 7});
    c.push_back({n, 96, 2});
  }
  return c;
}

TEST(AttentionKernels, ScoresMatchDoubleReference) {
  for (const auto& [n, hd, g] : cases()) {
    const int64_t stride = 2 * hd + 8;  // rows of a wider cache, as the KV heads interleave
    const std::vector<uint16_t> k = random_rows(n, stride, static_cast<uint32_t>(hd + n));
    const std::vector<float> q = random_floats(static_cast<size_t>(g * hd), static_cast<uint32_t>(g * 100 + hd));
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    // Float accumulation of hd products in any order is within (hd + 2)·eps of Σ|k·q|, scaled.
    std::vector<double> want(static_cast<size_t>(g * n)), bound(want.size());
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t j = 0; j < n; ++j) {
        double dot = 0, mag = 0;
        for (int64_t i = 0; i < hd; ++i) {
          const double t = static_cast<double>(fp16_to_fp32(k[j * stride + i])) * q[h * hd + i];
          dot += t;
          mag += std::fabs(t);
        }
        want[h * n + j] = dot * scale;
        bound[h * n + j] = (static_cast<double>(hd) + 2) * kEps * mag * scale;
      }
    }
    for_each_kernel([&](const F16OpKernels& kern, const char* name) {
      std::vector<float> sc(want.size() + 1, kGuard);
      kern.scores(n, hd, k.data(), stride, q.data(), g, scale, sc.data());
      ASSERT_EQ(sc.back(), kGuard) << name << " wrote past the scores";
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(sc[i], want[i], bound[i]) << name << " hd " << hd << " g " << g << " n " << n << " at " << i;
      }
    });
  }
}

TEST(AttentionKernels, WeightedSumMatchesDoubleReference) {
  for (const auto& [n, hd, g] : cases()) {
    const int64_t stride = 2 * hd + 8;
    const std::vector<uint16_t> v = random_rows(n, stride, static_cast<uint32_t>(hd + 7 * n));
    // Probabilities as attention makes them: a softmax row per head.
    std::vector<float> p = random_floats(static_cast<size_t>(g * n), static_cast<uint32_t>(g * 1000 + n));
    for (int64_t h = 0; h < g; ++h) softmax(p.data() + h * n, n);
    // Sequential float accumulation of n terms is within (n + 1)·eps of Σ|p·v|.
    std::vector<double> want(static_cast<size_t>(g * hd)), bound(want.size());
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t i = 0; i < hd; ++i) {
        double acc = 0, mag = 0;
        for (int64_t j = 0; j < n; ++j) {
          const double t = static_cast<double>(p[h * n + j]) * fp16_to_fp32(v[j * stride + i]);
          acc += t;
          mag += std::fabs(t);
        }
        want[h * hd + i] = acc;
        bound[h * hd + i] = (static_cast<double>(n) + 1) * kEps * mag;
      }
    }
    for_each_kernel([&](const F16OpKernels& kern, const char* name) {
      std::vector<float> out(want.size() + 1, kGuard);
      kern.weighted_sum(n, hd, v.data(), stride, p.data(), g, out.data());
      ASSERT_EQ(out.back(), kGuard) << name << " wrote past the output";
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_NEAR(out[i], want[i], bound[i]) << name << " hd " << hd << " g " << g << " n " << n << " at " << i;
      }
    });
  }
}

// Large scores of both signs (the softmax input is unbounded): the block kernel's transpose-reduce must not mix
// up which position or head a sum belongs to, which small random values could hide within the error bound.
TEST(AttentionKernels, ScoresKeepPositionsAndHeadsApart) {
  for_each_kernel([](const F16OpKernels& kern, const char* name) {
    const int64_t hd = 64, g = 4, n = 37;
    // Key row j is the one-hot vector e_(j mod hd) times (j + 1); query h is (h + 1) on every dimension.
    std::vector<uint16_t> k(static_cast<size_t>(n * hd), fp32_to_fp16(0.0f));
    for (int64_t j = 0; j < n; ++j) k[j * hd + j % hd] = fp32_to_fp16(static_cast<float>(j + 1));
    std::vector<float> q(static_cast<size_t>(g * hd));
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t i = 0; i < hd; ++i) q[h * hd + i] = static_cast<float>(h + 1);
    }
    std::vector<float> sc(static_cast<size_t>(g * n));
    kern.scores(n, hd, k.data(), hd, q.data(), g, 1.0f, sc.data());
    for (int64_t h = 0; h < g; ++h) {
      for (int64_t j = 0; j < n; ++j) EXPECT_EQ(sc[h * n + j], static_cast<float>((j + 1) * (h + 1))) << name;
    }
  });
}

// Attention of n_kv·g query heads over a cache of n rows (KV head c of row j at c·hd + j·stride), in double:
// want[(c·g + h)·hd + i], and a bound per output: Σ_j p_j·|v_ji| times the relative error of the probabilities
// (twice the worst score error: it enters through exp and through the normalizing sum; a few ULP per exp and per
// rescale of the running sum, one per block) plus the float accumulation of n terms.
struct Expected {
  std::vector<double> want, bound;
};
Expected reference_attention(const DecodeAttnSlice& s) {
  const int64_t heads = s.n_kv * s.g;
  Expected e{std::vector<double>(static_cast<size_t>(heads * s.hd)),
             std::vector<double>(static_cast<size_t>(heads * s.hd))};
  for (int64_t qh = 0; qh < heads; ++qh) {
    const int64_t c = qh / s.g;
    std::vector<double> sc(static_cast<size_t>(s.n));
    double max_err = 0, mx = -INFINITY;
    for (int64_t j = 0; j < s.n; ++j) {
      double dot = 0, mag = 0;
      for (int64_t i = 0; i < s.hd; ++i) {
        const double t = static_cast<double>(fp16_to_fp32(s.k[j * s.stride + c * s.hd + i])) * s.q[qh * s.hd + i];
        dot += t;
        mag += std::fabs(t);
      }
      sc[j] = dot * s.scale;
      max_err = std::max(max_err, (static_cast<double>(s.hd) + 2) * kEps * mag * s.scale);
      mx = std::max(mx, sc[j]);
    }
    double sum = 0;
    for (double& x : sc) sum += (x = std::exp(x - mx));
    const double rel = 4 * max_err + (2.0 * static_cast<double>(s.n) + 64) * kEps;
    for (int64_t i = 0; i < s.hd; ++i) {
      double acc = 0, mag = 0;
      for (int64_t j = 0; j < s.n; ++j) {
        const double t = sc[j] / sum * fp16_to_fp32(s.v[j * s.stride + c * s.hd + i]);
        acc += t;
        mag += std::fabs(t);
      }
      e.want[qh * s.hd + i] = acc;
      e.bound[qh * s.hd + i] = rel * mag;
    }
  }
  return e;
}

// The decode slice of n positions for n_kv KV heads (g query heads each, head size hd) whose rows start at k and v,
// stride halves apart; queries from q; scale 1/√hd.
DecodeAttnSlice decode_slice(int64_t n, int64_t hd, int64_t g, int64_t n_kv, const uint16_t* k, const uint16_t* v,
                             int64_t stride, const float* q) {
  DecodeAttnSlice s;
  s.n = n;
  s.hd = hd;
  s.g = g;
  s.n_kv = n_kv;
  s.k = k;
  s.v = v;
  s.stride = stride;
  s.q = q;
  s.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  return s;
}

// attention() arguments for one token at position n − 1 over n cached F16 rows of n_head_kv·hd values.
AttentionArgs decode_args(const float* q, const uint16_t* k, const uint16_t* v, float* out, int64_t n, int64_t n_head,
                          int64_t n_head_kv, int64_t hd, float scale, float* scratch, int64_t scratch_stride) {
  AttentionArgs a;
  a.q = q;
  a.k = k;
  a.v = v;
  a.out = out;
  a.n_tokens = 1;
  a.pos0 = static_cast<int>(n - 1);
  a.n_head = static_cast<int>(n_head);
  a.n_head_kv = static_cast<int>(n_head_kv);
  a.head_dim = static_cast<int>(hd);
  a.scale = scale;
  a.scratch = scratch;
  a.scratch_stride = scratch_stride;
  return a;
}

// Targets that must run the decode kernel for heads of at least 16 floats: every fixed-width one (x86's AVX3, AVX2,
// SSE4, SSSE3; ARM's NEON); scalable (SVE) and scalar targets decline by design.
int fixed_width_targets() {
  constexpr int64_t kDeclining = HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128 | HWY_SCALAR;
  int n = 0;
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) n += (t & kDeclining) == 0 ? 1 : 0;
  return n;
}

// Runs the decode kernel of every target on s (out must have room for the heads plus one guard) and checks it
// against the double reference; returns how many targets ran the kernel (the others declined the shape).
int check_decode(DecodeAttnSlice s, const Expected& e, const char* what) {
  int ran = 0;
  for_each_hwy_target(&f16_ops_dispatched_target, [&] {
    std::vector<float> out(e.want.size() + 1, kGuard);
    s.out = out.data();
    if (!f16_op_kernels_for_chosen_target().decode(s)) {
      ASSERT_EQ(out[0], kGuard) << "a declining kernel wrote";
      return;
    }
    ++ran;
    ASSERT_EQ(out.back(), kGuard) << "decode wrote past the output";
    for (size_t i = 0; i < e.want.size(); ++i) {
      ASSERT_NEAR(out[i], e.want[i], e.bound[i])
          << what << " hd " << s.hd << " g " << s.g << " n_kv " << s.n_kv << " n " << s.n << " at " << i;
    }
  });
  return ran;
}

TEST(AttentionKernels, DecodeMatchesDoubleReference) {
  std::vector<Case> cs = cases();
  for (int64_t n : {64, 65}) cs.push_back({n, 64, 4});
  for (const auto& [n, hd, g] : cs) {
    const int64_t n_kv = 3, stride = n_kv * hd + 8;  // a KV head past the run, so it must not be read as one
    const std::vector<uint16_t> k = random_rows(n, stride, static_cast<uint32_t>(3 * hd + n));
    const std::vector<uint16_t> v = random_rows(n, stride, static_cast<uint32_t>(5 * hd + n));
    const std::vector<float> q = random_floats(static_cast<size_t>(n_kv * g * hd), static_cast<uint32_t>(g + hd));
    // The first two KV heads as a run, and the third one alone (offset pointers, as a thread's range).
    DecodeAttnSlice s = decode_slice(n, hd, g, 2, k.data(), v.data(), stride, q.data());
    const int ran = check_decode(s, reference_attention(s), "run");
    // hd ≥ 16 is at least one vector on every fixed-width target: all of them must have run it.
    if (hd >= 16) {
      EXPECT_EQ(ran, fixed_width_targets()) << "hd " << hd;
    }
    s.n_kv = 1;
    s.k += 2 * hd;
    s.v += 2 * hd;
    s.q += 2 * g * hd;
    check_decode(s, reference_attention(s), "last head");
  }
}

// Scores spread over hundreds (far past exp's float range) and rising with the position, so the running max moves
// in nearly every block and the accumulators are rescaled each time; then falling, so the first block's max holds.
TEST(AttentionKernels, DecodeRescalesAcrossBlocks) {
  for (bool rising : {true, false}) {
    const int64_t n = 300, hd = 64, g = 4, stride = hd;
    std::vector<uint16_t> k = random_rows(n, stride, 11);
    for (int64_t j = 0; j < n; ++j) {
      const float ramp = 1.0f + 0.05f * static_cast<float>(rising ? j : n - 1 - j);
      for (int64_t i = 0; i < hd; ++i)
        k[j * stride + i] = fp32_to_fp16(std::fabs(fp16_to_fp32(k[j * stride + i])) * ramp);
    }
    const std::vector<uint16_t> v = random_rows(n, stride, 12);
    std::vector<float> q = random_floats(static_cast<size_t>(g * hd), 13);
    for (float& x : q) x = 2.0f + std::fabs(x);
    DecodeAttnSlice s = decode_slice(n, hd, g, 1, k.data(), v.data(), stride, q.data());
    s.scale = 1.0f;
    const Expected e = reference_attention(s);
    EXPECT_EQ(check_decode(s, e, rising ? "rising" : "falling"), fixed_width_targets());
    // attention() merges its 64-position chunks with weights exp(m_i − max m) from 1 down to far below float's range.
    ThreadPool pool(2);
    std::vector<float> out(static_cast<size_t>(g * hd)),
        scratch(static_cast<size_t>(attention_scratch_floats(g, 1, hd, n, 2)));
    attention(decode_args(q.data(), k.data(), v.data(), out.data(), n, g, 1, hd, 1.0f, scratch.data(), g * n), pool);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], e.want[i], e.bound[i]) << "attention() at " << i;
  }
}

// Decode in chunks of positions (partials) split across calls as threads would take them, then the merge, on every
// target against the double reference; the same bits whichever call computed a chunk. Chunk sizes that are and are
// not a multiple of the kernel's 32-position block; contexts 1 … 33, 640, 1000, 4097; groups 1 … 8; head sizes 40,
// 64, 80, 128.
TEST(AttentionKernels, DecodeChunksMergeToReference) {
  std::vector<Case> cs;
  for (int64_t n : {1, 2, 3, 31, 32, 33, 640, 1000, 4097}) cs.push_back({n, 64, 4});
  for (int64_t g : {1, 2, 5, 8}) cs.push_back({1000, 80, g});
  for (int64_t hd : {40, 128}) {
    for (int64_t n : {33, 640}) cs.push_back({n, hd, 5});
  }
  for (const auto& [n, hd, g] : cs) {
    const int64_t n_kv = 2, stride = n_kv * hd + 8, heads = n_kv * g;
    const std::vector<uint16_t> k = random_rows(n, stride, static_cast<uint32_t>(7 * hd + n));
    const std::vector<uint16_t> v = random_rows(n, stride, static_cast<uint32_t>(9 * hd + n));
    const std::vector<float> q = random_floats(static_cast<size_t>(heads * hd), static_cast<uint32_t>(g + 3 * hd));
    const DecodeAttnSlice base = decode_slice(n, hd, g, n_kv, k.data(), v.data(), stride, q.data());
    const Expected e = reference_attention(base);
    for (int64_t chunk : {64, 96, 320}) {
      const int64_t parts = (n + chunk - 1) / chunk;
      int ran = 0;
      for_each_hwy_target(&f16_ops_dispatched_target, [&] {
        const F16OpKernels kern = f16_op_kernels_for_chosen_target();
        std::vector<float> first;
        // Chunks [0, split) in one call, the rest in another.
        for (int64_t split : {int64_t{0}, parts / 2, parts - 1}) {
          DecodeAttnSlice s = base;
          s.chunk = chunk;
          s.part_stride = heads * (hd + 2) + 3;
          // NaN where the partials go (the kernel must not read rows it has not written) and a guard after each.
          std::vector<float> part(static_cast<size_t>(parts * s.part_stride), std::nanf(""));
          for (int64_t i = 0; i < parts; ++i) part[static_cast<size_t>((i + 1) * s.part_stride - 1)] = kGuard;
          std::vector<float> out(static_cast<size_t>(heads * hd) + 1, kGuard);
          s.part_acc = part.data();
          s.part_ml = part.data() + heads * hd;
          s.out = out.data();
          DecodeAttnSlice second = s;
          second.n = n - split * chunk;
          second.k += split * chunk * stride;
          second.v += split * chunk * stride;
          second.part_acc += split * s.part_stride;
          second.part_ml += split * s.part_stride;
          s.n = split * chunk;
          if (s.n > 0 && !kern.decode(s)) return;
          if (!kern.decode(second)) return;
          for (int64_t i = 0; i < parts; ++i) {
            ASSERT_EQ(part[static_cast<size_t>((i + 1) * s.part_stride - 1)], kGuard) << "partial past its rows";
          }
          s.n = n;
          kern.decode_merge(s, 0, 1);  // the first head alone, the rest in one more call: any head split
          kern.decode_merge(s, 1, heads);
          ASSERT_EQ(out.back(), kGuard) << "merge wrote past the output";
          for (size_t i = 0; i + 1 < out.size(); ++i) {
            ASSERT_NEAR(out[i], e.want[i], e.bound[i])
                << "hd " << hd << " g " << g << " n " << n << " chunk " << chunk << " split " << split << " at " << i;
          }
          if (first.empty()) {
            first = out;
          } else {
            ASSERT_EQ(out, first) << "split " << split << " changed the bits, n " << n << " chunk " << chunk;
          }
        }
        ++ran;
      });
      EXPECT_EQ(ran, fixed_width_targets()) << "hd " << hd << " n " << n;
    }
  }
}

// attention() on one token: the same bits on 1, 2 and 3 threads (the chunks of positions do not depend on the
// thread count and merge in one order), close to the double reference, for contexts around the kernel's blocks and
// chunks (1 … 33, 640 = ten 64-position chunks, 1000, 4097 = sixteen of 320 positions, the last one short), group
// sizes 1 … 8 and head sizes that are and are not a multiple of the vector (8: below one, the prefill kernels).
TEST(AttentionKernels, DecodeThreadsGiveIdenticalResults) {
  for (const auto& [n_head, n_head_kv, hd] :
       {std::array<int, 3>{32, 8, 64}, {14, 2, 80}, {15, 5, 40}, {16, 2, 128}, {3, 3, 64}, {16, 16, 8}}) {
    for (int n : {1, 2, 3, 31, 32, 33, 640, 1000, 4097}) {
      // The double reference's cost under qemu (CI's ARM64 run): the longest context for the two smallest shapes.
      if (n > 1000 && n_head * hd > 640) continue;

      const int64_t kvd = static_cast<int64_t>(n_head_kv) * hd;
      const std::vector<uint16_t> k = random_rows(n, kvd, static_cast<uint32_t>(n + hd));
      const std::vector<uint16_t> v = random_rows(n, kvd, static_cast<uint32_t>(2 * n + hd));
      const std::vector<float> q = random_floats(static_cast<size_t>(n_head) * hd, static_cast<uint32_t>(n_head));
      const int64_t stride = static_cast<int64_t>(n_head / n_head_kv) * n;
      std::vector<float> outs[3];
      for (int threads = 1; threads <= 3; ++threads) {
        ThreadPool pool(threads);
        std::vector<float> scratch(static_cast<size_t>(attention_scratch_floats(n_head, n_head_kv, hd, n, threads)));
        std::vector<float>& out = outs[threads - 1];
        out.assign(static_cast<size_t>(n_head) * hd, kGuard);
        attention(decode_args(q.data(), k.data(), v.data(), out.data(), n, n_head, n_head_kv, hd,
                              1.0f / std::sqrt(static_cast<float>(hd)), scratch.data(), stride),
                  pool);
      }
      EXPECT_EQ(outs[0], outs[1]) << "2 threads, heads " << n_head << "/" << n_head_kv << " n " << n;
      EXPECT_EQ(outs[0], outs[2]) << "3 threads, heads " << n_head << "/" << n_head_kv << " n " << n;
      const Expected e =
          reference_attention(decode_slice(n, hd, n_head / n_head_kv, n_head_kv, k.data(), v.data(), kvd, q.data()));
      for (size_t i = 0; i < e.want.size(); ++i)
        ASSERT_NEAR(outs[0][i], e.want[i], e.bound[i]) << "n " << n << " at " << i;
    }
  }
}

}  // namespace
}  // namespace edgellm
