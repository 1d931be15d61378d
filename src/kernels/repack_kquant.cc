// The k-quant tile layouts of kernels/repack_kquant.h in plain C++: packing GGUF Q4_K/Q5_K/Q6_K rows into
// 16-row tiles, the exact inverse, the expanded Q8_K activations, and the family's RepackOps table. Levels
// are unpacked from and repacked into the GGUF bit fields, which have no unused bits, so the round trip is
// exact by construction (and tested).
#include "kernels/repack_kquant.h"

#include <cstring>

#include "kernels/blocks.h"
#include "kernels/repack_impl.h"

namespace edgellm {
namespace repack_kq {
namespace {

// The levels of one GGUF block in column order (Q4_K 0..15, Q5_K 0..31, Q6_K 0..63).
void levels_q4_k(const BlockQ4_K& b, uint8_t q[kQK_K]) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = b.qs[32 * c + l] & 0x0F;
      q[64 * c + 32 + l] = b.qs[32 * c + l] >> 4;
    }
}
void levels_q5_k(const BlockQ5_K& b, uint8_t q[kQK_K]) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      q[64 * c + l] = static_cast<uint8_t>((b.qs[32 * c + l] & 0x0F) | (((b.qh[l] >> (2 * c)) & 1) << 4));
      q[64 * c + 32 + l] = static_cast<uint8_t>((b.qs[32 * c + l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4));
    }
}
void levels_q6_k(const BlockQ6_K& b, uint8_t q[kQK_K]) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    uint8_t* y = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      y[l] = static_cast<uint8_t>((ql[l] & 0x0F) | ((qh[l] & 3) << 4));
      y[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4));
      y[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
      y[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
    }
  }
}

// The inverses: GGUF level fields from column-order levels.
void store_q4_k(const uint8_t q[kQK_K], BlockQ4_K& b) {
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) b.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
}
void store_q5_k(const uint8_t q[kQK_K], BlockQ5_K& b) {
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) {
      const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
      b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      b.qh[l] = static_cast<uint8_t>(b.qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
    }
}
void store_q6_k(const uint8_t q[kQK_K], BlockQ6_K& b) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* y = q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      const int l0 = y[l], l1 = y[l + 32], l2 = y[l + 64], l3 = y[l + 96];
      b.ql[64 * h + l] = static_cast<uint8_t>((l0 & 0x0F) | ((l2 & 0x0F) << 4));
      b.ql[64 * h + 32 + l] = static_cast<uint8_t>((l1 & 0x0F) | ((l3 & 0x0F) << 4));
      b.qh[32 * h + l] = static_cast<uint8_t>((l0 >> 4) | ((l1 >> 4) << 2) | ((l2 >> 4) << 4) | ((l3 >> 4) << 6));
    }
  }
}

// Block i of row r of a tile's source (rows row_stride bytes apart).
template <class Block>
const Block& src_block(const uint8_t* src, size_t row_stride, int r, int64_t i) {
  return *reinterpret_cast<const Block*>(src + static_cast<size_t>(r) * row_stride + i * sizeof(Block));
}
template <class Block>
Block& dst_block(uint8_t* dst, size_t row_stride, int r, int64_t i) {
  return *reinterpret_cast<Block*>(dst + static_cast<size_t>(r) * row_stride + i * sizeof(Block));
}

