// ARM NEON dot-product (sdot) decode kernels over the legacy family's row-interleaved tiles
// (kernels/repack_legacy.h has the layout). Why intrinsics: Highway 1.0.3 has no int8 dot-product op (only the
// int16 ReorderWidenMulAccumulate), and `sdot` by lane (vdotq_laneq_s32: each int32 lane += the dot of its 4
// weight bytes with one 4-byte lane of the activation register) is what lets a 64-byte level vector of a tile
// (16 rows × 4 columns) be four q-registers of 4 rows each whose int32 lanes ARE the outputs: no horizontal
// sums. Compiled per function for armv8.2-a+dotprod and chosen at run time (repack_isa_supported(kNeonDot)
// checks HWCAP_ASIMDDP via core/cpu_features), so CPUs without sdot keep the in-place kernels.
//
// Per group (32 columns × 16 rows) and token: the 32 activation bytes are two q-registers (lane v of the first
// = columns 4v..4v+3, of the second = columns 16+4v..), the four int32x4 row accumulators start at the record's
// init; for each of the group's four level vectors v, four 16-byte loads give rows 0-3, 4-7, 8-11, 12-15, whose
// low nibbles (vand) meet lane v of the first activation register and high nibbles (ushr) lane v of the
// second. Levels by type, as signed bytes for sdot:
//   Q4_0, Q4_1  the nibbles 0..15; Q4_0's −8 is the record's init (−8·Σx).
//   Q5_0, Q5_1  q − 16 in one instruction per nibble: the fifth-bit mask (inverted, so a set byte means "bit
//               clear") is expanded to bytes by tbl + cmtst, then sli/sri insert its top nibble (0xF0 = −16)
//               above the level nibble; so Q5_0 needs no init and Q5_1 gets +16·Σx (layouts kQ5_0Signed,
//               kQ5_1Signed).
//   Q8_0        the tile holds q + 128; eor 0x80 gives q back (layout kQ8_0Signed: no init).
// Then per 4 rows: scvtf, and fmla with the row scales (fcvtl of fp16) times the token's scale; Q4_1/Q5_1 add
// m·(dx·Σx). One sdot chain per row quad and token (8 deep per group; a second chain would cost 4 movs and 4
// adds per group, and the next group's chains are independent anyway). Up to kMaxTokensNeon (2) tokens share
// each decoded weight register: a third needs 10 more of the 32 vector registers (4 int + 4 float
// accumulators + 2 activation registers) and spilled (30-68 stack loads/stores per 1024 weights, objdump)
// for only 8-15 % fewer instructions per token.
//
// Instructions per 512 weights (one group) in the inner loop, counted in the GCC 12 -O3 objdump of this file
// (aarch64-linux-gnu-objdump -d, the loop over group pairs / 2), 1 token | 2 tokens:
//   Q4_0 99 | 160   (16 loads, 32 and/ushr, 32 sdot, ~19 activation/init/scale, ~16 float)  ~0.19 per weight
//   Q4_1 110 | 175   Q5_0 184 | 236   Q5_1 193 | 250   (Q5: + 32 tbl + 32 cmtst; sli/sri replace and/ushr)
//   Q8_0 122 | 180   (32 loads, 32 eor, 32 sdot)
// NEON has a quarter of a zmm's width, so the 32 sdot per 512 weights are the floor. No stack traffic at
// 1 token; 4 (15 for Q5) stack loads/stores per 1024 weights at 2. Speed is not measured: this machine runs
// ARM code only under qemu.
#include "kernels/repack_legacy.h"

#if defined(__aarch64__)
#include <arm_neon.h>

// GCC's pre-allocation scheduler hoists the next group's 16-32 level loads above this group's sdots and then
// spills the float accumulators: 2-4x the stack traffic and +20-35 % instructions in these loops (objdump).
#if !defined(__clang__)
#pragma GCC optimize("no-schedule-insns")
#endif

#include <algorithm>
#include <cstring>

// arm_neon.h declares the sdot intrinsics for armv8.2-a+dotprod; a bare "+dotprod" on the armv8-a baseline
// lacks the rest of v8.2 and GCC refuses to inline them (as in kernels/arm_dotprod.cc).
#define EL_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#define EL_INLINE inline __attribute__((always_inline))

namespace edgellm::repack_legacy {
namespace {

EL_INLINE float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

// The 16 fp16 row values at p as four float32x4 (rows 0-3, 4-7, 8-11, 12-15).
EL_TARGET_DOTPROD EL_INLINE void load_f16x16(const uint8_t* p, float32x4_t* out) {
  const float16x8_t a = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(p)));
  const float16x8_t b = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(p + 16)));
  out[0] = vcvt_f32_f16(vget_low_f16(a));
  out[1] = vcvt_high_f32_f16(a);
  out[2] = vcvt_f32_f16(vget_low_f16(b));
  out[3] = vcvt_high_f32_f16(b);
}

