// Decode GEMV for the 32-element block types with AVX-512 VNNI (kernels/x86_gemv.h), plus the activation
// expansion and the per-CPU kernel choice shared with the 256-bit variants (x86_gemv_ymm.cc).
//
// Why intrinsics: Highway 1.0.3 has no int8 dot-product op (only int16 ReorderWidenMulAccumulate, i.e.
// pmaddwd after widening), and widening 4-bit weights to int16 costs more instructions per weight than
// memory bandwidth allows on one core. vpdpbusd multiplies unsigned bytes by signed bytes and sums each 4
// into an int32 lane, so the weights are the unsigned side (w = d·(q − offset), see BlockLayout) and each
// lane's accumulator starts at −offset·Σx, precomputed once per token in the expanded activation row.
//
// One 64-byte masked load holds two consecutive 4/5-bit blocks (36..48 bytes; the mask keeps the load
// inside the row, so the last row of a mapping never faults). From that single register, vpermb places
// the 16 qs bytes of each block twice (the high-nibble copy is then shifted by 4), vpermb + vptestmb turn
// the 5-bit types' qh bits into a byte mask, and vpermw collects the fp16 scales (and minima) as 8 lanes
// per block. Q8_0 pairs (68 bytes) take two 32-byte loads instead.
#include "kernels/x86_gemv.h"

#include <cstring>

#include "core/cpu_features.h"
#include "core/fp16.h"
#include "kernels/x86_gemv_impl.h"

namespace edgellm {

size_t gemv_act_row_bytes(int64_t cols) { return 4 * gemv_detail::act_offsets(cols).padded; }

void gemv_expand_acts(const void* q8_0_row, int64_t cols, int32_t offset, uint8_t* dst) {
  const gemv_detail::ActOffsets o = gemv_detail::act_offsets(cols);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(q8_0_row);
  const int64_t blocks = cols / kQK8_0;
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* dx = reinterpret_cast<float*>(dst + o.dx());
  auto* init = reinterpret_cast<int32_t*>(dst + o.init());
  auto* xs = reinterpret_cast<float*>(dst + o.xs());
  for (int64_t i = 0; i < blocks; ++i) {
    const float d = fp16_to_fp32(b[i].d);
    std::memcpy(q + i * kQK8_0, b[i].qs, kQK8_0);
    for (int j = 0; j < kQK8_0 / 4; ++j) {
      const int32_t s = b[i].qs[4 * j] + b[i].qs[4 * j + 1] + b[i].qs[4 * j + 2] + b[i].qs[4 * j + 3];
      dx[i * 8 + j] = d;
      init[i * 8 + j] = -offset * s;
      xs[i * 8 + j] = d * static_cast<float>(s);
    }
  }
  // Padding lanes are zero in every section, so kernels may run a whole block pair past the end.
  const size_t used = static_cast<size_t>(cols), lanes = used / 4, pad = o.padded - used;
  std::memset(q + used, 0, pad);
  std::memset(dx + lanes, 0, pad);
  std::memset(init + lanes, 0, pad);
  std::memset(xs + lanes, 0, pad);
}

}  // namespace edgellm

#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers (self-initialised on purpose) as maybe-uninitialized
// when intrinsics are inlined into target-attributed functions; the warning says nothing about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>

#define EL_TARGET_ZMM __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vbmi,gfni")))

