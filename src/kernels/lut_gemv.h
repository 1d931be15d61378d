// Table-lookup (T-MAC style) matrix-vector kernels for the elq formats (kernels/elq.h, docs/formats.md).
// Weights are repacked once, when a Linear is prepared, into tiles of 16 rows so that one byte vector holds the
// same plane byte of 16 rows: a `TableLookupBytes` (vpshufb) with one activation table per 128-bit block then
// looks up 16 rows × (vector bytes / 16) nibbles at once, and the 8 tables of an activation block are reused by
// every plane and every row of the tile while they sit in registers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/aligned_buffer.h"
#include "core/status.h"
#include "kernels/elq.h"

namespace edgellm {

constexpr int kLutTileRows = 16;

// One elq weight matrix in the kernel's layout. For tile t (rows 16t..16t+15, missing rows zero) and group G:
//   codes:  planes × (group/8) × 16 bytes — plane k, plane byte p, row r at ((k * group/8) + p) * 16 + r;
//   coeffs: fp16 d[16], then for zero-point formats fp16 m[16] — the rows' scales and offsets, as stored in the
//           blocks (docs/formats.md), so the packed copy reads no more bytes per token than the GGUF tensor.
//           A row's value is d·(q − h) + e with h = (2^bits − 1)/2 and e = m + d·h (0 without zero point).
// lut_coeff_halves() fp16 values per tile and group.
// Move-only; immutable after lut_pack, so any number of threads may run lut_gemv on it at once.
struct LutPacked {
  const ElqFormat* format = nullptr;
  int64_t rows = 0, cols = 0, tiles = 0;
  AlignedBuffer codes;
  AlignedBuffer coeffs;
};

inline size_t lut_coeff_halves(const ElqFormat& f) { return (f.zero_point ? 2 : 1) * kLutTileRows; }

// Whether lut_pack accepts `type_id`: every elq weight type, and llama.cpp's TQ1_0/TQ2_0 (run as ternary).
bool lut_supports(uint32_t type_id);
// Repacks `rows` rows of `cols` weights (row_stride bytes apart) from `data`. Errors name the problem
// (a type lut_supports() rejects, cols not a multiple of the group/block).
Result<LutPacked> lut_pack(uint32_t type_id, int64_t rows, int64_t cols, const void* data, size_t row_stride);

// Drops the resident pages of a matrix lut_pack has copied (madvise MADV_PAGEOUT on the whole pages inside
// [data, data + bytes)), so packed and source weights are not both held in memory. The contents stay valid:
// file-backed pages fault back in from the file and anonymous pages from swap (or are left in place when the
// kernel cannot reclaim them), so later reads (an embedding row of a tied matrix) still see the same bytes.
// Best effort: returns the bytes advised, 0 where the range holds no whole page or the kernel lacks the advice.
size_t lut_release_source(const void* data, size_t bytes);

// y[t * y_stride + r] = dot(row r, token t) for rows of tiles [tile_begin, tile_end) and t < n_tokens, where
// token t's activations are BlockElqAct tables (cols / 32 blocks) at x + t * x_stride bytes. Best target of
// this CPU, resolved once.
using LutGemvFn = void (*)(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
                           int64_t n_tokens, float* y, int64_t y_stride);
// The AVX-512 VBMI + VNNI kernel when this CPU has it (kernels/lut_gemv_vbmi.cc), else the best Highway target;
// EDGELLM_LUT_VBMI=off keeps the Highway one (same-binary comparisons). Resolved once per process.
LutGemvFn lut_gemv_kernel();
// The choice lut_gemv_kernel() makes for an EDGELLM_LUT_VBMI value (nullptr when unset).
LutGemvFn lut_gemv_select(const char* vbmi_env);
// The AVX-512 VBMI + VNNI kernel (vpermb lookups, vpdpbusd sums; same results as the others up to float
// rounding order), or nullptr when this CPU or build lacks it.
LutGemvFn lut_gemv_vbmi();
// The same, dispatching on every call to the target Highway currently chooses (tests run every target), and
// the plain C++ version used on targets without 16-byte shuffles.
void lut_gemv_dispatch(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
                       int64_t n_tokens, float* y, int64_t y_stride);
void lut_gemv_portable(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
                       int64_t n_tokens, float* y, int64_t y_stride);
// Activations → BlockElqAct tables (n a multiple of 32), as elq_act_from_float: the same int8 entries and
// scales bit for bit, `sum` equal up to float summation order.
using LutActFn = void (*)(const float* src, void* dst, int64_t n);
// The AVX-512 table builder (kernels/lut_gemv_vbmi.cc), or nullptr when this CPU or build lacks AVX-512 BW.
LutActFn lut_act_avx512();
// The fastest table builder this CPU runs: lut_act_avx512() or elq_act_from_float.
LutActFn lut_act_kernel();
// The HWY_TARGET bit lut_gemv_dispatch currently runs.
int64_t lut_dispatched_target();

}  // namespace edgellm
