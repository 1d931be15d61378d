// Row-interleaved Q2_K and Q3_K tiles (kernels/repack_lowk.h): layout, packer, unpacker, activation expansion in plain
// C++, and the registry entry of the family. The decode kernels are per instruction set
// (repack_lowk_avx512.cc, repack_lowk_avx2.cc).
#include "kernels/repack_lowk.h"

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/repack_impl.h"

namespace edgellm {
namespace lowk {
namespace {

// GGUF Q2_K: element e's level is bits 2·((e%128)/32) of qs[32·(e/128) + e%32].
inline int q2_level(const BlockQ2_K& b, int e) { return (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3; }
inline void set_q2_level(BlockQ2_K& b, int e, int q) {
  b.qs[32 * (e / 128) + e % 32] = static_cast<uint8_t>(b.qs[32 * (e / 128) + e % 32] | (q << (2 * ((e % 128) / 32))));
}

// Offsets inside one tile super-block (the layout in the header).
constexpr size_t kGroupBytes = 320;
inline size_t scale_offset(int i) { return 64 + kGroupBytes * static_cast<size_t>(i); }
inline size_t level_offset(int i, int s) { return scale_offset(i) + 64 + 64 * static_cast<size_t>(s); }

}  // namespace

size_t q2k_tile_bytes(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ2kTileBlockBytes; }

void q2k_pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  const int64_t nb = cols / kQK_K;
  std::memset(dst, 0, q2k_tile_bytes(cols));
  for (int r = 0; r < n_rows; ++r) {
    const auto* row = reinterpret_cast<const BlockQ2_K*>(src + static_cast<size_t>(r) * row_stride);
    for (int64_t kb = 0; kb < nb; ++kb) {
      BlockQ2_K b;
      std::memcpy(&b, row + kb, sizeof(b));  // the source rows need not be aligned
      uint8_t* t = dst + static_cast<size_t>(kb) * kQ2kTileBlockBytes;
      std::memcpy(t + 2 * r, &b.d, 2);
      std::memcpy(t + 32 + 2 * r, &b.dmin, 2);
      for (int i = 0; i < 4; ++i) {
        for (int k = 0; k < 4; ++k) t[scale_offset(i) + 4 * r + k] = b.scales[4 * i + k];
        for (int s = 0; s < 4; ++s)
          for (int c = 0; c < 4; ++c) {
            uint8_t v = 0;
            for (int k = 0; k < 4; ++k)
              v = static_cast<uint8_t>(v | (q2_level(b, 16 * (4 * i + k) + 4 * s + c) << (2 * k)));
            t[level_offset(i, s) + 4 * r + c] = v;
          }
      }
    }
  }
}

void q2k_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  const int64_t nb = cols / kQK_K;
  for (int r = 0; r < n_rows; ++r) {
    uint8_t* row = dst + static_cast<size_t>(r) * row_stride;
    for (int64_t kb = 0; kb < nb; ++kb) {
      const uint8_t* t = tile + static_cast<size_t>(kb) * kQ2kTileBlockBytes;
      BlockQ2_K b;
      std::memset(&b, 0, sizeof(b));
      std::memcpy(&b.d, t + 2 * r, 2);
      std::memcpy(&b.dmin, t + 32 + 2 * r, 2);
      for (int i = 0; i < 4; ++i) {
        for (int k = 0; k < 4; ++k) b.scales[4 * i + k] = t[scale_offset(i) + 4 * r + k];
        for (int s = 0; s < 4; ++s)
          for (int c = 0; c < 4; ++c) {
            const uint8_t v = t[level_offset(i, s) + 4 * r + c];
            for (int k = 0; k < 4; ++k) set_q2_level(b, 16 * (4 * i + k) + 4 * s + c, (v >> (2 * k)) & 3);
          }
      }
      std::memcpy(row + static_cast<size_t>(kb) * sizeof(BlockQ2_K), &b, sizeof(b));
    }
  }
}

size_t q2k_act_row_bytes(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ2kActBlockBytes; }

void q2k_expand_acts(const void* q8k_row, int64_t cols, uint8_t* dst) {
  const auto* x = static_cast<const uint8_t*>(q8k_row);
  for (int64_t kb = 0; kb < cols / kQK_K; ++kb) {
    BlockQ8_K b;
    std::memcpy(&b, x + static_cast<size_t>(kb) * sizeof(BlockQ8_K), sizeof(b));
    uint8_t* a = dst + static_cast<size_t>(kb) * kQ2kActBlockBytes;
    std::memset(a, 0, kQ2kActBlockBytes);
    std::memcpy(a, b.qs, kQK_K);
    for (int g = 0; g < 16; ++g) {
      // bsum = 16·h + l with l = bsum mod 16 in [0, 15]; |bsum| <= 16·127, so h stays in [-127, 127].
      const int bsum = b.bsums[g];
      const int l = bsum & 15;
      const int h = (bsum - l) / 16;
      a[kQ2kActHOffset + g] = static_cast<uint8_t>(static_cast<int8_t>(h));
      a[kQ2kActLOffset + g] = static_cast<uint8_t>(l);
    }
    std::memcpy(a + kQ2kActDOffset, &b.d, sizeof(float));
  }
}

namespace {

// GGUF Q3_K: the low 2 bits of element e sit where Q2_K keeps them; the third bit is bit e/32 of hmask[e%32].
inline int q3_level(const BlockQ3_K& b, int e) {
  const int low = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
  return low | (((b.hmask[e % 32] >> (e / 32)) & 1) << 2);
}
inline void set_q3_level(BlockQ3_K& b, int e, int u) {
  b.qs[32 * (e / 128) + e % 32] =
      static_cast<uint8_t>(b.qs[32 * (e / 128) + e % 32] | ((u & 3) << (2 * ((e % 128) / 32))));
  b.hmask[e % 32] = static_cast<uint8_t>(b.hmask[e % 32] | ((u >> 2) << (e / 32)));
}

// Offsets inside one Q3_K tile super-block (the layout in the header).
constexpr size_t kQ3GroupBytes = 384;
inline size_t q3_group_offset(int i) { return 256 + kQ3GroupBytes * static_cast<size_t>(i); }

}  // namespace

size_t q3k_tile_bytes(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ3kTileBlockBytes; }

void q3k_pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  const int64_t nb = cols / kQK_K;
  std::memset(dst, 0, q3k_tile_bytes(cols));
  for (int r = 0; r < n_rows; ++r) {
    const auto* row = reinterpret_cast<const BlockQ3_K*>(src + static_cast<size_t>(r) * row_stride);
    for (int64_t kb = 0; kb < nb; ++kb) {
      BlockQ3_K b;
      std::memcpy(&b, row + kb, sizeof(b));
      uint8_t* t = dst + static_cast<size_t>(kb) * kQ3kTileBlockBytes;
      std::memcpy(t + 2 * r, &b.d, 2);
      int8_t sc[16];
      kquant::unpack_q3_scales(b.scales, sc);
      for (int g = 0; g < 16; ++g) {
        const int u = sc[g] + 32, i = g / 4, k = g % 4;
        t[64 + 64 * (i / 2) + 4 * r + k] =
            static_cast<uint8_t>(t[64 + 64 * (i / 2) + 4 * r + k] | ((u & 15) << (4 * (i % 2))));
        t[192 + 4 * r + k] = static_cast<uint8_t>(t[192 + 4 * r + k] | ((u >> 4) << (2 * i)));
      }
      for (int i = 0; i < 4; ++i) {
        uint8_t* grp = t + q3_group_offset(i);
        for (int s = 0; s < 4; ++s)
          for (int c = 0; c < 4; ++c) {
            uint8_t v = 0;
            for (int k = 0; k < 4; ++k) {
              const int u = q3_level(b, 16 * (4 * i + k) + 4 * s + c);
              v = static_cast<uint8_t>(v | ((u & 3) << (2 * k)));
              const int bit = 4 * r + c;
              grp[8 * (4 * k + s) + bit / 8] =
                  static_cast<uint8_t>(grp[8 * (4 * k + s) + bit / 8] | ((u >> 2) << (bit % 8)));
            }
            grp[128 + 64 * s + 4 * r + c] = v;
          }
      }
    }
  }
}