// Q4_K / Q5_K: the shared part of the record (d, dmin, scales, low nibbles) for row r with levels q.
// `sub` is the bytes per sub-block of levels (kQ4SubBlock or kQ5SubBlock).
template <class Block>
void put_q45_row(const Block& b, const uint8_t q[kQK_K], int r, size_t sub, uint8_t* rec) {
  std::memcpy(rec + 2 * r, &b.d, 2);
  std::memcpy(rec + 32 + 2 * r, &b.dmin, 2);
  for (int p = 0; p < 3; ++p) std::memcpy(rec + kScalesAt + 64 * p + 4 * r, b.scales + 4 * p, 4);
  for (int j = 0; j < 8; ++j)
    for (int s = 0; s < 4; ++s)
      for (int i = 0; i < 4; ++i) {
        const int col = 32 * j + 4 * s + i;
        rec[kQ45LevelsAt + sub * j + 64 * s + 4 * r + i] =
            static_cast<uint8_t>((q[col] & 0x0F) | ((q[col + 16] & 0x0F) << 4));
      }
}
template <class Block>
void get_q45_row(const uint8_t* rec, int r, size_t sub, Block& b, uint8_t q[kQK_K]) {
  std::memcpy(&b.d, rec + 2 * r, 2);
  std::memcpy(&b.dmin, rec + 32 + 2 * r, 2);
  for (int p = 0; p < 3; ++p) std::memcpy(b.scales + 4 * p, rec + kScalesAt + 64 * p + 4 * r, 4);
  for (int j = 0; j < 8; ++j)
    for (int s = 0; s < 4; ++s)
      for (int i = 0; i < 4; ++i) {
        const int col = 32 * j + 4 * s + i;
        const uint8_t v = rec[kQ45LevelsAt + sub * j + 64 * s + 4 * r + i];
        q[col] = v & 0x0F;
        q[col + 16] = v >> 4;
      }
}

size_t tile_bytes_q4_k(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ4Record; }
size_t tile_bytes_q5_k(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ5Record; }
size_t tile_bytes_q6_k(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ6Record; }

void pack_q4_k(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  std::memset(dst, 0, tile_bytes_q4_k(cols));
  for (int64_t i = 0; i < cols / kQK_K; ++i)
    for (int r = 0; r < n_rows; ++r) {
      const BlockQ4_K& b = src_block<BlockQ4_K>(src, row_stride, r, i);
      uint8_t q[kQK_K];
      levels_q4_k(b, q);
      put_q45_row(b, q, r, kQ4SubBlock, dst + i * kQ4Record);
    }
}
void unpack_q4_k(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  for (int64_t i = 0; i < cols / kQK_K; ++i)
    for (int r = 0; r < n_rows; ++r) {
      BlockQ4_K& b = dst_block<BlockQ4_K>(dst, row_stride, r, i);
      uint8_t q[kQK_K];
      get_q45_row(tile + i * kQ4Record, r, kQ4SubBlock, b, q);
      store_q4_k(q, b);
    }
}

void pack_q5_k(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  std::memset(dst, 0, tile_bytes_q5_k(cols));
  for (int64_t i = 0; i < cols / kQK_K; ++i)
    for (int r = 0; r < n_rows; ++r) {
      const BlockQ5_K& b = src_block<BlockQ5_K>(src, row_stride, r, i);
      uint8_t q[kQK_K];
      levels_q5_k(b, q);
      uint8_t* rec = dst + i * kQ5Record;
      put_q45_row(b, q, r, kQ5SubBlock, rec);
      for (int j = 0; j < 8; ++j)
        for (int i4 = 0; i4 < 4; ++i4) {
          uint8_t bits = 0;
          for (int s = 0; s < 8; ++s) bits = static_cast<uint8_t>(bits | ((q[32 * j + 4 * s + i4] >> 4) << s));
          rec[kQ45LevelsAt + kQ5SubBlock * j + kQ5HighIn + 4 * r + i4] = bits;
        }
    }
}
void unpack_q5_k(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  for (int64_t i = 0; i < cols / kQK_K; ++i)
    for (int r = 0; r < n_rows; ++r) {
      BlockQ5_K& b = dst_block<BlockQ5_K>(dst, row_stride, r, i);
      const uint8_t* rec = tile + i * kQ5Record;
      uint8_t q[kQK_K];
      get_q45_row(rec, r, kQ5SubBlock, b, q);
      for (int j = 0; j < 8; ++j)
        for (int i4 = 0; i4 < 4; ++i4) {
          const uint8_t bits = rec[kQ45LevelsAt + kQ5SubBlock * j + kQ5HighIn + 4 * r + i4];
          for (int s = 0; s < 8; ++s)
            q[32 * j + 4 * s + i4] = static_cast<uint8_t>(q[32 * j + 4 * s + i4] | (((bits >> s) & 1) << 4));
        }
      store_q5_k(q, b);
    }
}

