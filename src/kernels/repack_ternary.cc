// The ternary repack family (kernels/repack_ternary.h): TQ2_0 and TQ1_0 tile layouts, pack/unpack (exact for
// TQ2_0, digit-exact for TQ1_0), the activation expansion from Q8_K, and the ops table. Plain C++; the decode
// kernels are in repack_ternary_avx512.cc.
#include "kernels/repack_ternary.h"

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/repack_impl.h"
#include "kernels/tq.h"

namespace edgellm {
namespace {

size_t round64(size_t n) { return (n + 63) / 64 * 64; }

// The family has x86 kernels only so far: elsewhere nothing references the layout code.
#if defined(__x86_64__)
size_t tq2_tile_bytes(int64_t cols) { return tern_tile_bytes(cols, kTq2TileBlockBytes); }
size_t tq1_tile_bytes(int64_t cols) { return tern_tile_bytes(cols, kTq1TileBlockBytes); }

// The 256 codes of a TQ2_0 block in column order (GGUF: byte m of half j holds column 128j + 32l + m in bits 2l).
void tq2_codes(const uint8_t* blk, uint8_t* codes) {
  for (int j = 0; j < 2; ++j)
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 32; ++m) codes[128 * j + 32 * l + m] = static_cast<uint8_t>((blk[32 * j + m] >> (2 * l)) & 3);
}

void tq2_pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  const int64_t nb = cols / kTqBlock;
  std::memset(dst, 0, tern_tile_bytes(cols, kTq2TileBlockBytes));
  uint8_t codes[kTqBlock];
  for (int r = 0; r < n_rows; ++r) {
    const uint8_t* row = src + static_cast<size_t>(r) * row_stride;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kTq2Bytes;
      std::memcpy(dst + tern_scales_at(b, kTq2TileBlockBytes) + 2 * r, blk + 64, 2);
      tq2_codes(blk, codes);
      uint8_t* out = dst + tern_levels_at(b, kTq2TileBlockBytes);
      for (int v = 0; v < 16; ++v)
        for (int c = 0; c < 4; ++c) {
          const uint8_t* k = codes + 4 * v + c;  // column 4·(v + 16·l) + c at k[64·l]
          out[64 * v + 4 * r + c] = static_cast<uint8_t>(k[0] | k[64] << 2 | k[128] << 4 | k[192] << 6);
        }
    }
  }
}

void tq2_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  const int64_t nb = cols / kTqBlock;
  uint8_t codes[kTqBlock];
  for (int r = 0; r < n_rows; ++r) {
    uint8_t* row = dst + static_cast<size_t>(r) * row_stride;
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* blk = row + b * kTq2Bytes;
      std::memcpy(blk + 64, tile + tern_scales_at(b, kTq2TileBlockBytes) + 2 * r, 2);
      const uint8_t* in = tile + tern_levels_at(b, kTq2TileBlockBytes);
      for (int v = 0; v < 16; ++v)
        for (int c = 0; c < 4; ++c)
          for (int l = 0; l < 4; ++l) codes[4 * (v + 16 * l) + c] = (in[64 * v + 4 * r + c] >> (2 * l)) & 3;
      for (int j = 0; j < 2; ++j)
        for (int m = 0; m < 32; ++m) {
          const uint8_t* k = codes + 128 * j + m;
          blk[32 * j + m] = static_cast<uint8_t>(k[0] | k[32] << 2 | k[64] << 4 | k[96] << 6);
        }
    }
  }
}

// TQ1_0: the first 52 bytes of each block (qs, qh) of the 16 rows interleaved in 4-byte words, then recoded
// (zero padding stays zero: byte 0 has digits 0); scales as TQ2_0.
struct Tq1ToGguf {
  uint8_t byte[256];
};
constexpr Tq1ToGguf make_tq1_to_gguf() {
  Tq1ToGguf t{};
  for (int e = 0; e < 256; ++e) t.byte[e] = tq1_gguf_byte(e);
  return t;
}
constexpr Tq1ToGguf kTq1ToGguf = make_tq1_to_gguf();

void tq1_pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  const int64_t nb = cols / kTqBlock;
  std::memset(dst, 0, tern_tile_bytes(cols, kTq1TileBlockBytes));
  for (int r = 0; r < n_rows; ++r) {
    const uint8_t* row = src + static_cast<size_t>(r) * row_stride;
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = row + b * kTq1Bytes;
      std::memcpy(dst + tern_scales_at(b, kTq1TileBlockBytes) + 2 * r, blk + 52, 2);
      uint8_t* out = dst + tern_levels_at(b, kTq1TileBlockBytes);
      for (int w = 0; w < kTq1Words; ++w) std::memcpy(out + 64 * w + 4 * r, blk + 4 * w, 4);
    }
  }
  for (int64_t b = 0; b < nb; ++b) tq1_recode_avx512(dst + tern_levels_at(b, kTq1TileBlockBytes), kTq1Words);
}

