// Row-interleaved Q2_K and Q3_K tiles (kernels/repack_lowk.h): layout, packer, unpacker, activation expansion in plain
// C++, and the registry entry of the family. The decode kernels are per instruction set
// (repack_lowk_avx512.cc, repack_lowk_avx2.cc).
#include "kernels/repack_lowk.h"

#include <cstddef>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/kquant_util.h"
#include "kernels/repack_impl.h"

namespace edgellm {
namespace lowk {
namespace {

// The level crumbs of one tile super-block and the GGUF qs of its rows. Tile byte 4r + c of vector L_{i,s} holds in
// crumb k column 64i + 16k + 4s + c (repack_lowk.h); GGUF qs[32h + 16m + 4s + c] holds in crumb j column
// 128h + 32j + 16m + 4s + c (element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l]), i.e. i = 2h + j/2 and
// k = 2(j%2) + m. So with A = L_{2h,s} and B = L_{2h+1,s}, qs byte (m) = crumbs (A_m, A_{2+m}, B_m, B_{2+m}): a
// per-byte bit shuffle that runs on 64-bit words over all 16 rows at once, leaving only 4-byte copies per row.
// Load time and the prompt GEMM's per-call unpacking both depend on these loops.
constexpr uint64_t kCrumbs02 = 0x3333333333333333u, kNibbles = 0x0F0F0F0F0F0F0F0Fu;

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, sizeof(v)); }

// Crumbs m and 2 + m of every byte, side by side in its low nibble.
inline uint64_t crumb_pair(uint64_t v, int m) {
  const uint64_t x = (v >> (2 * m)) & kCrumbs02;
  return (x | x >> 2) & kNibbles;
}
// The inverse: a low nibble's two crumbs moved to crumbs 0 and 2.
inline uint64_t spread_pair(uint64_t nibbles) { return (nibbles | nibbles << 2) & kCrumbs02; }

// Writes the 64 GGUF qs bytes of rows [0, n_rows) (row r's at qs + r·row_stride) from the level vectors at(i, s).
template <class At>
inline void tile_to_crumbs(At at, int n_rows, uint8_t* qs, size_t row_stride) {
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 4; ++s) {
      const uint8_t* a = at(2 * h, s);
      const uint8_t* b = at(2 * h + 1, s);
      uint8_t out[2][64];
      for (int w = 0; w < 64; w += 8) {
        const uint64_t va = load64(a + w), vb = load64(b + w);
        for (int m = 0; m < 2; ++m) store64(out[m] + w, crumb_pair(va, m) | crumb_pair(vb, m) << 4);
      }
      for (int r = 0; r < n_rows; ++r)
        for (int m = 0; m < 2; ++m)
          std::memcpy(qs + static_cast<size_t>(r) * row_stride + 32 * h + 16 * m + 4 * s, out[m] + 4 * r, 4);
    }
}
// Bytes [off, off + 4) of row r (rows row_stride apart) as a word, zero past n_rows. The packers build 64-bit words from
// two of these with shifts rather than through a buffer of 4-byte stores, which would stall store forwarding.
inline uint64_t row_word32(const uint8_t* p, size_t row_stride, int r, int n_rows, size_t off) {
  uint32_t v = 0;
  if (r < n_rows) std::memcpy(&v, p + static_cast<size_t>(r) * row_stride + off, 4);
  return v;
}

// The inverse of tile_to_crumbs: fills all 16 rows of every level vector, rows n_rows..15 with zeros.
template <class At>
inline void crumbs_to_tile(const uint8_t* qs, size_t row_stride, int n_rows, At at) {
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 4; ++s) {
      uint8_t* a = at(2 * h, s);
      uint8_t* b = at(2 * h + 1, s);
      for (int q = 0; q < 8; ++q) {  // rows 2q, 2q + 1
        const size_t off = 32 * static_cast<size_t>(h) + 4 * static_cast<size_t>(s);
        const uint64_t v0 = row_word32(qs, row_stride, 2 * q, n_rows, off) |
                            row_word32(qs, row_stride, 2 * q + 1, n_rows, off) << 32;
        const uint64_t v1 = row_word32(qs, row_stride, 2 * q, n_rows, off + 16) |
                            row_word32(qs, row_stride, 2 * q + 1, n_rows, off + 16) << 32;
        store64(a + 8 * q, spread_pair(v0 & kNibbles) | spread_pair(v1 & kNibbles) << 2);
        store64(b + 8 * q, spread_pair((v0 >> 4) & kNibbles) | spread_pair((v1 >> 4) & kNibbles) << 2);
      }
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
  for (int64_t kb = 0; kb < nb; ++kb) {
    const uint8_t* blocks = src + static_cast<size_t>(kb) * sizeof(BlockQ2_K);  // row r's block at r·row_stride
    uint8_t* t = dst + static_cast<size_t>(kb) * kQ2kTileBlockBytes;
    for (int r = 0; r < n_rows; ++r) {
      const uint8_t* b = blocks + static_cast<size_t>(r) * row_stride;
      std::memcpy(t + 2 * r, b + offsetof(BlockQ2_K, d), 2);
      std::memcpy(t + 32 + 2 * r, b + offsetof(BlockQ2_K, dmin), 2);
      for (int i = 0; i < 4; ++i) std::memcpy(t + scale_offset(i) + 4 * r, b + offsetof(BlockQ2_K, scales) + 4 * i, 4);
    }
    crumbs_to_tile(blocks + offsetof(BlockQ2_K, qs), row_stride, n_rows,
                   [t](int i, int s) { return t + level_offset(i, s); });
  }
}