namespace edgellm::gemv_detail {
namespace {

using Bytes64 = std::array<uint8_t, 64>;
using Words32 = std::array<uint16_t, 32>;

// vpermb indices: output byte k of a block pair is column k % 32 of block k / 32. Columns 0..15 and
// 16..31 both come from qs byte k % 16 (low and high nibble), so each qs byte is placed twice.
constexpr Bytes64 qs_index(const BlockLayout& l) {
  Bytes64 idx{};
  for (int k = 0; k < 64; ++k) idx[k] = static_cast<uint8_t>((k / 32) * l.bytes + l.qs + (k % 32) % 16);
  return idx;
}
// The qh byte holding column k's fifth bit, and the bit within it.
constexpr Bytes64 qh_index(const BlockLayout& l) {
  Bytes64 idx{};
  for (int k = 0; k < 64; ++k) idx[k] = static_cast<uint8_t>((k / 32) * l.bytes + (l.qh < 0 ? 0 : l.qh) + (k % 32) / 8);
  return idx;
}
constexpr Bytes64 qh_bits() {
  Bytes64 bits{};
  for (int k = 0; k < 64; ++k) bits[k] = static_cast<uint8_t>(1u << (k % 8));
  return bits;
}
// vpermw indices: words 0..15 are the scale d of block i / 8, words 16..31 the minimum m.
constexpr Words32 scale_index(const BlockLayout& l) {
  Words32 idx{};
  for (int i = 0; i < 32; ++i) {
    const int blk = (i % 16) / 8, field = i < 16 || l.m < 0 ? l.d : l.m;
    idx[i] = static_cast<uint16_t>((blk * l.bytes + field) / 2);
  }
  return idx;
}

// Constants of one layout, loaded into registers once per call.
struct ZmmConsts {
  __m512i qs_idx, qh_idx, qh_bits, scale_idx, nibble_matrix;
};

// gf2p8affineqb matrices: byte 7 − i of the qword selects the input bits XORed into output bit i.
constexpr int64_t kLowNibble = 0x0102040800000000, kHighNibble = 0x1020408000000000;

template <const BlockLayout& L>
EL_TARGET_ZMM inline ZmmConsts zmm_consts() {
  static constexpr Bytes64 kQs = qs_index(L), kQh = qh_index(L), kBits = qh_bits();
  static constexpr Words32 kScale = scale_index(L);
  return {_mm512_loadu_si512(kQs.data()), _mm512_loadu_si512(kQh.data()), _mm512_loadu_si512(kBits.data()),
          _mm512_loadu_si512(kScale.data()),
          _mm512_setr_epi64(kLowNibble, kLowNibble, kHighNibble, kHighNibble, kLowNibble, kLowNibble, kHighNibble,
                            kHighNibble)};
}

// Two blocks decoded: 64 unsigned values in activation order, and per lane (8 per block) the scale and,
// for Q4_1/Q5_1, the minimum. A missing second block (odd block count) decodes to zeros.
struct ZmmPair {
  __m512i q;
  __m512 d, m;
};

// How decode_pair reads its blocks: two plain 32-byte loads (the caller checked that all 64 bytes lie inside
// the row), or a masked load of exactly two blocks or one. Streaming from DRAM on this Zen 5, 64-byte loads at
// a 36-byte step read 23 GB/s, masked ones 11 GB/s, and two 32-byte loads 30 GB/s, like aligned lines; so
// only each row's last pair uses a masked load.
enum class Load { kWide, kPair, kSingle };

template <const BlockLayout& L>
EL_TARGET_ZMM inline ZmmPair decode_pair(const uint8_t* p, Load mode, const ZmmConsts& c) {
  const bool two = mode != Load::kSingle;
  ZmmPair out;
  if constexpr (!L.nibbles) {
    const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + L.qs));
    const __m256i q1 = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + L.bytes + L.qs))
                           : _mm256_set1_epi8(static_cast<char>(0x80));
    out.q = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1),
                             _mm512_set1_epi8(static_cast<char>(0x80)));
    uint16_t d0, d1 = 0;
    std::memcpy(&d0, p + L.d, 2);
    if (two) std::memcpy(&d1, p + L.bytes + L.d, 2);
    const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(static_cast<short>(d0))),
                                              _mm_set1_epi16(static_cast<short>(d1)), 1);
    out.d = _mm512_cvtph_ps(h);
    out.m = _mm512_setzero_ps();
  } else {
    const __mmask64 load = two ? (__mmask64{1} << (2 * L.bytes)) - 1 : (__mmask64{1} << L.bytes) - 1;
    const __m512i v =
        mode == Load::kWide
            ? _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))),
                                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), 1)
            : _mm512_maskz_loadu_epi8(load, p);
    // One affine transform per byte extracts the low nibble (qwords 0, 1, 4, 5) or the high nibble (2, 3,
    // 6, 7): gf2p8affineqb takes its bit matrix per qword, which srl + and would need two ops for.
    __m512i q = _mm512_gf2p8affine_epi64_epi8(_mm512_permutexvar_epi8(c.qs_idx, v), c.nibble_matrix, 0);
    if constexpr (L.qh >= 0) {
      const __mmask64 high = _mm512_test_epi8_mask(_mm512_permutexvar_epi8(c.qh_idx, v), c.qh_bits);
      q = _mm512_mask_add_epi8(q, high, q, _mm512_set1_epi8(0x10));
    }
    out.q = q;
    const __m512i s = _mm512_permutexvar_epi16(c.scale_idx, v);
    out.d = _mm512_cvtph_ps(_mm512_castsi512_si256(s));
    out.m = L.m >= 0 ? _mm512_cvtph_ps(_mm512_extracti64x4_epi64(s, 1)) : _mm512_setzero_ps();
  }
  return out;
}

