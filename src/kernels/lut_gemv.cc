// Highway table-lookup GEMV over 16-row tiles (kernels/lut_gemv.h). Per activation block (32 activations,
// 8 tables of 16 int8 sums) and plane, one vector load brings the same plane byte of 16 rows for (vector bytes
// / 16) plane bytes; its low and high nibbles index the tables with TableLookupBytes (vpshufb: one table per
// 128-bit block). Lookups are summed in int16 (at most 8 per lane per plane, |entry| <= 127, so 5 planes
// weighted 1..16 stay below 2^15; wider codes widen to int32 per plane), scaled to float once per activation
// block, and multiplied by the row scales once per weight group.
// ARM: SVE vectors are sizeless (no arrays of them) and the tile layout assumes vectors of at most 512 bits,
// so this file compiles NEON only there; must precede every Highway include.
#define HWY_DISABLED_TARGETS (HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128)
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/lut_gemv.cc"
#include "kernels/lut_gemv.h"

#include <cstdlib>
#include <string_view>

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/cache_control.h>
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace edgellm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR
// One-lane vectors cannot hold a 16-byte table: use the plain C++ kernel.
void LutGemv(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride, int64_t n_tokens,
             float* y, int64_t y_stride) {
  lut_gemv_portable(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
}
#else

// Software prefetch distance into the codes (one line per plane and 32 columns).
constexpr size_t kPrefetchBytes = 8192;

template <int kPlanes, bool kTernary>
void LutGemvT(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
              int64_t n_tokens, float* y, int64_t y_stride) {
  const hn::ScalableTag<uint8_t> du8;
  const hn::Repartition<int8_t, decltype(du8)> di8;
  const hn::Repartition<int16_t, decltype(du8)> di16;
  const hn::Repartition<int32_t, decltype(du8)> di32;
  const hn::Repartition<float, decltype(du8)> df;
  const hn::Half<decltype(di8)> dh8;
  const hn::Half<decltype(di16)> dh16;
  using VF = hn::Vec<decltype(df)>;
  using V16 = hn::Vec<decltype(di16)>;
  using V32 = hn::Vec<decltype(di32)>;
  // A vector covers `chunk` plane bytes of the 16 rows; the 4 int32/float quarters of a byte vector map to
  // row vectors (16 rows = row_vecs float vectors) by quarter % row_vecs (see docs/formats.md layout).
  const size_t chunk = hn::Lanes(du8) / kLutTileRows;
  const size_t lanes_f = hn::Lanes(df);
  const size_t row_vecs = kLutTileRows / lanes_f;
  // With 256- or 512-bit vectors (2 or 4 plane bytes of the 16 rows per vector) the int16 sums of a block
  // fold to one vector of rows: per lane at most 4 lookups of |127| times plane weights up to 31, doubled by
  // the last fold (31496 < 2^15), so up to 5 planes (or ternary).
  constexpr size_t kChunk = hn::MaxLanes(du8) / kLutTileRows;
  constexpr bool kFold = kChunk >= 2 && kChunk <= 4 && (kTernary || kPlanes <= 5);

  const ElqFormat& f = *w.format;
  const int64_t groups = w.cols / f.group;
  const size_t plane_bytes = static_cast<size_t>(f.group / 8);
  const int acts = f.group / kElqActBlock;
  const size_t tile_group_codes = kPlanes * plane_bytes * kLutTileRows;
  const size_t halves = lut_coeff_halves(f);
  const bool zero_point = f.zero_point;
  const float half_range = 0.5f * static_cast<float>((1 << f.bits) - 1);
  const hn::Rebind<hwy::float16_t, decltype(df)> df16;
  const auto mask = hn::Set(du8, 15);

  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    const auto* xt = reinterpret_cast<const BlockElqAct*>(static_cast<const uint8_t*>(x) + tok * x_stride);
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      VF out[4] = {hn::Zero(df), hn::Zero(df), hn::Zero(df), hn::Zero(df)};
      for (int64_t g = 0; g < groups; ++g) {
        const size_t tg = static_cast<size_t>(t * groups + g);
        const uint8_t* codes = w.codes.data() + tg * tile_group_codes;
        const hwy::float16_t* coeffs = reinterpret_cast<const hwy::float16_t*>(w.coeffs.data()) + tg * halves;
        VF fs[4] = {hn::Zero(df), hn::Zero(df), hn::Zero(df), hn::Zero(df)};
        float xsum = 0.0f;
        for (int a = 0; a < acts; ++a) {
          const BlockElqAct& act = xt[g * acts + a];
          xsum += act.sum;
          // The 64 bytes of each plane for this block are one cache line; fetching them 8 KB ahead keeps the
          // DRAM stream busy (as in lut_gemv_vbmi.cc: the hardware prefetcher alone reaches ~75 % of a read).
          for (int k = 0; k < kPlanes; ++k)
            hwy::Prefetch(codes + (k * plane_bytes + static_cast<size_t>(a) * 4) * kLutTileRows + kPrefetchBytes);
          // Sums of one plane's lookups, lanes as the low/high half of the byte vector.
          const auto plane_sums = [&](int k, V16& lo_sum, V16& hi_sum) {
            lo_sum = hn::Zero(di16);
            hi_sum = hn::Zero(di16);
            for (size_t p0 = 0; p0 < 4; p0 += chunk) {
              const auto v = hn::LoadU(du8, codes + (k * plane_bytes + static_cast<size_t>(a) * 4 + p0) * kLutTileRows);
              const auto tl = hn::LoadU(di8, &act.tables[0][0] + p0 * 16);
              const auto th = hn::LoadU(di8, &act.tables[4][0] + p0 * 16);
              const auto rl = hn::TableLookupBytes(tl, hn::BitCast(di8, hn::And(v, mask)));
              const auto rh = hn::TableLookupBytes(th, hn::BitCast(di8, hn::ShiftRight<4>(v)));
              lo_sum = hn::Add(lo_sum, hn::Add(hn::PromoteTo(di16, hn::LowerHalf(dh8, rl)),
                                               hn::PromoteTo(di16, hn::LowerHalf(dh8, rh))));
              hi_sum = hn::Add(hi_sum, hn::Add(hn::PromoteTo(di16, hn::UpperHalf(dh8, rl)),
                                               hn::PromoteTo(di16, hn::UpperHalf(dh8, rh))));
            }
          };
          if constexpr (kFold) {
            // Both halves of a lookup vector hold the same 16 rows (other plane bytes), so they are added
            // in int16 right away, and the planes are weighted there too: one int16 vector per block.
            V16 s = hn::Zero(di16);
            for (int k = 0; k < kPlanes; ++k) {
              for (size_t p0 = 0; p0 < 4; p0 += kChunk) {
                const auto v = hn::LoadU(du8, codes + (k * plane_bytes + static_cast<size_t>(a) * 4 + p0) * kLutTileRows);
                const auto tl = hn::LoadU(di8, &act.tables[0][0] + p0 * 16);
                const auto th = hn::LoadU(di8, &act.tables[4][0] + p0 * 16);
                const auto rl = hn::TableLookupBytes(tl, hn::BitCast(di8, hn::And(v, mask)));
                const auto rh = hn::TableLookupBytes(th, hn::BitCast(di8, hn::ShiftRight<4>(v)));
                const V16 t = hn::Add(hn::Add(hn::PromoteTo(di16, hn::LowerHalf(dh8, rl)),
                                              hn::PromoteTo(di16, hn::UpperHalf(dh8, rl))),
                                      hn::Add(hn::PromoteTo(di16, hn::LowerHalf(dh8, rh)),
                                              hn::PromoteTo(di16, hn::UpperHalf(dh8, rh))));
                if constexpr (kTernary) {
                  s = k == 0 ? hn::Add(s, t) : hn::Sub(s, t);
                } else {
                  s = hn::Add(s, hn::ShiftLeftSame(t, k));
                }
              }
            }
            const VF scale = hn::Set(df, 0.5f * act.scale);
            if constexpr (kChunk == 4) {
              // 512-bit: s holds the 16 rows twice; fold once more and convert 16 rows in one vector.
              const auto rows16 = hn::Add(hn::LowerHalf(dh16, s), hn::UpperHalf(dh16, s));
              fs[0] = hn::MulAdd(hn::ConvertTo(df, hn::PromoteTo(di32, rows16)), scale, fs[0]);
            } else {
              fs[0] = hn::MulAdd(hn::ConvertTo(df, hn::PromoteTo(di32, hn::LowerHalf(dh16, s))), scale, fs[0]);
              fs[1] = hn::MulAdd(hn::ConvertTo(df, hn::PromoteTo(di32, hn::UpperHalf(dh16, s))), scale, fs[1]);
            }
            continue;
          }
          V32 q[4];
          if constexpr (kTernary || kPlanes <= 5) {
            V16 s_lo = hn::Zero(di16), s_hi = hn::Zero(di16);
            for (int k = 0; k < kPlanes; ++k) {
              V16 lo, hi;
              plane_sums(k, lo, hi);
              if constexpr (kTernary) {
                s_lo = k == 0 ? hn::Add(s_lo, lo) : hn::Sub(s_lo, lo);
                s_hi = k == 0 ? hn::Add(s_hi, hi) : hn::Sub(s_hi, hi);
              } else {
                s_lo = hn::Add(s_lo, hn::ShiftLeftSame(lo, k));
                s_hi = hn::Add(s_hi, hn::ShiftLeftSame(hi, k));
              }
            }
            q[0] = hn::PromoteTo(di32, hn::LowerHalf(dh16, s_lo));
            q[1] = hn::PromoteTo(di32, hn::UpperHalf(dh16, s_lo));
            q[2] = hn::PromoteTo(di32, hn::LowerHalf(dh16, s_hi));
            q[3] = hn::PromoteTo(di32, hn::UpperHalf(dh16, s_hi));
          } else {
            for (V32& v : q) v = hn::Zero(di32);
            for (int k = 0; k < kPlanes; ++k) {
              V16 lo, hi;
              plane_sums(k, lo, hi);
              q[0] = hn::Add(q[0], hn::ShiftLeftSame(hn::PromoteTo(di32, hn::LowerHalf(dh16, lo)), k));
              q[1] = hn::Add(q[1], hn::ShiftLeftSame(hn::PromoteTo(di32, hn::UpperHalf(dh16, lo)), k));
              q[2] = hn::Add(q[2], hn::ShiftLeftSame(hn::PromoteTo(di32, hn::LowerHalf(dh16, hi)), k));
              q[3] = hn::Add(q[3], hn::ShiftLeftSame(hn::PromoteTo(di32, hn::UpperHalf(dh16, hi)), k));
            }
          }
          const VF scale = hn::Set(df, 0.5f * act.scale);
          for (size_t i = 0; i < 4; ++i)
            fs[i % row_vecs] = hn::MulAdd(hn::ConvertTo(df, q[i]), scale, fs[i % row_vecs]);
        }
        for (size_t rv = 0; rv < row_vecs; ++rv) {
          const VF d = hn::PromoteTo(df, hn::LoadU(df16, coeffs + rv * lanes_f));
          if (zero_point) {
            const VF e = hn::MulAdd(d, hn::Set(df, half_range),
                                    hn::PromoteTo(df, hn::LoadU(df16, coeffs + kLutTileRows + rv * lanes_f)));
            out[rv] = hn::MulAdd(e, hn::Set(df, xsum), out[rv]);
          }
          out[rv] = hn::MulAdd(d, fs[rv], out[rv]);
        }
      }
      float* yt = y + tok * y_stride + t * kLutTileRows;
      const int64_t valid = w.rows - t * kLutTileRows;
      if (valid >= kLutTileRows) {
        for (size_t rv = 0; rv < row_vecs; ++rv) hn::StoreU(out[rv], df, yt + rv * lanes_f);
      } else {
        HWY_ALIGN float tmp[kLutTileRows];
        for (size_t rv = 0; rv < row_vecs; ++rv) hn::StoreU(out[rv], df, tmp + rv * lanes_f);
        for (int64_t r = 0; r < valid; ++r) yt[r] = tmp[r];
      }
    }
  }
}

