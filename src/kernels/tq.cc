// TQ1_0 / TQ2_0 (kernels/tq.h), from the GGUF format definitions: TQ2_0 byte m of each 32-byte half holds
// elements m + 32·l of that half's 128 in bits 2l..2l+1 (code − 1 = value); TQ1_0 byte b holds a base-3 number
// of 5 trits scaled to a byte (ceil(v · 256 / 243)), so multiplying by 3^n and taking the high part of · 3
// extracts trit n — elements of 32-byte (then 16-byte) runs are strided by the run length; the last 4 bytes hold
// 4 trits each, for elements 240 + j + 4n.
#include "kernels/tq.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/elq.h"

namespace edgellm {
namespace {

int8_t trit(uint8_t byte, int n) { return static_cast<int8_t>(tq1_digit(byte, n) - 1); }

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}

// ggml's ternary rounding: scale = max |x|, t = round-half-away(x / scale) in {-1, 0, 1}.
float ternarize(const float* x, int8_t* t) {
  float amax = 0.0f;
  for (int i = 0; i < kTqBlock; ++i)
    if (std::isfinite(x[i])) amax = std::max(amax, std::fabs(x[i]));
  const float id = amax != 0.0f ? 1.0f / amax : 0.0f;
  // Non-finite inputs (a corrupt file) become 0.
  for (int i = 0; i < kTqBlock; ++i) t[i] = std::isfinite(x[i]) ? static_cast<int8_t>(std::lround(x[i] * id)) : 0;
  return amax;
}

// Dot of 256 ternary values with 8 activation blocks by table lookup: sum t·x = (S_plus − S_minus) / 2.
float ternary_dot_lut(const int8_t* t, const BlockElqAct* act) {
  float sum = 0.0f;
  for (int a = 0; a < kTqBlock / kElqActBlock; ++a) {
    int32_t s = 0;
    for (int j = 0; j < 8; ++j) {
      int plus = 0, minus = 0;
      for (int i = 0; i < 4; ++i) {
        const int8_t v = t[a * 32 + 4 * j + i];
        plus |= (v > 0) << i;
        minus |= (v < 0) << i;
      }
      const int8_t* table = act[a].tables[elq_act_table_slot(j)];
      s += table[plus] - table[minus];
    }
    sum += 0.5f * act[a].scale * static_cast<float>(s);
  }
  return sum;
}

}  // namespace

float tq1_0_decode(const uint8_t* block, int8_t* t) {
  const uint8_t* qs = block;
  const uint8_t* qh = block + 48;
  int k = 0;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) t[k++] = trit(qs[m], n);
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) t[k++] = trit(qs[32 + m], n);
  for (int n = 0; n < 4; ++n)
    for (int j = 0; j < 4; ++j) t[k++] = trit(qh[j], n);
  return half_at(block + 52);
}

float tq2_0_decode(const uint8_t* block, int8_t* t) {
  int k = 0;
  for (int j = 0; j < 64; j += 32)
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 32; ++m) t[k++] = static_cast<int8_t>(((block[j + m] >> (2 * l)) & 3) - 1);
  return half_at(block + 64);
}

void tq1_0_to_float(const void* src, float* dst, int64_t n) {
  const uint8_t* in = static_cast<const uint8_t*>(src);
  int8_t t[kTqBlock];
  for (int64_t b = 0; b < n / kTqBlock; ++b, in += kTq1Bytes, dst += kTqBlock) {
    const float d = tq1_0_decode(in, t);
    for (int i = 0; i < kTqBlock; ++i) dst[i] = static_cast<float>(t[i]) * d;
  }
}

void tq2_0_to_float(const void* src, float* dst, int64_t n) {
  const uint8_t* in = static_cast<const uint8_t*>(src);
  int8_t t[kTqBlock];
  for (int64_t b = 0; b < n / kTqBlock; ++b, in += kTq2Bytes, dst += kTqBlock) {
    const float d = tq2_0_decode(in, t);
    for (int i = 0; i < kTqBlock; ++i) dst[i] = static_cast<float>(t[i]) * d;
  }
}