// One token's expanded activation row.
struct Acts {
  const uint8_t* q;
  const float* dx;
  const int32_t* init;
  const float* xs;
};

// Accumulates block pair `pair` of a decoded weight row into acc (and accm, the minimum term).
template <const BlockLayout& L>
EL_TARGET_ZMM inline void accumulate(const ZmmPair& w, const Acts& a, int64_t pair, __m512& acc, __m512& accm) {
  const __m512i x = _mm512_load_si512(a.q + pair * 64);
  const __m512i isum = _mm512_dpbusd_epi32(_mm512_load_si512(a.init + pair * 16), w.q, x);
  acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(w.d, _mm512_load_ps(a.dx + pair * 16)), acc);
  if constexpr (L.m >= 0) accm = _mm512_fmadd_ps(w.m, _mm512_load_ps(a.xs + pair * 16), accm);
}

// T tokens over rows [row_begin, row_end): per row, two independent accumulator chains per token (even and
// odd block pairs) keep the FMA latency hidden; the minimum term has chains of its own.
// Row r for T tokens. Two accumulator chains per token (even and odd block pairs) hide the FMA latency; the
// minimum term has chains of its own. One row at a time: interleaving 2 or 4 rows (to share activation loads)
// measured 1.5-2.5x slower on matrices streamed from memory, where the prefetchers prefer a single stream.
template <const BlockLayout& L, int T>
EL_TARGET_ZMM inline void row_zmm(const GemvTask& task, int64_t r, const ZmmConsts& c, const Acts* acts) {
  const int64_t blocks = task.cols / 32, pairs = blocks / 2;
  const uint8_t* w = task.w + static_cast<size_t>(r) * task.w_stride;
  __m512 acc[T][2], accm[T][2];
  for (int t = 0; t < T; ++t)
    for (int u = 0; u < 2; ++u) acc[t][u] = accm[t][u] = _mm512_setzero_ps();
  // Pairs whose 64-byte window ends inside the row take plain loads.
  const int64_t row_bytes = blocks * L.bytes;
  const int64_t wide = row_bytes < 64 ? 0 : std::min<int64_t>(pairs, (row_bytes - 64) / (2 * L.bytes) + 1);
  int64_t i = 0;
  for (; i + 2 <= wide; i += 2) {
    const ZmmPair w0 = decode_pair<L>(w + i * 2 * L.bytes, Load::kWide, c);
    const ZmmPair w1 = decode_pair<L>(w + (i + 1) * 2 * L.bytes, Load::kWide, c);
    for (int t = 0; t < T; ++t) {
      accumulate<L>(w0, acts[t], i, acc[t][0], accm[t][0]);
      accumulate<L>(w1, acts[t], i + 1, acc[t][1], accm[t][1]);
    }
  }
  for (; i < pairs; ++i) {
    const ZmmPair wp = decode_pair<L>(w + i * 2 * L.bytes, i < wide ? Load::kWide : Load::kPair, c);
    for (int t = 0; t < T; ++t) accumulate<L>(wp, acts[t], i, acc[t][i % 2], accm[t][i % 2]);
  }
  if (blocks % 2 != 0) {
    const ZmmPair wp = decode_pair<L>(w + pairs * 2 * L.bytes, Load::kSingle, c);
    for (int t = 0; t < T; ++t) accumulate<L>(wp, acts[t], pairs, acc[t][pairs % 2], accm[t][pairs % 2]);
  }
  for (int t = 0; t < T; ++t) {
    __m512 sum = _mm512_add_ps(acc[t][0], acc[t][1]);
    if constexpr (L.m >= 0) sum = _mm512_add_ps(sum, _mm512_add_ps(accm[t][0], accm[t][1]));
    task.y[t * task.y_stride + r] = _mm512_reduce_add_ps(sum);
  }
}