void q2k_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  const int64_t nb = cols / kQK_K;
  for (int64_t kb = 0; kb < nb; ++kb) {
    const uint8_t* t = tile + static_cast<size_t>(kb) * kQ2kTileBlockBytes;
    uint8_t* blocks = dst + static_cast<size_t>(kb) * sizeof(BlockQ2_K);
    for (int r = 0; r < n_rows; ++r) {
      uint8_t* b = blocks + static_cast<size_t>(r) * row_stride;
      std::memcpy(b + offsetof(BlockQ2_K, d), t + 2 * r, 2);
      std::memcpy(b + offsetof(BlockQ2_K, dmin), t + 32 + 2 * r, 2);
      for (int i = 0; i < 4; ++i) std::memcpy(b + offsetof(BlockQ2_K, scales) + 4 * i, t + scale_offset(i) + 4 * r, 4);
    }
    tile_to_crumbs([t](int i, int s) { return t + level_offset(i, s); }, n_rows, blocks + offsetof(BlockQ2_K, qs),
                   row_stride);
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

// GGUF Q3_K high bits: column 32j + l's is bit j of hmask[l]. Tile mask (i, k, s) holds in bit 4r + c the high bit of
// column 64i + 16k + 4s + c, i.e. j = 2i + k/2 and l = 16(k%2) + 4s + c. So for fixed m = k%2 and s, byte q of the 8
// masks j (= rows 2q, 2q + 1) is an 8×8 bit matrix whose transpose is the 8 hmask bytes 16m + 4s + c of those rows.
// kSpreadBits[x] has bit b of x in bit 0 of byte b: one lookup per (mask byte) instead of one per bit.
struct SpreadTable {
  uint64_t v[256];
  constexpr SpreadTable() : v() {
    for (int x = 0; x < 256; ++x)
      for (int b = 0; b < 8; ++b) v[x] |= static_cast<uint64_t>((x >> b) & 1) << (8 * b);
  }
};
constexpr SpreadTable kSpreadBits;

// Bit j of every byte of v gathered into one byte (bit b = byte b's): the transposition's inverse, one multiply.
inline uint8_t gather_bits(uint64_t v, int j) {
  return static_cast<uint8_t>((((v >> j) & 0x0101010101010101u) * 0x0102040810204080u) >> 56);
}

// Offsets inside one Q3_K tile super-block (the layout in the header).
constexpr size_t kQ3GroupBytes = 384;
inline size_t q3_group_offset(int i) { return 256 + kQ3GroupBytes * static_cast<size_t>(i); }
inline size_t q3_levels_offset(int i, int s) { return q3_group_offset(i) + 128 + 64 * static_cast<size_t>(s); }
inline size_t q3_mask_offset(int i, int k, int s) { return q3_group_offset(i) + 8 * static_cast<size_t>(4 * k + s); }

}  // namespace

size_t q3k_tile_bytes(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ3kTileBlockBytes; }


// GGUF Q3_K scale bytes (kquant_util.h): byte g < 8 holds u_g and u_{g+8} (u = sc + 32) in its low and high
// nibble, byte 8 + k the top 2 bits of u_{4i+k} at bit 2i. The tile's N_0 byte k holds the low nibbles of u_k, u_{4+k},
// N_1's of u_{8+k}, u_{12+k}, and T is GGUF bytes 8..11 as they are: so per row, three 4-byte word shuffles.
constexpr uint32_t kLow4 = 0x0F0F0F0Fu;