void tq1_0_from_float(const float* src, void* dst, int64_t n) {
  uint8_t* out = static_cast<uint8_t*>(dst);
  int8_t t[kTqBlock];
  // Packs trits (first one most significant) as ceil(v · 256 / 243), the inverse of trit().
  const auto pack = [&](const int* idx, int count) {
    int v = 0;
    for (int i = 0; i < count; ++i) v = v * 3 + (t[idx[i]] + 1);
    for (int i = count; i < 5; ++i) v *= 3;
    return static_cast<uint8_t>((v * 256 + 242) / 243);
  };
  for (int64_t b = 0; b < n / kTqBlock; ++b, src += kTqBlock, out += kTq1Bytes) {
    const uint16_t d = fp32_to_fp16(ternarize(src, t));
    int idx[5];
    for (int m = 0; m < 32; ++m) {
      for (int k = 0; k < 5; ++k) idx[k] = k * 32 + m;
      out[m] = pack(idx, 5);
    }
    for (int m = 0; m < 16; ++m) {
      for (int k = 0; k < 5; ++k) idx[k] = 160 + k * 16 + m;
      out[32 + m] = pack(idx, 5);
    }
    for (int j = 0; j < 4; ++j) {
      for (int k = 0; k < 4; ++k) idx[k] = 240 + k * 4 + j;
      out[48 + j] = pack(idx, 4);
    }
    std::memcpy(out + 52, &d, 2);
  }
}

void tq2_0_from_float(const float* src, void* dst, int64_t n) {
  uint8_t* out = static_cast<uint8_t*>(dst);
  int8_t t[kTqBlock];
  for (int64_t b = 0; b < n / kTqBlock; ++b, src += kTqBlock, out += kTq2Bytes) {
    const uint16_t d = fp32_to_fp16(ternarize(src, t));
    for (int j = 0; j < 64; j += 32)
      for (int m = 0; m < 32; ++m) {
        uint8_t q = 0;
        for (int l = 0; l < 4; ++l) q |= static_cast<uint8_t>((t[j * 4 + l * 32 + m] + 1) << (2 * l));
        out[j + m] = q;
      }
    std::memcpy(out + 64, &d, 2);
  }
}

float vec_dot_tq1_0(int64_t n, const void* w, const void* x) {
  const uint8_t* in = static_cast<const uint8_t*>(w);
  const auto* act = static_cast<const BlockElqAct*>(x);
  int8_t t[kTqBlock];
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kTqBlock; ++b, in += kTq1Bytes, act += kTqBlock / kElqActBlock)
    sum += tq1_0_decode(in, t) * ternary_dot_lut(t, act);
  return sum;
}

float vec_dot_tq2_0(int64_t n, const void* w, const void* x) {
  const uint8_t* in = static_cast<const uint8_t*>(w);
  const auto* act = static_cast<const BlockElqAct*>(x);
  int8_t t[kTqBlock];
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kTqBlock; ++b, in += kTq2Bytes, act += kTqBlock / kElqActBlock)
    sum += tq2_0_decode(in, t) * ternary_dot_lut(t, act);
  return sum;
}

namespace {

float tq_dot_q8_k(int64_t n, const uint8_t* in, size_t block_bytes, float (*decode)(const uint8_t*, int8_t*),
                  const void* x) {
  const auto* act = static_cast<const BlockQ8_K*>(x);
  int8_t t[kTqBlock];
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kTqBlock; ++b, in += block_bytes, ++act) {
    const float d = decode(in, t);
    int32_t s = 0;
    for (int i = 0; i < kTqBlock; ++i) s += t[i] * act->qs[i];
    sum += d * act->d * static_cast<float>(s);
  }
  return sum;
}

}  // namespace

float vec_dot_tq1_0_q8_k(int64_t n, const void* w, const void* x) {
  return tq_dot_q8_k(n, static_cast<const uint8_t*>(w), kTq1Bytes, tq1_0_decode, x);
}

float vec_dot_tq2_0_q8_k(int64_t n, const void* w, const void* x) {
  return tq_dot_q8_k(n, static_cast<const uint8_t*>(w), kTq2Bytes, tq2_0_decode, x);
}

}  // namespace edgellm