// T tokens over rows [row_begin, row_end).
template <const BlockLayout& L, int T>
EL_TARGET_ZMM void gemv_zmm(const GemvTask& task) {
  const ZmmConsts c = zmm_consts<L>();
  const ActOffsets o = act_offsets(task.cols);
  const size_t act_stride = 4 * o.padded;
  Acts acts[T];
  for (int t = 0; t < T; ++t) {
    const uint8_t* row = task.acts + static_cast<size_t>(t) * act_stride;
    acts[t] = {row, reinterpret_cast<const float*>(row + o.dx()), reinterpret_cast<const int32_t*>(row + o.init()),
               reinterpret_cast<const float*>(row + o.xs())};
  }
  for (int64_t r = task.row_begin; r < task.row_end; ++r) row_zmm<L, T>(task, r, c, acts);
}

template <const BlockLayout& L>
void gemv_zmm_any(const GemvTask& task) {
  switch (task.n_tokens) {
    case 1:
      return gemv_zmm<L, 1>(task);
    case 2:
      return gemv_zmm<L, 2>(task);
    default:
      return gemv_zmm<L, 3>(task);
  }
}

}  // namespace

GemvKernel zmm_kernel(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0:
      return {&gemv_zmm_any<kQ4_0>, kQ4_0.offset};
    case GgmlType::Q4_1:
      return {&gemv_zmm_any<kQ4_1>, kQ4_1.offset};
    case GgmlType::Q5_0:
      return {&gemv_zmm_any<kQ5_0>, kQ5_0.offset};
    case GgmlType::Q5_1:
      return {&gemv_zmm_any<kQ5_1>, kQ5_1.offset};
    case GgmlType::Q8_0:
      return {&gemv_zmm_any<kQ8_0>, kQ8_0.offset};
    default:
      return {};
  }
}

}  // namespace edgellm::gemv_detail

namespace edgellm {

GemvKernel x86_gemv_kernel(GgmlType weight_type, GemvIsa isa) {
  // cpu_features(), not __builtin_cpu_supports: clang 14 (the fuzz and sanitizer builds) knows neither "f16c"
  // nor "avxvnni" there.
  const CpuFeatures& cpu = cpu_features();
  const bool avx2 = cpu.avx2 && cpu.fma && cpu.f16c;
  switch (isa) {
    case GemvIsa::kAvx512Vnni:
      if (cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq && cpu.avx512vnni && cpu.avx512vbmi && cpu.gfni)
        return gemv_detail::zmm_kernel(weight_type);
      return {};
    case GemvIsa::kAvxVnni:
      return avx2 && cpu.avxvnni ? gemv_detail::ymm_vnni_kernel(weight_type) : GemvKernel{};
    case GemvIsa::kAvx2:
      return avx2 ? gemv_detail::ymm_avx2_kernel(weight_type) : GemvKernel{};
  }
  return {};
}

}  // namespace edgellm

#else  // not x86-64: no kernels here; the Highway vec_dots serve decode

namespace edgellm {
GemvKernel x86_gemv_kernel(GgmlType, GemvIsa) { return {}; }
}  // namespace edgellm

#endif

namespace edgellm {

GemvKernel x86_gemv_best(GgmlType weight_type) {
  for (GemvIsa isa : {GemvIsa::kAvx512Vnni, GemvIsa::kAvxVnni, GemvIsa::kAvx2}) {
    const GemvKernel k = x86_gemv_kernel(weight_type, isa);
    if (k.fn != nullptr) return k;
  }
  return {};
}

}  // namespace edgellm
