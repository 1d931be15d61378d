// The one matmul entry point every model uses: y = x · Wᵀ for a weight matrix in its stored type.
// A Linear is prepared once when a model loads (it picks the kernel for the weight type and this CPU);
// later issues plug SIMD and table-lookup kernels in here without touching the models.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/aligned_buffer.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "kernels/ggml_type.h"

namespace edgellm {

struct TypeTraits;
struct LutPacked;
struct GemmTask;
struct GemvTask;
struct RepackedWeight;
class WeightArena;

// A read-only view of a 2-D weight: `rows` output features, each of `cols` input elements,
// rows stored contiguously (`row_stride` bytes apart) in `type`. Usually points into the mmapped GGUF.
struct WeightView {
  GgmlType type = GgmlType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  size_t row_stride = 0;
};

// Scratch memory for matmuls, owned by a session and reused across calls (no allocation per call
// once it has grown to the largest size needed).
struct MatmulScratch {
  AlignedBuffer quantized_x;  // activations converted to the weight's vec_dot_type
};

class Linear {
 public:
  Linear() = default;
  // Validates the view (known type, cols a multiple of its block size, non-null data) and picks the kernel.
  // A row-interleaved copy of the weights takes its memory from `arena` when given (a model's matrices in load
  // order on huge pages, core/weight_arena.h); the copy shares ownership of it.
  static Result<Linear> prepare(const WeightView& w, WeightArena* arena = nullptr);

  const WeightView& weight() const { return w_; }
  int64_t in_features() const { return w_.cols; }
  int64_t out_features() const { return w_.rows; }

  // y[t, r] = sum_c x[t, c] * W[r, c] for t < n_tokens.
  // x: n_tokens × cols floats (row stride cols); y: n_tokens × rows floats (row stride rows).
  // Work is split over the pool's threads; `scratch` grows if needed (not thread-safe across sessions).
  void forward(const float* x, int64_t n_tokens, float* y, ThreadPool& pool, MatmulScratch& scratch) const;

  // Bytes of scratch forward() needs for n_tokens on a pool of n_threads (so a session can size its buffer
  // up front).
  size_t scratch_bytes(int64_t n_tokens, int n_threads = 1) const;

  // Several Linears over the same input (a layer's Q/K/V projections, or its FFN gate and up): ys[i] = x · Wᵢᵀ,
  // bit for bit what lins[i]->forward(x, n_tokens, ys[i], pool, scratch) computes. When every one of them
  // decodes over row-interleaved tiles at this n_tokens, x is quantized and expanded once per distinct activation
  // layout and all their tiles run as ONE pool job balanced over the threads, instead of a fork/join (and a
  // re-quantization) per matrix; otherwise they run one after another. All lins have the same in_features;
  // lins and ys have the same length; scratch grows if needed (size it with group_scratch_bytes).
  static void forward_group(std::span<const Linear* const> lins, const float* x, int64_t n_tokens,
                            std::span<float* const> ys, ThreadPool& pool, MatmulScratch& scratch);
  // Scratch bytes forward_group needs for any 1..n_tokens tokens on n_threads.
  static size_t group_scratch_bytes(std::span<const Linear* const> lins, int64_t n_tokens, int n_threads = 1);

 private:
  friend struct GroupPlan;  // forward_group's per-member plan (matmul_group.cc)

  // forward() for n_tokens >= 4 with a GEMM kernel: xq holds the Q8_0 rows (x_row bytes apart) at the
  // start of scratch; the expanded rows go after them.
  void forward_gemm(const uint8_t* xq, size_t x_row, int64_t n_tokens, float* y, ThreadPool& pool,
                    MatmulScratch& scratch) const;

  // forward() for the table-lookup types from lut_tuning().gemm_min_tokens tokens on (kernels/lut_tune.h):
  // activations to int8 rows in scratch, then the int8 GEMM over the packed tiles (kernels/lut_gemm.h).
  void forward_lut_gemm(const float* x, int64_t n_tokens, float* y, ThreadPool& pool, MatmulScratch& scratch) const;

  // forward() for 1..kGemvMaxTokens tokens with the x86 decode GEMV: xq holds the Q8_0 rows (x_row bytes
  // apart) at the start of scratch; the expanded rows go after them.
  void forward_gemv(const uint8_t* xq, size_t x_row, int64_t n_tokens, float* y, ThreadPool& pool,
                    MatmulScratch& scratch) const;

  // forward() over the row-interleaved copy (kernels/repack.h): xq holds the quantized rows (x_row bytes
  // apart) at the start of scratch. Decode kernel for up to its max_tokens tokens at a time, or the GEMM over
  // unpacked tiles for n_tokens >= kGemmMinTokens when the type has one.
  void forward_repacked(const uint8_t* xq, size_t x_row, int64_t n_tokens, float* y, ThreadPool& pool,
                        MatmulScratch& scratch) const;
  bool repacked_uses_gemm(int64_t n_tokens) const;
  // True when forward() takes the row-interleaved decode kernel (not the GEMM) for n_tokens tokens.
  bool repacked_decodes(int64_t n_tokens) const;
  // Items per chunk of a balanced decode split when one item (a tile, a row) is unit_bytes of weights.
  static int64_t units_per_chunk(size_t unit_bytes);

  WeightView w_;
  const TypeTraits* traits_ = nullptr;
  const TypeTraits* act_traits_ = nullptr;
  // Kernels chosen once by prepare() for this CPU: the row dot product, and the activation quantizer
  // (nullptr when activations stay F32).
  float (*vec_dot_)(int64_t n, const void* w, const void* x) = nullptr;
  void (*quantize_x_)(const float* src, void* dst, int64_t n) = nullptr;
  // Optional: one weight row against 4 activation rows (x_stride bytes apart) into out[0..3].
  void (*vec_dot4_)(int64_t n, const void* w, const void* x, size_t x_stride, float* out) = nullptr;
  // Optional: the table-lookup kernel of the elq types (kernels/lut_gemv.h) over the weights repacked once
  // into 16-row tiles; copies of this Linear share the packed weights.
  std::shared_ptr<const LutPacked> lut_;
  void (*lut_gemv_)(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const void* x, size_t x_stride,
                    int64_t n_tokens, float* y, int64_t y_stride) = nullptr;
  // Optional, with lut_: the int8 GEMM over the packed tiles for prompts (kernels/lut_gemm.h).
  void (*lut_gemm_)(const LutPacked& w, int64_t tile_begin, int64_t tile_end, const uint8_t* acts, int64_t n_tokens,
                    float* y, int64_t y_stride) = nullptr;
  // Optional: the int8 GEMM for prompts (kernels/simd_gemm.h), used when n_tokens >= 4.
  void (*gemm_)(const GemmTask& task) = nullptr;
  // Optional: the x86 int8 decode GEMV (kernels/x86_gemv.h) for 1..3 tokens, and the weight offset its
  // expanded activation rows carry.
  void (*gemv_)(const GemvTask& task) = nullptr;
  int32_t gemv_offset_ = 0;
  // Optional: the weights copied once into row-interleaved tiles (kernels/repack.h); when set, forward()
  // reads only this copy (the source pages were released). Copies of this Linear share it.
  std::shared_ptr<const RepackedWeight> repacked_;
};

// Reads row `r` of a weight matrix as floats (embedding lookup): dst has w.cols floats.
void dequantize_row(const WeightView& w, int64_t r, float* dst);

}  // namespace edgellm