// acc[t][k] += lv·x for q-register k (rows 4k..4k+3) of one step vector, with lane `lane` of x[t].
template <int T, int kLane>
EL_TARGET_DOTPROD EL_INLINE void dot4(int32x4_t (*acc)[4], const int8x16_t* w, const int8x16_t* x) {
  for (int t = 0; t < T; ++t)
    for (int k = 0; k < 4; ++k) acc[t][k] = vdotq_laneq_s32(acc[t][k], w[k], x[t], kLane);
}

// The fifth-bit helpers: byte j of q-register k of a step vector is bit 16k + j of its mask, i.e. bit j % 8 of
// mask byte 2k + j / 8.
struct Bits5 {
  uint8x16_t idx[4], bit;
};
EL_TARGET_DOTPROD EL_INLINE Bits5 bits5() {
  Bits5 b;
  for (int k = 0; k < 4; ++k) {
    uint8_t idx[16];
    for (int j = 0; j < 16; ++j) idx[j] = static_cast<uint8_t>(2 * k + j / 8);
    b.idx[k] = vld1q_u8(idx);
  }
  static constexpr uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  b.bit = vld1q_u8(kBit);
  return b;
}

// One step pair v of a group: raw[k] the 16-byte loads of level vector v; lo/hi the signed levels of step v
// (columns 4v..) and v + 4 (columns 16 + 4v..).
template <const Layout& L, int V, int T>
EL_TARGET_DOTPROD EL_INLINE void nibble_pair(const uint8_t* lv, const uint8_t* hb, const Bits5& b5,
                                             const int8x16_t* x0, const int8x16_t* x1, int32x4_t (*acc)[4]) {
  int8x16_t lo[4], hi[4];
  uint8x16_t raw[4];
  for (int k = 0; k < 4; ++k) raw[k] = vld1q_u8(lv + 64 * V + 16 * k);
  if constexpr (L.hbit_bytes != 0) {
    // Inverted masks of step v (bytes 0-7) and step v + 4 (bytes 8-15): 0xFF after cmtst where the bit is clear.
    const uint8x16_t clear = vmvnq_u8(vld1q_u8(hb + 16 * V));
    const uint8x16_t clear_hi = vextq_u8(clear, clear, 8);
    // hi before lo: sli overwrites raw in place (sri only reads it), so no register copies are needed.
    for (int k = 0; k < 4; ++k) {
      const uint8x16_t c_hi = vtstq_u8(vqtbl1q_u8(clear_hi, b5.idx[k]), b5.bit);
      hi[k] = vreinterpretq_s8_u8(vsriq_n_u8(c_hi, raw[k], 4));  // (c & 0xF0) | (raw >> 4)
      const uint8x16_t c_lo = vtstq_u8(vqtbl1q_u8(clear, b5.idx[k]), b5.bit);
      lo[k] = vreinterpretq_s8_u8(vsliq_n_u8(raw[k], c_lo, 4));  // (c << 4) | (raw & 0x0F)
    }
  } else {
    const uint8x16_t low4 = vdupq_n_u8(0x0F);
    for (int k = 0; k < 4; ++k) {
      lo[k] = vreinterpretq_s8_u8(vandq_u8(raw[k], low4));
      hi[k] = vreinterpretq_s8_u8(vshrq_n_u8(raw[k], 4));
    }
  }
  dot4<T, V>(acc, lo, x0);
  dot4<T, V>(acc, hi, x1);
}

// Q8_0's step vector s as signed levels: the tile holds q + 128, and q + 128 ^ 0x80 is q as a signed byte.
EL_TARGET_DOTPROD EL_INLINE void load_q8(const uint8_t* lv, int s, int8x16_t* w) {
  const uint8x16_t flip = vdupq_n_u8(0x80);
  for (int k = 0; k < 4; ++k) w[k] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(lv + 64 * s + 16 * k), flip));
}

