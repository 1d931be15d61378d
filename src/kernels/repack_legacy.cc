// Row-interleaved tiles for the 32-column legacy types (kernels/repack_legacy.h has the byte layout): packer,
// exact unpacker, activation expansion and the ops table. Plain C++; the kernels are in the per-ISA files.
#include "kernels/repack_legacy.h"

#include <cstring>

#include "core/fp16.h"
#include "kernels/blocks.h"
#include "kernels/repack_impl.h"

namespace edgellm {
namespace repack_legacy {
namespace {

// Byte offsets of a GGUF block's fields: d first, then m, then qh, then qs.
struct BlockFields {
  int size, m, qh, qs;
};
constexpr BlockFields fields(const Layout& l) {
  const int m = l.has_min ? 2 : -1;
  const int qh = l.hbit_bytes != 0 ? (l.has_min ? 4 : 2) : -1;
  const int qs = qh >= 0 ? qh + 4 : (l.has_min ? 4 : 2);
  return {qs + (l.level_bytes == 512 ? 32 : 16), m, qh, qs};
}

// Where group g's sections start in a tile.
struct GroupPtrs {
  size_t d, m, hbits, levels;
};
GroupPtrs group_ptrs(const Layout& l, int64_t nb, int64_t g) {
  const int64_t unit = g / 2;
  const int n = static_cast<int>(nb - 2 * unit >= 2 ? 2 : 1), j = static_cast<int>(g % 2);
  const size_t base = static_cast<size_t>(unit) * static_cast<size_t>(l.unit_bytes(2));
  const size_t after_scales = base + static_cast<size_t>(l.scale_bytes(n));
  return {base + 32 * j, base + 32 * n + 32 * j, after_scales + static_cast<size_t>(l.hbit_bytes * j),
          after_scales + static_cast<size_t>(n * l.hbit_bytes + j * l.level_bytes)};
}

uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

template <const Layout& L>
void pack_tile(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) {
  constexpr BlockFields f = fields(L);
  const int64_t nb = cols / 32;
  std::memset(dst, 0, tile_bytes(L, cols));
  for (int64_t g = 0; g < nb; ++g) {
    const GroupPtrs p = group_ptrs(L, nb, g);
    uint64_t masks[8] = {};
    for (int r = 0; r < n_rows; ++r) {
      const uint8_t* b = src + static_cast<size_t>(r) * row_stride + static_cast<size_t>(g) * f.size;
      std::memcpy(dst + p.d + 2 * r, b, 2);
      if (L.has_min) std::memcpy(dst + p.m + 2 * r, b + f.m, 2);
      if (L.hbit_bytes != 0) {
        const uint32_t qh = load32(b + f.qh);
        for (int v = 0; v < 4; ++v)
          for (int i = 0; i < 4; ++i) {
            masks[2 * v] |= static_cast<uint64_t>((qh >> (4 * v + i)) & 1) << (4 * r + i);
            masks[2 * v + 1] |= static_cast<uint64_t>((qh >> (16 + 4 * v + i)) & 1) << (4 * r + i);
          }
      }
      const int vectors = L.level_bytes / 64;
      for (int v = 0; v < vectors; ++v)
        for (int i = 0; i < 4; ++i) {
          const uint8_t q = b[f.qs + 4 * v + i];
          dst[p.levels + 64 * v + 4 * r + i] = L.level_bytes == 512 ? static_cast<uint8_t>(q ^ 0x80) : q;
        }
    }
    if (L.hbit_bytes != 0) std::memcpy(dst + p.hbits, masks, sizeof(masks));
  }
}

template <const Layout& L>
void unpack_tile(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) {
  constexpr BlockFields f = fields(L);
  const int64_t nb = cols / 32;
  for (int64_t g = 0; g < nb; ++g) {
    const GroupPtrs p = group_ptrs(L, nb, g);
    for (int r = 0; r < n_rows; ++r) {
      uint8_t* b = dst + static_cast<size_t>(r) * row_stride + static_cast<size_t>(g) * f.size;
      std::memcpy(b, tile + p.d + 2 * r, 2);
      if (L.has_min) std::memcpy(b + f.m, tile + p.m + 2 * r, 2);
      if (L.hbit_bytes != 0) {
        uint32_t qh = 0;
        for (int v = 0; v < 4; ++v) {
          const uint64_t lo = load64(tile + p.hbits + 16 * v), hi = load64(tile + p.hbits + 16 * v + 8);
          for (int i = 0; i < 4; ++i) {
            qh |= static_cast<uint32_t>((lo >> (4 * r + i)) & 1) << (4 * v + i);
            qh |= static_cast<uint32_t>((hi >> (4 * r + i)) & 1) << (16 + 4 * v + i);
          }
        }
        std::memcpy(b + f.qh, &qh, 4);
      }
      const int vectors = L.level_bytes / 64;
      for (int v = 0; v < vectors; ++v)
        for (int i = 0; i < 4; ++i) {
          const uint8_t q = tile[p.levels + 64 * v + 4 * r + i];
          b[f.qs + 4 * v + i] = L.level_bytes == 512 ? static_cast<uint8_t>(q ^ 0x80) : q;
        }
    }
  }
}

template <const Layout& L>
size_t tile_bytes_of(int64_t cols) {
  return tile_bytes(L, cols);
}

template <const Layout& L>
void expand_acts_of(const void* q8_0_row, int64_t cols, uint8_t* dst) {
  expand_acts(q8_0_row, cols, L.offset, dst);
}

}  // namespace

size_t tile_bytes(const Layout& l, int64_t cols) {
  const int64_t nb = cols / 32;
  return static_cast<size_t>(nb / 2) * static_cast<size_t>(l.unit_bytes(2)) +
         static_cast<size_t>(nb % 2) * static_cast<size_t>(l.unit_bytes(1));
}

size_t act_row_bytes(int64_t cols) { return (static_cast<size_t>(cols / 32) * kActRecord + 63) / 64 * 64; }

void expand_acts(const void* q8_0_row, int64_t cols, int32_t offset, uint8_t* dst) {
  // Runs once per token and matrix (cols up to ~16k): one pass, a 32-byte copy and a sum per block.
  const auto* b = static_cast<const BlockQ8_0*>(q8_0_row);
  const int64_t nb = cols / 32;
  for (int64_t g = 0; g < nb; ++g) {
    uint8_t* rec = dst + g * kActRecord;
    std::memcpy(rec, b[g].qs, 32);
    int32_t sum = 0;
    for (int k = 0; k < 32; ++k) sum += b[g].qs[k];
    const int32_t init = -offset * sum;
    const float dx = fp16_to_fp32(b[g].d), xs = dx * static_cast<float>(sum);
    const int32_t zero = 0;
    std::memcpy(rec + 32, &init, 4);
    std::memcpy(rec + 36, &dx, 4);
    std::memcpy(rec + 40, &xs, 4);
    std::memcpy(rec + 44, &zero, 4);
  }
  const size_t used = static_cast<size_t>(nb) * kActRecord;
  std::memset(dst + used, 0, act_row_bytes(cols) - used);
}

namespace {

template <const Layout& L>
RepackOps ops(GgmlType type, RepackIsa isa, GemvFn gemv, int64_t max_tokens) {
  RepackOps o;
  o.type = type;
  o.isa = isa;
  o.tile_bytes = &tile_bytes_of<L>;
  o.pack_tile = &pack_tile<L>;
  o.unpack_tile = &unpack_tile<L>;
  o.act_row_bytes = &act_row_bytes;
  o.expand_acts = &expand_acts_of<L>;
  o.gemv = gemv;
  o.max_tokens = max_tokens;
  return o;
}

constexpr int kTypes = 5, kIsas = 4;

// [isa][type], in the order of kIsaOrder and kTypeOrder; entries without a kernel have gemv == nullptr.
struct Table {
  RepackOps ops[kIsas][kTypes];
};
constexpr GgmlType kTypeOrder[kTypes] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                         GgmlType::Q8_0};
constexpr RepackIsa kIsaOrder[kIsas] = {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2,
                                        RepackIsa::kNeonDot};

void fill(RepackOps* row, RepackIsa isa, GemvFn (*kernel)(GgmlType), int64_t max_tokens, bool signed_q8) {
  row[0] = ops<kQ4_0>(GgmlType::Q4_0, isa, kernel(GgmlType::Q4_0), max_tokens);
  row[1] = ops<kQ4_1>(GgmlType::Q4_1, isa, kernel(GgmlType::Q4_1), max_tokens);
  row[2] = ops<kQ5_0>(GgmlType::Q5_0, isa, kernel(GgmlType::Q5_0), max_tokens);
  row[3] = ops<kQ5_1>(GgmlType::Q5_1, isa, kernel(GgmlType::Q5_1), max_tokens);
  row[4] = signed_q8 ? ops<kQ8_0Signed>(GgmlType::Q8_0, isa, kernel(GgmlType::Q8_0), max_tokens)
                     : ops<kQ8_0>(GgmlType::Q8_0, isa, kernel(GgmlType::Q8_0), max_tokens);
}

const Table& table() {
  static const Table t = [] {
    Table out;
    fill(out.ops[0], RepackIsa::kAvx512Vnni, &gemv_avx512, kMaxTokensZmm, false);
    fill(out.ops[1], RepackIsa::kAvxVnni, &gemv_avxvnni, kMaxTokensYmm, false);
    fill(out.ops[2], RepackIsa::kAvx2, &gemv_avx2, kMaxTokensYmm, true);
    // NEON keeps Q8_0 and the 5-bit levels signed (sdot is signed × signed): no offset init for them.
    fill(out.ops[3], RepackIsa::kNeonDot, &gemv_neondot, kMaxTokensNeon, true);
    out.ops[3][2] = ops<kQ5_0Signed>(GgmlType::Q5_0, RepackIsa::kNeonDot, gemv_neondot(GgmlType::Q5_0),
                                     kMaxTokensNeon);
    out.ops[3][3] = ops<kQ5_1Signed>(GgmlType::Q5_1, RepackIsa::kNeonDot, gemv_neondot(GgmlType::Q5_1),
                                     kMaxTokensNeon);
    return out;
  }();
  return t;
}

}  // namespace
}  // namespace repack_legacy

const RepackOps* repack_legacy_ops(GgmlType type, RepackIsa isa) {
  using namespace repack_legacy;
  if (!repack_isa_supported(isa)) return nullptr;
  for (int i = 0; i < kIsas; ++i)
    for (int k = 0; k < kTypes; ++k)
      if (kIsaOrder[i] == isa && kTypeOrder[k] == type && table().ops[i][k].gemv != nullptr)
        return &table().ops[i][k];
  return nullptr;
}

}  // namespace edgellm
