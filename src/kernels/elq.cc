// Scalar reference routines of the elq formats (kernels/elq.h): the format table, quantizers that search a few
// scales for the least squared error, dequantization, and the table-lookup dot the SIMD kernels must match.
#include "kernels/elq.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "core/fp16.h"

namespace edgellm {
namespace {

constexpr int kGroups[] = {32, 64, 128};

struct FormatTable {
  std::array<ElqFormat, kElqEndId - kElqFirstId> formats{};
  std::array<std::string, kElqEndId - kElqFirstId> names;
  FormatTable() {
    for (uint32_t id = kElqFirstId; id < kElqEndId; ++id) {
      const size_t i = id - kElqFirstId;
      ElqFormat& f = formats[i];
      f.id = id;
      if (id < kElqTernaryFirstId) {
        const uint32_t k = id - kElqFirstId;
        f.group = kGroups[k / 16];
        f.bits = static_cast<int>((k % 16) / 2) + 1;
        f.zero_point = (k % 2) == 1;
        names[i] = "elq" + std::to_string(f.bits) + (f.zero_point ? "z" : "") + "_g" + std::to_string(f.group);
      } else {
        f.group = kGroups[id - kElqTernaryFirstId];
        f.bits = 2;
        f.ternary = true;
        names[i] = "elqt_g" + std::to_string(f.group);
      }
      f.block_bytes = (f.zero_point ? 4 : 2) + static_cast<size_t>(f.bits * f.group / 8);
      f.name = names[i].c_str();
    }
  }
};

const FormatTable& table() {
  static const FormatTable t;
  return t;
}

// Bits of block weights q[0..group) into `planes` bit planes (bit k of q[i] → plane k, byte i/8, bit i%8).
void pack_planes(const uint8_t* q, int group, int planes, uint8_t* out) {
  const int plane_bytes = group / 8;
  std::memset(out, 0, static_cast<size_t>(planes * plane_bytes));
  for (int i = 0; i < group; ++i)
    for (int k = 0; k < planes; ++k)
      if ((q[i] >> k) & 1) out[k * plane_bytes + i / 8] |= static_cast<uint8_t>(1u << (i % 8));
}

int plane_bit(const uint8_t* planes, int plane_bytes, int k, int i) {
  return (planes[k * plane_bytes + i / 8] >> (i % 8)) & 1;
}

// Chooses d (and q) for the symmetric grid w = d * (q - half): tries fractions of the max-abs scale, refits
// the best one by least squares for its codes (this matters most at 1-2 bits, where the optimum is far below
// max |x|), and keeps whichever has the least squared error. Returns the fp16 scale the codes were made with.
float quantize_symmetric(const float* x, int g, int bits, uint8_t* q) {
  const int qmax = (1 << bits) - 1;
  const float half = 0.5f * static_cast<float>(qmax);
  float amax = 0.0f;
  for (int i = 0; i < g; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (amax == 0.0f) {
    std::fill(q, q + g, static_cast<uint8_t>(qmax / 2));
    return 0.0f;
  }
  const auto code = [&](float v, float d) {
    return std::clamp(std::nearbyint(v / d + half), 0.0f, static_cast<float>(qmax));
  };
  const auto error = [&](float d) {
    float err = 0.0f;
    for (int i = 0; i < g; ++i) {
      const float e = x[i] - d * (code(x[i], d) - half);
      err += e * e;
    }
    return err;
  };
  float best_err = INFINITY, best_d = 0.0f;
  for (int step = 0; step <= 18; ++step) {
    const float d = fp16_to_fp32(fp32_to_fp16(amax / half * (1.0f - 0.04f * static_cast<float>(step))));
    if (d == 0.0f) continue;
    const float err = error(d);
    if (err < best_err) best_err = err, best_d = d;
  }
  if (best_d > 0.0f) {
    float xc = 0.0f, cc = 0.0f;
    for (int i = 0; i < g; ++i) {
      const float c = code(x[i], best_d) - half;
      xc += x[i] * c, cc += c * c;
    }
    const float d = cc > 0.0f ? fp16_to_fp32(fp32_to_fp16(xc / cc)) : 0.0f;
    if (d > 0.0f && error(d) < best_err) best_d = d;
  }
  if (best_d == 0.0f) {
    std::fill(q, q + g, static_cast<uint8_t>(qmax / 2));
    return 0.0f;
  }
  for (int i = 0; i < g; ++i) q[i] = static_cast<uint8_t>(code(x[i], best_d));
  return best_d;
}

// w = d * q + m: starts from [min, max] and refits (d, m) by least squares for the chosen codes a few times,
// keeping the best; d and m are rounded to fp16 before the codes are chosen.
void quantize_zero_point(const float* x, int g, int bits, uint8_t* q, float* d_out, float* m_out) {
  const float qmax = static_cast<float>((1 << bits) - 1);
  float lo = x[0], hi = x[0];
  for (int i = 1; i < g; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  const auto codes_and_error = [&](float d, float m, uint8_t* out) {
    float err = 0.0f;
    for (int i = 0; i < g; ++i) {
      const float c = d > 0.0f ? std::clamp(std::nearbyint((x[i] - m) / d), 0.0f, qmax) : 0.0f;
      out[i] = static_cast<uint8_t>(c);
      const float e = x[i] - (d * c + m);
      err += e * e;
    }
    return err;
  };
  float d = fp16_to_fp32(fp32_to_fp16((hi - lo) / qmax));
  float m = fp16_to_fp32(fp32_to_fp16(lo));
  float best = codes_and_error(d, m, q);
  *d_out = d, *m_out = m;
  uint8_t trial[128];
  std::memcpy(trial, q, static_cast<size_t>(g));
  for (int iter = 0; iter < 4; ++iter) {
    // Least squares for x ≈ d * c + m over the current codes.
    float sc = 0, scc = 0, sx = 0, sxc = 0;
    for (int i = 0; i < g; ++i) {
      const float c = trial[i];
      sc += c, scc += c * c, sx += x[i], sxc += x[i] * c;
    }
    const float det = static_cast<float>(g) * scc - sc * sc;
    if (det <= 0.0f) break;
    d = fp16_to_fp32(fp32_to_fp16((static_cast<float>(g) * sxc - sc * sx) / det));
    m = fp16_to_fp32(fp32_to_fp16((sx - d * sc) / static_cast<float>(g)));
    if (!(d > 0.0f)) break;
    const float err = codes_and_error(d, m, trial);
    if (err >= best) break;
    best = err;
    std::memcpy(q, trial, static_cast<size_t>(g));
    *d_out = d, *m_out = m;
  }
}

// Ternary: w = d * t, t in {-1, 0, 1}; searches d over fractions of max |x| for the least squared error.
float quantize_ternary(const float* x, int g, int8_t* t) {
  float amax = 0.0f;
  for (int i = 0; i < g; ++i) amax = std::max(amax, std::fabs(x[i]));
  float best_err = INFINITY, best_d = 0.0f;
  if (amax > 0.0f) {
    for (int step = 0; step <= 16; ++step) {
      const float d = fp16_to_fp32(fp32_to_fp16(amax * (1.0f - 0.04f * static_cast<float>(step))));
      float err = 0.0f;
      for (int i = 0; i < g; ++i) {
        const float e = x[i] - d * std::clamp(std::nearbyint(x[i] / d), -1.0f, 1.0f);
        err += e * e;
      }
      if (err < best_err) best_err = err, best_d = d;
    }
  }
  for (int i = 0; i < g; ++i)
    t[i] = best_d > 0.0f ? static_cast<int8_t>(std::clamp(std::nearbyint(x[i] / best_d), -1.0f, 1.0f)) : 0;
  return best_d;
}

}  // namespace

const ElqFormat* elq_format(uint32_t id) {
  if (id < kElqFirstId || id >= kElqEndId) return nullptr;
  return &table().formats[id - kElqFirstId];
}

uint32_t elq_type_id(int bits, int group, bool zero_point) {
  if (bits < 1 || bits > 8) return 0;
  for (int gi = 0; gi < 3; ++gi)
    if (kGroups[gi] == group)
      return kElqFirstId + static_cast<uint32_t>(gi * 16 + (bits - 1) * 2 + (zero_point ? 1 : 0));
  return 0;
}

uint32_t elq_ternary_id(int group) {
  for (int gi = 0; gi < 3; ++gi)
    if (kGroups[gi] == group) return kElqTernaryFirstId + static_cast<uint32_t>(gi);
  return 0;
}

void elq_quantize(const ElqFormat& f, const float* in, void* dst, int64_t n) {
  uint8_t* out = static_cast<uint8_t*>(dst);
  uint8_t q[128];
  float src[128];
  for (int64_t b = 0; b < n / f.group; ++b, out += f.block_bytes, in += f.group) {
    // Non-finite weights (a corrupt input file) quantize as 0 rather than poisoning the group's scale.
    for (int i = 0; i < f.group; ++i) src[i] = std::isfinite(in[i]) ? in[i] : 0.0f;
    uint16_t header[2] = {0, 0};
    if (f.ternary) {
      int8_t t[128];
      header[0] = fp32_to_fp16(quantize_ternary(src, f.group, t));
      for (int i = 0; i < f.group; ++i) q[i] = static_cast<uint8_t>(t[i] > 0 ? 1 : t[i] < 0 ? 2 : 0);
    } else if (f.zero_point) {
      float d = 0.0f, m = 0.0f;
      quantize_zero_point(src, f.group, f.bits, q, &d, &m);
      header[0] = fp32_to_fp16(d);
      header[1] = fp32_to_fp16(m);
    } else {
      header[0] = fp32_to_fp16(quantize_symmetric(src, f.group, f.bits, q));
    }
    const size_t head = f.zero_point ? 4 : 2;
    std::memcpy(out, header, head);
    pack_planes(q, f.group, f.bits, out + head);
  }
}

void elq_dequantize(const ElqFormat& f, const void* src, float* dst, int64_t n) {
  const uint8_t* in = static_cast<const uint8_t*>(src);
  const int pb = f.group / 8;
  const float half = 0.5f * static_cast<float>((1 << f.bits) - 1);
  for (int64_t b = 0; b < n / f.group; ++b, in += f.block_bytes, dst += f.group) {
    uint16_t header[2] = {0, 0};
    std::memcpy(header, in, f.zero_point ? 4 : 2);
    const float d = fp16_to_fp32(header[0]);
    const float m = fp16_to_fp32(header[1]);
    const uint8_t* planes = in + (f.zero_point ? 4 : 2);
    for (int i = 0; i < f.group; ++i) {
      if (f.ternary) {
        dst[i] = d * static_cast<float>(plane_bit(planes, pb, 0, i) - plane_bit(planes, pb, 1, i));
        continue;
      }
      int q = 0;
      for (int k = 0; k < f.bits; ++k) q |= plane_bit(planes, pb, k, i) << k;
      dst[i] = f.zero_point ? d * static_cast<float>(q) + m : d * (static_cast<float>(q) - half);
    }
  }
}

float elq_vec_dot_f32(const ElqFormat& f, int64_t n, const void* w, const float* x) {
  float buf[128];
  double sum = 0.0;
  const uint8_t* in = static_cast<const uint8_t*>(w);
  for (int64_t b = 0; b < n / f.group; ++b, in += f.block_bytes, x += f.group) {
    elq_dequantize(f, in, buf, f.group);
    for (int i = 0; i < f.group; ++i) sum += static_cast<double>(buf[i]) * x[i];
  }
  return static_cast<float>(sum);
}

void elq_act_from_float(const float* in, void* dst, int64_t n) {
  BlockElqAct* out = static_cast<BlockElqAct*>(dst);
  float src[kElqActBlock];
  for (int64_t b = 0; b < n / kElqActBlock; ++b, in += kElqActBlock) {
    // Non-finite activations become 0 so the int8 tables stay defined (the float path would give NaN anyway).
    for (int i = 0; i < kElqActBlock; ++i) src[i] = std::isfinite(in[i]) ? in[i] : 0.0f;
    float t[8][16];
    float amax = 0.0f, sum = 0.0f;
    for (int j = 0; j < 8; ++j) {
      for (int idx = 0; idx < 16; ++idx) {
        float s = 0.0f;
        for (int i = 0; i < 4; ++i) s += ((idx >> i) & 1) ? src[4 * j + i] : -src[4 * j + i];
        t[j][idx] = s;
      }
      for (int idx = 0; idx < 16; ++idx) amax = std::max(amax, std::fabs(t[j][idx]));
    }
    for (int i = 0; i < kElqActBlock; ++i) sum += src[i];
    const float scale = amax / 127.0f;
    const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    out[b].scale = scale;
    out[b].sum = sum;
    for (int j = 0; j < 8; ++j)
      for (int idx = 0; idx < 8; ++idx) {
        // Quantize one of each ± pair and negate it, so T[15 - idx] = -T[idx] holds exactly.
        const auto v = static_cast<int8_t>(std::clamp(std::nearbyint(t[j][idx] * inv), -127.0f, 127.0f));
        out[b].tables[elq_act_table_slot(j)][idx] = v;
        out[b].tables[elq_act_table_slot(j)][15 - idx] = static_cast<int8_t>(-v);
      }
  }
}

void elq_act_to_float(const void* src, float* dst, int64_t n) {
  const BlockElqAct* in = static_cast<const BlockElqAct*>(src);
  for (int64_t b = 0; b < n / kElqActBlock; ++b, dst += kElqActBlock)
    for (int j = 0; j < 8; ++j)
      for (int i = 0; i < 4; ++i) {
        // T[idx with bit i] - T[idx without it] = 2 x_i.
        const int8_t* t = in[b].tables[elq_act_table_slot(j)];
        dst[4 * j + i] = 0.5f * in[b].scale * static_cast<float>(t[1 << i] - t[0]);
      }
}

float elq_vec_dot_lut(const ElqFormat& f, int64_t n, const void* w, const void* x) {
  const uint8_t* in = static_cast<const uint8_t*>(w);
  const BlockElqAct* act = static_cast<const BlockElqAct*>(x);
  const int pb = f.group / 8;
  const int acts_per_group = f.group / kElqActBlock;
  const float qmax = static_cast<float>((1 << f.bits) - 1);
  float total = 0.0f;
  for (int64_t b = 0; b < n / f.group; ++b, in += f.block_bytes) {
    uint16_t header[2] = {0, 0};
    std::memcpy(header, in, f.zero_point ? 4 : 2);
    const float d = fp16_to_fp32(header[0]);
    const uint8_t* planes = in + (f.zero_point ? 4 : 2);
    // sum_i q_i x_i from the ±1 tables: bit·x = (±x + x) / 2, so sum = sum_a scale_a/2 * S_a + x_sum * (2^b-1)/2.
    float fsum = 0.0f, xsum = 0.0f;
    for (int a = 0; a < acts_per_group; ++a, ++act) {
      int32_t s = 0;
      for (int k = 0; k < f.bits; ++k) {
        int32_t p = 0;
        for (int j = 0; j < 8; ++j) {
          const uint8_t byte = planes[k * pb + a * 4 + j / 2];
          p += act->tables[elq_act_table_slot(j)][(j & 1) ? byte >> 4 : byte & 15];
        }
        s += f.ternary ? (k == 0 ? p : -p) : p * (1 << k);
      }
      fsum += 0.5f * act->scale * static_cast<float>(s);
      xsum += act->sum;
    }
    // Row term d * sum q x, plus the offset term: symmetric and ternary grids cancel it exactly.
    float offset_coeff = 0.0f;
    if (f.zero_point) offset_coeff = 0.5f * d * qmax + fp16_to_fp32(header[1]);
    total += d * fsum + offset_coeff * xsum;
  }
  return total;
}

}  // namespace edgellm