// One group of 16 rows for T tokens: facc[t] += Σ_columns w·x. d/m: the group's 16 fp16 row scales/minima;
// hb: its fifth-bit masks; lv: its level vectors; a: token 0's record, tokens act_stride apart.
template <const Layout& L, int T>
EL_TARGET_DOTPROD EL_INLINE void group(const uint8_t* d, const uint8_t* m, const uint8_t* hb, const uint8_t* lv,
                                       const uint8_t* a, size_t act_stride, const Bits5& b5,
                                       float32x4_t (*facc)[4]) {
  int8x16_t x0[T], x1[T];
  // One sdot chain per row quad and token (the header says why).
  int32x4_t acc[T][4];
  for (int t = 0; t < T; ++t) {
    const uint8_t* r = a + t * act_stride;
    x0[t] = vld1q_s8(reinterpret_cast<const int8_t*>(r));
    x1[t] = vld1q_s8(reinterpret_cast<const int8_t*>(r + 16));
    const int32x4_t init = vld1q_dup_s32(reinterpret_cast<const int32_t*>(r + 32));
    for (int k = 0; k < 4; ++k) acc[t][k] = init;
  }
  if constexpr (L.level_bytes == 512) {
    // Step s (columns 4s..4s+3) is vector s; steps 0-3 take lanes of x0, steps 4-7 of x1.
    int8x16_t w0[4], w1[4];
    load_q8(lv, 0, w0), load_q8(lv, 1, w1);
    dot4<T, 0>(acc, w0, x0), dot4<T, 1>(acc, w1, x0);
    load_q8(lv, 2, w0), load_q8(lv, 3, w1);
    dot4<T, 2>(acc, w0, x0), dot4<T, 3>(acc, w1, x0);
    load_q8(lv, 4, w0), load_q8(lv, 5, w1);
    dot4<T, 0>(acc, w0, x1), dot4<T, 1>(acc, w1, x1);
    load_q8(lv, 6, w0), load_q8(lv, 7, w1);
    dot4<T, 2>(acc, w0, x1), dot4<T, 3>(acc, w1, x1);
  } else {
    nibble_pair<L, 0, T>(lv, hb, b5, x0, x1, acc);
    nibble_pair<L, 1, T>(lv, hb, b5, x0, x1, acc);
    nibble_pair<L, 2, T>(lv, hb, b5, x0, x1, acc);
    nibble_pair<L, 3, T>(lv, hb, b5, x0, x1, acc);
  }
  float32x4_t wd[4];
  load_f16x16(d, wd);
  for (int t = 0; t < T; ++t) {
    const float dx = load_f32(a + t * act_stride + 36);
    for (int k = 0; k < 4; ++k) {
      const float32x4_t sum = vcvtq_f32_s32(acc[t][k]);
      facc[t][k] = vfmaq_f32(facc[t][k], sum, vmulq_n_f32(wd[k], dx));
    }
  }
  if constexpr (L.has_min) {
    float32x4_t wm[4];
    load_f16x16(m, wm);
    for (int t = 0; t < T; ++t) {
      const float xs = load_f32(a + t * act_stride + 40);
      for (int k = 0; k < 4; ++k) facc[t][k] = vfmaq_n_f32(facc[t][k], wm[k], xs);
    }
  }
}

template <const Layout& L, int T>
EL_TARGET_DOTPROD void tiles(const RepackedWeight& w, int64_t tb, int64_t te, const uint8_t* acts,
                             size_t act_stride, float* y, int64_t y_stride) {
  const int64_t nb = w.cols / 32, pairs = nb / 2;
  constexpr int kScales2 = L.scale_bytes(2), kScales1 = L.scale_bytes(1);
  const Bits5 b5 = bits5();
  for (int64_t tile = tb; tile < te; ++tile) {
    const uint8_t* p = w.tile(tile);
    const uint8_t* a = acts;
    float32x4_t facc[T][4];
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < 4; ++k) facc[t][k] = vdupq_n_f32(0.0f);
    for (int64_t u = 0; u < pairs; ++u) {
      const uint8_t* hb = p + kScales2;
      const uint8_t* lv = hb + 2 * L.hbit_bytes;
      group<L, T>(p, p + 64, hb, lv, a, act_stride, b5, facc);
      group<L, T>(p + 32, p + 96, hb + L.hbit_bytes, lv + L.level_bytes, a + kActRecord, act_stride, b5, facc);
      p += L.unit_bytes(2);
      a += 2 * kActRecord;
    }
    if (nb % 2 != 0) {
      const uint8_t* hb = p + kScales1;
      group<L, T>(p, p + 32, hb, hb + L.hbit_bytes, a, act_stride, b5, facc);
    }
    const int64_t rows = std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows);
    for (int t = 0; t < T; ++t) {
      float* out = y + t * y_stride + tile * kRepackRows;
      if (rows == kRepackRows) {
        for (int k = 0; k < 4; ++k) vst1q_f32(out + 4 * k, facc[t][k]);
      } else {  // the matrix's last tile: rows past w.rows belong to nobody
        float tmp[kRepackRows];
        for (int k = 0; k < 4; ++k) vst1q_f32(tmp + 4 * k, facc[t][k]);
        std::memcpy(out, tmp, static_cast<size_t>(rows) * sizeof(float));
      }
    }
  }
}

template <const Layout& L>
void gemv(const RepackedWeight& w, int64_t tb, int64_t te, const uint8_t* acts, size_t act_stride,
          int64_t n_tokens, float* y, int64_t y_stride) {
  if (n_tokens == 1) return tiles<L, 1>(w, tb, te, acts, act_stride, y, y_stride);
  return tiles<L, 2>(w, tb, te, acts, act_stride, y, y_stride);
}
static_assert(kMaxTokensNeon == 2, "gemv dispatches 1..2 tokens");

}  // namespace

GemvFn gemv_neondot(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return &gemv<kQ4_0>;
    case GgmlType::Q4_1:
      return &gemv<kQ4_1>;
    case GgmlType::Q5_0:
      return &gemv<kQ5_0>;
    case GgmlType::Q5_1:
      return &gemv<kQ5_1>;
    case GgmlType::Q8_0:
      return &gemv<kQ8_0>;
    default:
      return nullptr;
  }
}

}  // namespace edgellm::repack_legacy

#else
namespace edgellm::repack_legacy {
GemvFn gemv_neondot(GgmlType) { return nullptr; }
}  // namespace edgellm::repack_legacy
#endif  // __aarch64__