void tq1_unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  const int64_t nb = cols / kTqBlock;
  for (int r = 0; r < n_rows; ++r) {
    uint8_t* row = dst + static_cast<size_t>(r) * row_stride;
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* blk = row + b * kTq1Bytes;
      std::memcpy(blk + 52, tile + tern_scales_at(b, kTq1TileBlockBytes) + 2 * r, 2);
      const uint8_t* in = tile + tern_levels_at(b, kTq1TileBlockBytes);
      for (int i = 0; i < 4 * kTq1Words; ++i) blk[i] = kTq1ToGguf.byte[in[64 * (i / 4) + 4 * r + i % 4]];
    }
  }
}

void tq2_expand_acts(const void* vec_dot_row, int64_t cols, uint8_t* dst) {
  const int64_t nb = cols / kTqBlock;
  const auto* x = static_cast<const BlockQ8_K*>(vec_dot_row);
  for (int64_t b = 0; b < nb; ++b) {
    std::memcpy(dst + 256 * b, x[b].qs, 256);
    // The block's sum from its 16 group sums (exact, as Q8_K stores them) instead of another pass over 256 bytes.
    int32_t s = 0;
    for (int g = 0; g < kQK_K / 16; ++g) s += x[b].bsums[g];
    const int32_t negsum = -s;
    std::memcpy(dst + 256 * nb + 4 * b, &x[b].d, 4);
    std::memcpy(dst + 260 * nb + 4 * b, &negsum, 4);
  }
}

const RepackOps kTq2Avx512 = [] {
  RepackOps o;
  o.type = GgmlType::TQ2_0;
  o.isa = RepackIsa::kAvx512Vnni;
  o.tile_bytes = tq2_tile_bytes;
  o.pack_tile = tq2_pack_tile;
  o.unpack_tile = tq2_unpack_tile;
  o.act_row_bytes = tq2_act_row_bytes;
  o.expand_acts = tq2_expand_acts;
  o.gemv = tq2_gemv_avx512;
  o.max_tokens = kTq2MaxTokens;
  return o;
}();

RepackOps tq2_ymm(RepackIsa isa, decltype(RepackOps::gemv) gemv) {
  RepackOps o = kTq2Avx512;
  o.isa = isa;
  o.gemv = gemv;
  o.max_tokens = kTq2YmmMaxTokens;
  return o;
}
const RepackOps kTq2AvxVnni = tq2_ymm(RepackIsa::kAvxVnni, tq2_gemv_avxvnni);
const RepackOps kTq2Avx2 = tq2_ymm(RepackIsa::kAvx2, tq2_gemv_avx2);

const RepackOps kTq1Avx512 = [] {
  RepackOps o;
  o.type = GgmlType::TQ1_0;
  o.isa = RepackIsa::kAvx512Vnni;
  o.tile_bytes = tq1_tile_bytes;
  o.pack_tile = tq1_pack_tile;
  o.unpack_tile = tq1_unpack_tile;
  o.act_row_bytes = tq2_act_row_bytes;
  o.expand_acts = tq2_expand_acts;
  o.gemv = tq1_gemv_avx512;
  o.max_tokens = kTq2MaxTokens;
  return o;
}();
#endif

}  // namespace

size_t tq2_act_row_bytes(int64_t cols) { return round64(static_cast<size_t>(cols / kTqBlock) * 264); }

const RepackOps* repack_ternary_ops(GgmlType type, RepackIsa isa) {
#if defined(__x86_64__)
  if (type == GgmlType::TQ2_0 && isa == RepackIsa::kAvx512Vnni) return &kTq2Avx512;
  if (type == GgmlType::TQ2_0 && isa == RepackIsa::kAvxVnni) return &kTq2AvxVnni;
  if (type == GgmlType::TQ2_0 && isa == RepackIsa::kAvx2) return &kTq2Avx2;
  if (type == GgmlType::TQ1_0 && isa == RepackIsa::kAvx512Vnni) return &kTq1Avx512;
#else
  (void)type;
  (void)isa;
#endif
  return nullptr;
}

}  // namespace edgellm
