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

// GGUF crumbs (Q2_K levels, Q3_K low bits): element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l]. The packers go
// through arrays of one level per byte, which the compiler vectorizes (the tile bytes then take 4 levels each):
// load time and the prompt GEMM's per-call unpacking both depend on these loops.
inline void crumbs_to_levels(const uint8_t qs[64], uint8_t L[256]) {
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) L[128 * h + 32 * j + l] = static_cast<uint8_t>((qs[32 * h + l] >> (2 * j)) & 3);
}
inline void levels_to_crumbs(const uint8_t L[256], uint8_t qs[64]) {
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const uint8_t* x = L + 128 * h + l;
      qs[32 * h + l] = static_cast<uint8_t>((x[0] & 3) | (x[32] & 3) << 2 | (x[64] & 3) << 4 | (x[96] & 3) << 6);
    }
}
// Tile level bytes of one row: byte (i, s, c) of the group's 4 step vectors holds the crumbs of columns
// 64i + 16k + 4s + c, k = 0..3 (repack_lowk.h); `at(i, s)` is where vector (i, s) starts, the row's 4 bytes at +4r.
template <class At>
inline void levels_to_tile(const uint8_t L[256], int r, At at) {
  for (int i = 0; i < 4; ++i)
    for (int s = 0; s < 4; ++s) {
      const uint8_t* x = L + 64 * i + 4 * s;
      uint8_t* t = at(i, s) + 4 * r;
      for (int c = 0; c < 4; ++c)
        t[c] = static_cast<uint8_t>((x[c] & 3) | (x[16 + c] & 3) << 2 | (x[32 + c] & 3) << 4 | (x[48 + c] & 3) << 6);
    }
}
template <class At>
inline void tile_to_levels(int r, At at, uint8_t L[256]) {
  for (int i = 0; i < 4; ++i)
    for (int s = 0; s < 4; ++s) {
      uint8_t* x = L + 64 * i + 4 * s;
      const uint8_t* t = at(i, s) + 4 * r;
      for (int c = 0; c < 4; ++c)
        for (int k = 0; k < 4; ++k) x[16 * k + c] = static_cast<uint8_t>((t[c] >> (2 * k)) & 3);
    }
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
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 4; ++k) t[scale_offset(i) + 4 * r + k] = b.scales[4 * i + k];
      uint8_t L[kQK_K];
      crumbs_to_levels(b.qs, L);
      levels_to_tile(L, r, [t](int i, int s) { return t + level_offset(i, s); });
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
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 4; ++k) b.scales[4 * i + k] = t[scale_offset(i) + 4 * r + k];
      uint8_t L[kQK_K];
      tile_to_levels(
          r, [t](int i, int s) { return t + level_offset(i, s); }, L);
      levels_to_crumbs(L, b.qs);
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

// GGUF Q3_K high bits: element 32j + l's is bit j of hmask[l].
inline void hmask_to_bits(const uint8_t hmask[32], uint8_t H[256]) {
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l) H[32 * j + l] = static_cast<uint8_t>((hmask[l] >> j) & 1);
}
inline void bits_to_hmask(const uint8_t H[256], uint8_t hmask[32]) {
  for (int l = 0; l < 32; ++l) {
    uint8_t v = 0;
    for (int j = 0; j < 8; ++j) v = static_cast<uint8_t>(v | (H[32 * j + l] << j));
    hmask[l] = v;
  }
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
      uint8_t L[kQK_K], H[kQK_K];
      crumbs_to_levels(b.qs, L);
      hmask_to_bits(b.hmask, H);
      levels_to_tile(L, r, [t](int i, int s) { return t + q3_group_offset(i) + 128 + 64 * s; });
      // Step (i, k, s)'s mask: bit 4r + c is the high bit of column 64i + 16k + 4s + c, so row r owns a nibble.
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 4; ++k)
          for (int s = 0; s < 4; ++s) {
            const uint8_t* x = H + 64 * i + 16 * k + 4 * s;
            uint8_t& byte = t[q3_group_offset(i) + 8 * (4 * k + s) + r / 2];
            byte = static_cast<uint8_t>(byte | (x[0] | x[1] << 1 | x[2] << 2 | x[3] << 3) << (4 * (r % 2)));
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
      uint8_t L[kQK_K], H[kQK_K];
      tile_to_levels(
          r, [t](int i, int s) { return t + q3_group_offset(i) + 128 + 64 * s; }, L);
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 4; ++k)
          for (int s = 0; s < 4; ++s) {
            const int nibble = t[q3_group_offset(i) + 8 * (4 * k + s) + r / 2] >> (4 * (r % 2));
            uint8_t* x = H + 64 * i + 16 * k + 4 * s;
            for (int c = 0; c < 4; ++c) x[c] = static_cast<uint8_t>((nibble >> c) & 1);
          }
      levels_to_crumbs(L, b.qs);
      bits_to_hmask(H, b.hmask);
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