void pack_q6_k(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  std::memset(dst, 0, tile_bytes_q6_k(cols));
  for (int64_t i = 0; i < cols / kQK_K; ++i)
    for (int r = 0; r < n_rows; ++r) {
      const BlockQ6_K& b = src_block<BlockQ6_K>(src, row_stride, r, i);
      uint8_t q[kQK_K];
      levels_q6_k(b, q);
      uint8_t* rec = dst + i * kQ6Record;
      std::memcpy(rec + 2 * r, &b.d, 2);
      for (int g = 0; g < 16; ++g) rec[kQ6ScalesAt + 16 * g + r] = static_cast<uint8_t>(b.scales[g]);
      for (int c = 0; c < 4; ++c)
        for (int s = 0; s < 4; ++s)
          for (int k = 0; k < 3; ++k)
            for (int i4 = 0; i4 < 4; ++i4) {
              const int top = q[64 * c + 48 + 4 * s + i4];
              rec[kQ6LevelsAt + 768 * c + 192 * s + 64 * k + 4 * r + i4] =
                  static_cast<uint8_t>(q[64 * c + 16 * k + 4 * s + i4] | (((top >> (2 * k)) & 3) << 6));
            }
    }
}
void unpack_q6_k(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  for (int64_t i = 0; i < cols / kQK_K; ++i)
    for (int r = 0; r < n_rows; ++r) {
      BlockQ6_K& b = dst_block<BlockQ6_K>(dst, row_stride, r, i);
      const uint8_t* rec = tile + i * kQ6Record;
      std::memcpy(&b.d, rec + 2 * r, 2);
      for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(rec[kQ6ScalesAt + 16 * g + r]);
      uint8_t q[kQK_K];
      for (int c = 0; c < 4; ++c)
        for (int s = 0; s < 4; ++s)
          for (int i4 = 0; i4 < 4; ++i4) {
            int top = 0;
            for (int k = 0; k < 3; ++k) {
              const uint8_t v = rec[kQ6LevelsAt + 768 * c + 192 * s + 64 * k + 4 * r + i4];
              q[64 * c + 16 * k + 4 * s + i4] = v & 0x3F;
              top |= (v >> 6) << (2 * k);
            }
            q[64 * c + 48 + 4 * s + i4] = static_cast<uint8_t>(top);
          }
      store_q6_k(q, b);
    }
}

size_t act_bytes_q45(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ45Act; }
size_t act_bytes_q6(int64_t cols) { return static_cast<size_t>(cols / kQK_K) * kQ6Act; }

