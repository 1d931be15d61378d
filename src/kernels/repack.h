// Load-time row-interleaved weights ("RI16") for decode: Linear::prepare copies a supported weight once into
// tiles of 16 rows whose layout puts the same 4 columns of all 16 rows next to each other, so one 64-byte
// vector of unpacked levels meets one 4-byte activation broadcast and vpdpbusd (or sdot) adds 4 products to
// every row at once: no per-row horizontal sums, no byte permutes, and a few instructions per 128 weights,
// where the in-place GGUF kernels (x86_gemv.h) need a permute and a scale gather per 64. The copy has the
// size of the source (levels stay packed at their bit width, scales stay fp16 or the type's own encoding),
// and the source pages are released after packing (lut_release_source), so resident memory stays one copy.
//
// Each family of types (the 32-column legacy types, the k-quants, ternary...) brings a RepackOps: its tile
// layout, a packer and an exact unpacker back to GGUF blocks, its activation layout and its decode kernels
// per instruction set. Prompts (many tokens) run the existing int8 GEMM (simd_gemm.h) over tiles unpacked
// back to GGUF rows one at a time in a small per-thread buffer (repack_gemm below), so a family needs no
// GEMM of its own to be complete.
//
// EDGELLM_REPACK=off in the environment disables it (Linear then reads the GGUF layout in place), for A/B
// measurements and to test both paths.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "core/weight_arena.h"
#include "kernels/ggml_type.h"

namespace edgellm {

constexpr int64_t kRepackRows = 16;  // rows per tile; a matrix's last tile is padded with zero rows

// Instruction-set variants a family may provide (tests run every one the CPU supports).
enum class RepackIsa {
  kAvx512Vnni,  // zmm vpdpbusd
  kAvxVnni,     // ymm vpdpbusd (AVX-VNNI)
  kAvx2,        // ymm vpmaddubsw + vpmaddwd
  kNeonDot,     // ARM sdot (vdotq_laneq_s32)
};

struct RepackedWeight;
struct GemmTask;

// One family's layout and kernels for one weight type and instruction set. All functions are pure and
// thread-safe; the kernels may be run on disjoint tile ranges by several threads at once.
struct RepackOps {
  GgmlType type = GgmlType::F32;
  RepackIsa isa = RepackIsa::kAvx512Vnni;
  // Bytes of one tile of `cols` columns: at most 16 × the GGUF row size plus a few percent, a multiple of 64.
  size_t (*tile_bytes)(int64_t cols) = nullptr;
  // Packs rows [0, n_rows) (n_rows 1..16; the rest of the tile are zero rows) of GGUF rows `row_stride`
  // bytes apart into dst (tile_bytes(cols) bytes, 64-byte aligned).
  void (*pack_tile)(const uint8_t* src, size_t row_stride, int n_rows, int64_t cols, uint8_t* dst) = nullptr;
  // The exact inverse: writes rows [0, n_rows) back as GGUF blocks, `row_stride` bytes apart.
  void (*unpack_tile)(const uint8_t* tile, int n_rows, int64_t cols, uint8_t* dst, size_t row_stride) = nullptr;
  // The type's decode activations: the Linear quantizes each token to the type's vec_dot_type (Q8_0 or Q8_K)
  // and expands that row once per call into act_row_bytes(cols) bytes (a multiple of 64) at dst.
  size_t (*act_row_bytes)(int64_t cols) = nullptr;
  void (*expand_acts)(const void* vec_dot_row, int64_t cols, uint8_t* dst) = nullptr;
  // y[t * y_stride + r] for the rows r of tiles [tile_begin, tile_end) (rows past w.rows are not written) and
  // t < n_tokens (1..max_tokens); token t's expanded activations are at acts + t * act_stride.
  void (*gemv)(const RepackedWeight& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts,
               size_t act_stride, int64_t n_tokens, float* y, int64_t y_stride) = nullptr;
  int64_t max_tokens = 1;  // gemv takes 1..max_tokens tokens; more go to the GEMM (or several gemv calls)
};

// A weight matrix in a family's tile layout; immutable after repack_weight. Copies share the tiles.
struct RepackedWeight {
  const RepackOps* ops = nullptr;
  int64_t rows = 0, cols = 0, tiles = 0;
  size_t tile_bytes = 0;
  SharedBytes data;  // tiles × tile_bytes, 64-byte aligned: a buffer of its own or a block of a model's arena
  const uint8_t* tile(int64_t t) const { return data.data() + static_cast<size_t>(t) * tile_bytes; }
};

// The ops of `type` for `isa`, or nullptr when the family has none or this CPU cannot run them.
const RepackOps* repack_ops(GgmlType type, RepackIsa isa);
// The fastest ops this CPU runs for `type`, or nullptr (no family, repacking disabled by EDGELLM_REPACK=off,
// or no instruction set here). Chosen once per Linear.
const RepackOps* repack_ops_best(GgmlType type);
// False when EDGELLM_REPACK=off (read once).
bool repack_enabled();

// Packs a whole matrix (rows × cols, GGUF rows row_stride bytes apart). The tiles come from `arena` when given
// (a model's matrices one after another on huge pages, core/weight_arena.h), else from a buffer of their own.
// Errors name the problem (cols not a multiple of the block, a null source, allocation failure).
Result<RepackedWeight> repack_weight(const RepackOps& ops, const void* data, int64_t rows, int64_t cols,
                                     size_t row_stride, WeightArena* arena = nullptr);

// Bytes of the per-thread buffer repack_gemm needs: one tile unpacked to GGUF rows.
size_t repack_gemm_buffer_bytes(const RepackedWeight& w);
// Prompt GEMM over tiles [tile_begin, tile_end): each tile is unpacked into `buffer` (repack_gemm_buffer_bytes,
// 64-byte aligned) and multiplied by `gemm` (simd_gemm.h's kernel for the type) against the expanded GEMM
// activations `gemm_acts` of n_tokens tokens; y[t * w.rows + r].
using RepackGemmFn = void (*)(const GemmTask& task);
void repack_gemm(const RepackedWeight& w, RepackGemmFn gemm, int64_t tile_begin, int64_t tile_end,
                 const uint8_t* gemm_acts, int64_t n_tokens, float* y, uint8_t* buffer);

}  // namespace edgellm