void q3k_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  const int64_t nb = cols / kQK_K;
  for (int r = 0; r < n_rows; ++r) {
    uint8_t* row = dst + static_cast<size_t>(r) * row_stride;
    for (int64_t kb = 0; kb < nb; ++kb) {
      const uint8_t* t = tile + static_cast<size_t>(kb) * kQ3kTileBlockBytes;
      BlockQ3_K b;
      std::memset(&b, 0, sizeof(b));
      std::memcpy(&b.d, t + 2 * r, 2);
      int8_t sc[16];
      for (int g = 0; g < 16; ++g) {
        const int i = g / 4, k = g % 4;
        const int low = (t[64 + 64 * (i / 2) + 4 * r + k] >> (4 * (i % 2))) & 15;
        const int high = (t[192 + 4 * r + k] >> (2 * i)) & 3;
        sc[g] = static_cast<int8_t>((low | (high << 4)) - 32);
      }
      kquant::pack_q3_scales(sc, b.scales);
      for (int i = 0; i < 4; ++i) {
        const uint8_t* grp = t + q3_group_offset(i);
        for (int s = 0; s < 4; ++s)
          for (int c = 0; c < 4; ++c) {
            const uint8_t v = grp[128 + 64 * s + 4 * r + c];
            const int bit = 4 * r + c;
            for (int k = 0; k < 4; ++k) {
              const int high = (grp[8 * (4 * k + s) + bit / 8] >> (bit % 8)) & 1;
              set_q3_level(b, 16 * (4 * i + k) + 4 * s + c, ((v >> (2 * k)) & 3) | (high << 2));
            }
          }
      }
      std::memcpy(row + static_cast<size_t>(kb) * sizeof(BlockQ3_K), &b, sizeof(b));
    }
  }
}

