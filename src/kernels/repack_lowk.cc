// Row-interleaved Q2_K tiles (kernels/repack_lowk.h): layout, packer, unpacker, activation expansion in plain
// C++, and the registry entry of the family. The decode kernels are per instruction set
// (repack_lowk_avx512.cc).
#include "kernels/repack_lowk.h"

#include <cstring>

#include "kernels/blocks.h"
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

}  // namespace lowk

namespace {

RepackOps make_q2k_ops(RepackIsa isa, lowk::RepackGemvFn gemv) {
  RepackOps ops;
  ops.type = GgmlType::Q2_K;
  ops.isa = isa;
  ops.tile_bytes = &lowk::q2k_tile_bytes;
  ops.pack_tile = &lowk::q2k_pack_tile;
  ops.unpack_tile = &lowk::q2k_unpack_tile;
  ops.act_row_bytes = &lowk::q2k_act_row_bytes;
  ops.expand_acts = &lowk::q2k_expand_acts;
  ops.gemv = gemv;
  ops.max_tokens = lowk::kQ2kMaxTokens;
  return ops;
}

}  // namespace

const RepackOps* repack_lowk_ops(GgmlType type, RepackIsa isa) {
  if (type != GgmlType::Q2_K || !repack_isa_supported(isa)) return nullptr;
  if (isa == RepackIsa::kAvx512Vnni) {
    static const RepackOps ops = make_q2k_ops(isa, lowk::q2k_gemv_avx512());
    return ops.gemv != nullptr ? &ops : nullptr;
  }
  return nullptr;
}

}  // namespace edgellm