void expand_q45(const void* row, int64_t cols, uint8_t* dst) {
  const auto* x = static_cast<const BlockQ8_K*>(row);
  for (int64_t i = 0; i < cols / kQK_K; ++i, dst += kQ45Act) {
    std::memcpy(dst, x[i].qs, kQK_K);
    int16_t s[8];
    for (int j = 0; j < 8; ++j) s[j] = static_cast<int16_t>(x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
    const int16_t pairs[8] = {s[0], s[2], s[1], s[3], s[4], s[6], s[5], s[7]};
    std::memcpy(dst + kActMinsAt, pairs, sizeof(pairs));
    std::memcpy(dst + kQ45ActDAt, &x[i].d, sizeof(float));
    std::memset(dst + kQ45ActDAt + 4, 0, kQ45Act - kQ45ActDAt - 4);
  }
}

void expand_q6(const void* row, int64_t cols, uint8_t* dst) {
  const auto* x = static_cast<const BlockQ8_K*>(row);
  for (int64_t i = 0; i < cols / kQK_K; ++i, dst += kQ6Act) {
    std::memcpy(dst, x[i].qs, kQK_K);
    int32_t init[16];
    for (int g = 0; g < 16; ++g) init[g] = -32 * x[i].bsums[g];
    std::memcpy(dst + kQ6ActInitAt, init, sizeof(init));
    std::memcpy(dst + kQ6ActDAt, &x[i].d, sizeof(float));
    std::memset(dst + kQ6ActDAt + 4, 0, kQ6Act - kQ6ActDAt - 4);
  }
}

// The kernels exist in x86-64 builds only; elsewhere the tables are never handed out.
using GemvFn = decltype(RepackOps::gemv);
struct Kernels {
  GemvFn q4, q5, q6;
};
#if defined(__x86_64__)
constexpr Kernels kZmm{gemv_q4_k_avx512, gemv_q5_k_avx512, gemv_q6_k_avx512};
constexpr Kernels kAvxVnni{avxvnni::gemv_q4_k, avxvnni::gemv_q5_k, avxvnni::gemv_q6_k};
constexpr Kernels kAvx2{avx2::gemv_q4_k, avx2::gemv_q5_k, avx2::gemv_q6_k};
#else
constexpr Kernels kZmm{}, kAvxVnni{}, kAvx2{};
#endif

constexpr RepackOps q4_ops(RepackIsa isa, GemvFn gemv, int64_t tokens) {
  return {GgmlType::Q4_K, isa, tile_bytes_q4_k, pack_q4_k, unpack_q4_k, act_bytes_q45, expand_q45, gemv, tokens};
}
constexpr RepackOps q5_ops(RepackIsa isa, GemvFn gemv, int64_t tokens) {
  return {GgmlType::Q5_K, isa, tile_bytes_q5_k, pack_q5_k, unpack_q5_k, act_bytes_q45, expand_q45, gemv, tokens};
}
constexpr RepackOps q6_ops(RepackIsa isa, GemvFn gemv, int64_t tokens) {
  return {GgmlType::Q6_K, isa, tile_bytes_q6_k, pack_q6_k, unpack_q6_k, act_bytes_q6, expand_q6, gemv, tokens};
}
// [isa: zmm, AVX-VNNI, AVX2][type: Q4_K, Q5_K, Q6_K]
const RepackOps kOps[3][3] = {
    {q4_ops(RepackIsa::kAvx512Vnni, kZmm.q4, kMaxTokens), q5_ops(RepackIsa::kAvx512Vnni, kZmm.q5, kMaxTokens),
     q6_ops(RepackIsa::kAvx512Vnni, kZmm.q6, kMaxTokens)},
    {q4_ops(RepackIsa::kAvxVnni, kAvxVnni.q4, kYmmMaxTokens), q5_ops(RepackIsa::kAvxVnni, kAvxVnni.q5, kYmmMaxTokens),
     q6_ops(RepackIsa::kAvxVnni, kAvxVnni.q6, kYmmMaxTokens)},
    {q4_ops(RepackIsa::kAvx2, kAvx2.q4, kYmmMaxTokens), q5_ops(RepackIsa::kAvx2, kAvx2.q5, kYmmMaxTokens),
     q6_ops(RepackIsa::kAvx2, kAvx2.q6, kYmmMaxTokens)},
};

}  // namespace
}  // namespace repack_kq

const RepackOps* repack_kquant_ops(GgmlType type, RepackIsa isa) {
  if (!repack_isa_supported(isa)) return nullptr;
  const int i = isa == RepackIsa::kAvx512Vnni ? 0 : isa == RepackIsa::kAvxVnni ? 1 : isa == RepackIsa::kAvx2 ? 2 : -1;
  const int t = type == GgmlType::Q4_K ? 0 : type == GgmlType::Q5_K ? 1 : type == GgmlType::Q6_K ? 2 : -1;
  if (i < 0 || t < 0) return nullptr;
  const RepackOps* ops = &repack_kq::kOps[i][t];
  return ops->gemv != nullptr ? ops : nullptr;
}

}  // namespace edgellm