void q3k_pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  const int64_t nb = cols / kQK_K;
  std::memset(dst, 0, q3k_tile_bytes(cols));
  for (int64_t kb = 0; kb < nb; ++kb) {
    const uint8_t* blocks = src + static_cast<size_t>(kb) * sizeof(BlockQ3_K);
    uint8_t* t = dst + static_cast<size_t>(kb) * kQ3kTileBlockBytes;
    for (int r = 0; r < n_rows; ++r) {
      const uint8_t* b = blocks + static_cast<size_t>(r) * row_stride;
      std::memcpy(t + 2 * r, b + offsetof(BlockQ3_K, d), 2);
      uint32_t s0, s1;
      std::memcpy(&s0, b + offsetof(BlockQ3_K, scales), 4);
      std::memcpy(&s1, b + offsetof(BlockQ3_K, scales) + 4, 4);
      const uint32_t n0 = (s0 & kLow4) | (s1 & kLow4) << 4, n1 = (s0 >> 4 & kLow4) | (s1 & ~kLow4);
      std::memcpy(t + 64 + 4 * r, &n0, 4);
      std::memcpy(t + 128 + 4 * r, &n1, 4);
      std::memcpy(t + 192 + 4 * r, b + offsetof(BlockQ3_K, scales) + 8, 4);
    }
    crumbs_to_tile(blocks + offsetof(BlockQ3_K, qs), row_stride, n_rows,
                   [t](int i, int s) { return t + q3_levels_offset(i, s); });
    for (int m = 0; m < 2; ++m)
      for (int s = 0; s < 4; ++s)
        for (int q = 0; 2 * q < n_rows; ++q) {
          const size_t off = offsetof(BlockQ3_K, hmask) + 16 * static_cast<size_t>(m) + 4 * static_cast<size_t>(s);
          // hmask bytes 16m + 4s + c of rows 2q (bytes 0..3) and 2q + 1 (4..7)
          const uint64_t v = row_word32(blocks, row_stride, 2 * q, n_rows, off) |
                             row_word32(blocks, row_stride, 2 * q + 1, n_rows, off) << 32;
          for (int j = 0; j < 8; ++j) t[q3_mask_offset(j / 2, 2 * (j % 2) + m, s) + q] = gather_bits(v, j);
        }
  }
}

void q3k_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  const int64_t nb = cols / kQK_K;
  for (int64_t kb = 0; kb < nb; ++kb) {
    const uint8_t* t = tile + static_cast<size_t>(kb) * kQ3kTileBlockBytes;
    uint8_t* blocks = dst + static_cast<size_t>(kb) * sizeof(BlockQ3_K);
    for (int r = 0; r < n_rows; ++r) {
      uint8_t* b = blocks + static_cast<size_t>(r) * row_stride;
      std::memcpy(b + offsetof(BlockQ3_K, d), t + 2 * r, 2);
      uint32_t n0, n1;
      std::memcpy(&n0, t + 64 + 4 * r, 4);
      std::memcpy(&n1, t + 128 + 4 * r, 4);
      const uint32_t s0 = (n0 & kLow4) | (n1 & kLow4) << 4, s1 = (n0 >> 4 & kLow4) | (n1 & ~kLow4);
      std::memcpy(b + offsetof(BlockQ3_K, scales), &s0, 4);
      std::memcpy(b + offsetof(BlockQ3_K, scales) + 4, &s1, 4);
      std::memcpy(b + offsetof(BlockQ3_K, scales) + 8, t + 192 + 4 * r, 4);
    }
    tile_to_crumbs([t](int i, int s) { return t + q3_levels_offset(i, s); }, n_rows,
                   blocks + offsetof(BlockQ3_K, qs), row_stride);
    for (int m = 0; m < 2; ++m)
      for (int s = 0; s < 4; ++s)
        for (int q = 0; 2 * q < n_rows; ++q) {
          uint64_t v = 0;
          for (int j = 0; j < 8; ++j) v |= kSpreadBits.v[t[q3_mask_offset(j / 2, 2 * (j % 2) + m, s) + q]] << j;
          uint8_t bytes[8];
          store64(bytes, v);
          for (int h = 0; h < 2 && 2 * q + h < n_rows; ++h)
            std::memcpy(blocks + static_cast<size_t>(2 * q + h) * row_stride + offsetof(BlockQ3_K, hmask) + 16 * m + 4 * s,
                        bytes + 4 * h, 4);
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