size_t q3k_act_row_bytes(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ3kActBlockBytes; }

void q3k_expand_acts(const void* q8k_row, int64_t cols, uint8_t* dst) {
  const auto* x = static_cast<const uint8_t*>(q8k_row);
  for (int64_t kb = 0; kb < cols / kQK_K; ++kb) {
    BlockQ8_K b;
    std::memcpy(&b, x + static_cast<size_t>(kb) * sizeof(BlockQ8_K), sizeof(b));
    uint8_t* a = dst + static_cast<size_t>(kb) * kQ3kActBlockBytes;
    std::memset(a, 0, kQ3kActBlockBytes);
    std::memcpy(a, b.qs, kQK_K);
    for (int g = 0; g < 16; ++g) {
      const int32_t init = -4 * kQ3kCrumbScale[g % 4] * b.bsums[g];
      std::memcpy(a + kQ3kActInitOffset + 4 * g, &init, sizeof(init));
    }
    std::memcpy(a + kQ3kActDOffset, &b.d, sizeof(float));
  }
}

}  // namespace lowk

namespace {

RepackOps make_q2k_ops(RepackIsa isa, lowk::RepackGemvFn gemv, int64_t max_tokens) {
  RepackOps ops;
  ops.type = GgmlType::Q2_K;
  ops.isa = isa;
  ops.tile_bytes = &lowk::q2k_tile_bytes;
  ops.pack_tile = &lowk::q2k_pack_tile;
  ops.unpack_tile = &lowk::q2k_unpack_tile;
  ops.act_row_bytes = &lowk::q2k_act_row_bytes;
  ops.expand_acts = &lowk::q2k_expand_acts;
  ops.gemv = gemv;
  ops.max_tokens = max_tokens;
  return ops;
}

RepackOps make_q3k_ops(RepackIsa isa, lowk::RepackGemvFn gemv, int64_t max_tokens) {
  RepackOps ops;
  ops.type = GgmlType::Q3_K;
  ops.isa = isa;
  ops.tile_bytes = &lowk::q3k_tile_bytes;
  ops.pack_tile = &lowk::q3k_pack_tile;
  ops.unpack_tile = &lowk::q3k_unpack_tile;
  ops.act_row_bytes = &lowk::q3k_act_row_bytes;
  ops.expand_acts = &lowk::q3k_expand_acts;
  ops.gemv = gemv;
  ops.max_tokens = max_tokens;
  return ops;
}

}  // namespace

const RepackOps* repack_lowk_ops(GgmlType type, RepackIsa isa) {
  if (!repack_isa_supported(isa)) return nullptr;
  const RepackOps* ops = nullptr;
  if (type == GgmlType::Q2_K) {
    static const RepackOps avx512 = make_q2k_ops(RepackIsa::kAvx512Vnni, lowk::q2k_gemv_avx512(), lowk::kQ2kMaxTokens);
    static const RepackOps avxvnni = make_q2k_ops(RepackIsa::kAvxVnni, lowk::q2k_gemv_avxvnni(), 1);
    static const RepackOps avx2 = make_q2k_ops(RepackIsa::kAvx2, lowk::q2k_gemv_avx2(), 1);
    ops = isa == RepackIsa::kAvx512Vnni ? &avx512
          : isa == RepackIsa::kAvxVnni  ? &avxvnni
          : isa == RepackIsa::kAvx2     ? &avx2
                                        : nullptr;
  } else if (type == GgmlType::Q3_K) {
    static const RepackOps avx512 = make_q3k_ops(RepackIsa::kAvx512Vnni, lowk::q3k_gemv_avx512(), lowk::kQ3kMaxTokens);
    static const RepackOps avxvnni = make_q3k_ops(RepackIsa::kAvxVnni, lowk::q3k_gemv_avxvnni(), 1);
    static const RepackOps avx2 = make_q3k_ops(RepackIsa::kAvx2, lowk::q3k_gemv_avx2(), 1);
    ops = isa == RepackIsa::kAvx512Vnni ? &avx512
          : isa == RepackIsa::kAvxVnni  ? &avxvnni
          : isa == RepackIsa::kAvx2     ? &avx2
                                        : nullptr;
  }
  return ops != nullptr && ops->gemv != nullptr ? ops : nullptr;
}

}  // namespace edgellm