void LutGemv(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride, int64_t n_tokens,
             float* y, int64_t y_stride) {
  if (w.format->ternary) return LutGemvT<2, true>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
  switch (w.format->bits) {
    case 1:
      return LutGemvT<1, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
    case 2:
      return LutGemvT<2, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
    case 3:
      return LutGemvT<3, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
    case 4:
      return LutGemvT<4, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
    case 5:
      return LutGemvT<5, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
    case 6:
      return LutGemvT<6, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
    case 7:
      return LutGemvT<7, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
    default:
      return LutGemvT<8, false>(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
  }
}
#endif  // HWY_TARGET == HWY_SCALAR

int64_t LutDispatchedTarget() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace edgellm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgellm {

HWY_EXPORT(LutGemv);
HWY_EXPORT(LutDispatchedTarget);

LutGemvFn lut_gemv_select(const char* vbmi_env) {
  const bool off = vbmi_env != nullptr && std::string_view(vbmi_env) == "off";
  return !off && lut_gemv_vbmi() != nullptr ? lut_gemv_vbmi() : &HWY_DYNAMIC_DISPATCH(LutGemv);
}

LutGemvFn lut_gemv_kernel() {
  static const LutGemvFn best = lut_gemv_select(std::getenv("EDGELLM_LUT_VBMI"));
  return best;
}

LutActFn lut_act_kernel() {
  static const LutActFn best = lut_act_avx512() != nullptr ? lut_act_avx512() : &elq_act_from_float;
  return best;
}

void lut_gemv_dispatch(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
                       int64_t n_tokens, float* y, int64_t y_stride) {
  HWY_DYNAMIC_DISPATCH(LutGemv)(w, tile_begin, tile_end, x, x_stride, n_tokens, y, y_stride);
}

int64_t lut_dispatched_target() { return HWY_DYNAMIC_DISPATCH(LutDispatchedTarget)(); }

}  // namespace edgellm
#endif  // HWY_ONCE
