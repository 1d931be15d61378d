// The portable half of the LUT-layout prompt GEMM (kernels/lut_gemm.h): activation rows, the plain C++
// reference, and the choice of kernel. The VNNI kernel itself is in kernels/lut_vnni.cc.
#include "kernels/lut_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/cpu_features.h"
#include "core/fp16.h"
#include "kernels/lut_tune.h"

namespace edgellm {

LutGemmChunkedFn lut_vnni_gemm_chunked();  // kernels/lut_vnni.cc; nullptr on builds without the x86-64 kernel

namespace {

constexpr int kSub = 32;  // columns per activation scale

struct ActRow {
  const int8_t* q;
  const float* d;
  const int32_t* s;
};

ActRow act_row(const uint8_t* acts, int64_t cols, int64_t t) {
  const uint8_t* base = acts + static_cast<size_t>(t) * lut_gemm_act_row_bytes(cols);
  const auto* d = reinterpret_cast<const float*>(base + cols);
  return {reinterpret_cast<const int8_t*>(base), d, reinterpret_cast<const int32_t*>(d + cols / kSub)};
}

}  // namespace

size_t lut_gemm_act_row_bytes(int64_t cols) {
  const size_t bytes = static_cast<size_t>(cols) + static_cast<size_t>(cols / kSub) * 8;
  return (bytes + 63) / 64 * 64;
}

void lut_gemm_acts_from_float(const float* x, int64_t cols, uint8_t* dst) {
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + cols);
  auto* s = reinterpret_cast<int32_t*>(d + cols / kSub);
  // Branch-free so the compiler vectorizes it: non-finite inputs read as 0, and adding 1.5 · 2^23 rounds
  // to nearest even (|v| <= 127) without a libm call on baseline x86-64.
  constexpr float kRound = 12582912.0f;
  for (int64_t b = 0; b < cols / kSub; ++b) {
    float xb[kSub];
    float amax = 0.0f;
    for (int i = 0; i < kSub; ++i) {
      const float v = x[b * kSub + i];
      xb[i] = std::fabs(v) <= std::numeric_limits<float>::max() ? v : 0.0f;
      amax = std::max(amax, std::fabs(xb[i]));
    }
    const float scale = amax / 127.0f;
    const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    int32_t sum = 0;
    for (int i = 0; i < kSub; ++i) {
      const float v = std::clamp(xb[i] * inv, -127.0f, 127.0f);
      const auto qi = static_cast<int8_t>(static_cast<int32_t>((v + kRound) - kRound));
      q[b * kSub + i] = qi;
      sum += qi;
    }
    d[b] = scale;
    s[b] = sum;
  }
}

// Per group: y += d·Σ_sub dx·Σ q·xq − (d·h − e)·Σ_sub dx·Σ xq, with q the unsigned code (ternary: 1 + t,
// h = 1; otherwise h = (2^bits − 1)/2, and e = m + d·h with a zero point, else 0: kernels/lut_gemv.h).
void lut_gemm_reference(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
                        int64_t n_tokens, float* y, int64_t y_stride) {
  const ElqFormat& f = *w.format;
  const int64_t groups = w.cols / f.group;
  const int plane_bytes = f.group / 8;
  const size_t tile_group_codes = static_cast<size_t>(f.bits * plane_bytes * kLutTileRows);
  const float h = f.ternary ? 1.0f : 0.5f * static_cast<float>((1 << f.bits) - 1);
  const size_t halves = lut_coeff_halves(f);
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    const ActRow x = act_row(acts, w.cols, tok);
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      for (int r = 0; r < kLutTileRows && t * kLutTileRows + r < w.rows; ++r) {
        float out = 0.0f;
        for (int64_t g = 0; g < groups; ++g) {
          const size_t tg = static_cast<size_t>(t * groups + g);
          const uint8_t* codes = w.codes.data() + tg * tile_group_codes;
          const uint16_t* coeffs = reinterpret_cast<const uint16_t*>(w.coeffs.data()) + tg * halves;
          float dot = 0.0f, xsum = 0.0f;
          for (int sub = 0; sub < f.group / kSub; ++sub) {
            const int64_t b = g * (f.group / kSub) + sub;
            int32_t isum = 0;
            for (int i = 0; i < kSub; ++i) {
              const int col = sub * kSub + i;
              int q = f.ternary ? 1 : 0;
              for (int k = 0; k < f.bits; ++k) {
                const int bit = (codes[(k * plane_bytes + col / 8) * kLutTileRows + r] >> (col % 8)) & 1;
                q += f.ternary ? (k == 0 ? bit : -bit) : bit << k;
              }
              isum += q * x.q[b * kSub + i];
            }
            dot += x.d[b] * static_cast<float>(isum);
            xsum += x.d[b] * static_cast<float>(x.s[b]);
          }
          // d·h − e is −m with a zero point, d·h without.
          const float d = fp16_to_fp32(coeffs[r]);
          const float min = f.zero_point ? -fp16_to_fp32(coeffs[kLutTileRows + r]) : d * h;
          out += d * dot - min * xsum;
        }
        y[tok * y_stride + t * kLutTileRows + r] = out;
      }
    }
  }
}

LutGemmChunkedFn lut_gemm_chunked_kernel_unchecked() { return lut_vnni_gemm_chunked(); }

LutGemmFn lut_gemm_kernel_unchecked() {
  if (lut_vnni_gemm_chunked() == nullptr) return nullptr;
  // The tuned chunk is read per call (after the first, one atomic load in std::call_once).
  return [](const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts, int64_t n_tokens, float* y,
            int64_t y_stride) {
    lut_vnni_gemm_chunked()(w, tile_begin, tile_end, acts, n_tokens, y, y_stride, lut_tuning().gemm_chunk_subs);
  };
}

LutGemmFn lut_gemm_kernel() {
  const CpuFeatures& c = cpu_features();
  return c.avx512f && c.avx512bw && c.avx512vl && c.avx512vnni ? lut_gemm_kernel_unchecked() : nullptr;
}

}  // namespace edgellm
