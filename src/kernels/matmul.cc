// Linear: y = x · Wᵀ over any weight type in the traits table. Activations are converted once per call
// to the weight's vec_dot_type; output rows are split over the thread pool, and for several tokens each
// thread walks its rows in tiles so a tile of weight rows is read from memory once for all tokens.
// Decode splits (row-interleaved tiles, lookup tiles, in-place GEMV rows) are balanced: each thread streams its
// own contiguous share in chunks of kChunkBytes and then takes chunks left by a stalled thread
// (ThreadPool::parallel_for_balanced), so a late or preempted thread does not hold the whole step.
#include "kernels/matmul.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/arm_dotprod.h"
#include "kernels/elq.h"
#include "kernels/lut_gemm.h"
#include "kernels/lut_gemv.h"
#include "kernels/lut_tune.h"
#include "kernels/repack.h"
#include "kernels/simd_dot.h"
#include "kernels/simd_gemm.h"
#include "kernels/simd_kquant.h"
#include "kernels/tq.h"
#include "kernels/type_traits.h"
#include "kernels/x86_gemv.h"

namespace edgellm {
namespace {

// Rows per tile when n_tokens > 1: 16 rows of an 8192-column Q4_0 matrix are ~74 KB, which stays in L2
// while every token's activation row streams past it.
constexpr int64_t kRowTile = 16;
// Weight bytes per chunk of a balanced decode split. Measured end to end (TQ1_0 1B, 2 threads, SCHED_FIFO,
// alternating runs): 32 KB chunks decode ~7 % slower than one chunk per thread, 128 KB ~2.5 %, 256 KB within
// the noise of it; every kernel call restarts its loops and prefetch stream. 256 KB (~6 µs at one core's
// 40 GB/s) still hands the work of a thread stalled for longer (a preempted vCPU: 0.1-60 ms seen in pool
// traces) to the other, and small matrices (2048x512) stay one chunk per thread.
constexpr size_t kChunkBytes = size_t{256} << 10;
// From this many tokens on, the int8 GEMM (which repacks each weight tile per call) beats per-row dots.
constexpr int64_t kGemmMinTokens = 4;

std::string type_label(GgmlType type) {
  const char* name = ggml_type_name(static_cast<uint32_t>(type));
  return name != nullptr ? std::string(name) : "id " + std::to_string(static_cast<uint32_t>(type));
}

// A row_stride of 0 means rows are packed back to back.
size_t stride_of(const WeightView& w, const TypeTraits& t) {
  return w.row_stride != 0 ? w.row_stride : row_bytes(t, w.cols);
}

}  // namespace

int64_t Linear::units_per_chunk(size_t unit_bytes) {
  return std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / std::max<size_t>(unit_bytes, 1)));
}

Result<Linear> Linear::prepare(const WeightView& w, WeightArena* arena) {
  const TypeTraits* traits = type_traits(w.type);
  if (traits == nullptr || traits->vec_dot == nullptr)
    return Status::error("matmul: weight type " + type_label(w.type) + " is not supported for matmul");
  if (w.data == nullptr) return Status::error("matmul: weight data is null");
  if (w.rows <= 0 || w.cols <= 0)
    return Status::error("matmul: weight shape " + std::to_string(w.rows) + "x" + std::to_string(w.cols) +
                         " must be positive");
  if (w.cols % traits->block_size != 0)
    return Status::error("matmul: " + std::to_string(w.cols) + " columns is not a multiple of the " +
                         traits->name + " block size " + std::to_string(traits->block_size));
  if (w.row_stride != 0 && w.row_stride < row_bytes(*traits, w.cols))
    return Status::error("matmul: row stride " + std::to_string(w.row_stride) + " bytes is less than a " +
                         traits->name + " row of " + std::to_string(w.cols) + " elements (" +
                         std::to_string(row_bytes(*traits, w.cols)) + " bytes)");
  // Kernels read blocks and floats in place, so rows must start at the element type's alignment.
  const size_t align = traits->type_size % 4 == 0 ? 4 : 2;
  if (w.row_stride % align != 0 || reinterpret_cast<uintptr_t>(w.data) % align != 0)
    return Status::error("matmul: " + std::string(traits->name) + " weight rows must be " + std::to_string(align) +
                         "-byte aligned (row stride " + std::to_string(w.row_stride) + ")");
  const TypeTraits* act = type_traits(traits->vec_dot_type);
  if (act == nullptr || (act->type != GgmlType::F32 && act->from_float == nullptr))
    return Status::error("matmul: no activation quantizer for " + std::string(traits->name));

  Linear lin;
  lin.w_ = w;
  lin.w_.row_stride = stride_of(w, *traits);
  lin.traits_ = traits;
  lin.act_traits_ = act;
  const SimdKernels simd = simd_kernels(w.type);
  const VecDotFn kquant_dot = simd_kquant_vec_dot(w.type);
  lin.vec_dot_ = simd.vec_dot != nullptr ? simd.vec_dot : kquant_dot != nullptr ? kquant_dot : traits->vec_dot;
  // ARM CPUs with the dot-product extension: sdot kernels (kernels/arm_dotprod.h) beat Highway's widening ones.
  if (const VecDotFn sdot = arm_dotprod_vec_dot(w.type)) lin.vec_dot_ = sdot;
  lin.vec_dot4_ = simd.vec_dot4;
  if (act->type != GgmlType::F32) lin.quantize_x_ = simd.quantize_x != nullptr ? simd.quantize_x : act->from_float;
  if (act->type == GgmlType::Q8_K && simd.quantize_x == nullptr) lin.quantize_x_ = simd_kquant_quantize_q8_k();
  // The GEMM addresses rows with 32-bit offsets (scale and 5th-bit gathers).
  if ((act->type == GgmlType::Q8_0 || act->type == GgmlType::Q8_K) && lin.w_.row_stride <= (size_t{1} << 26))
    lin.gemm_ = gemm_kernel(w.type);
  if (act->type == GgmlType::Q8_0) {
    const GemvKernel gemv = x86_gemv_best(w.type);
    lin.gemv_ = gemv.fn;
    lin.gemv_offset_ = gemv.offset;
  }
  // TQ1_0/TQ2_0: the int8 row-interleaved kernel where this CPU has one (kernels/repack_ternary.h; 1.2-2.3x the
  // lookup's weights/s in bench/repack_ternary_bench), else the ternary LUT kernel, which takes elq tables
  // instead of the traits' Q8_K.
  const bool ternary = w.type == GgmlType::TQ1_0 || w.type == GgmlType::TQ2_0;
  if (lut_supports(static_cast<uint32_t>(w.type)) && !(ternary && repack_ops_best(w.type) != nullptr)) {
    if (ternary) {
      lin.act_traits_ = type_traits(kElqActId);
      lin.vec_dot_ = w.type == GgmlType::TQ1_0 ? vec_dot_tq1_0 : vec_dot_tq2_0;
      lin.gemm_ = nullptr;
    }
    EL_ASSIGN_OR_RETURN(LutPacked packed, lut_pack(static_cast<uint32_t>(w.type), w.rows, w.cols, w.data,
                                                   lin.w_.row_stride));
    lin.lut_ = std::make_shared<const LutPacked>(std::move(packed));
    lin.lut_gemv_ = lut_gemv_kernel();
    // The elq tables the lookup kernel reads, built with AVX-512 where this CPU has it (bit-exact entries).
    lin.quantize_x_ = lut_act_kernel();
    lin.lut_gemm_ = lut_gemm_kernel();
    // forward() reads only the packed copy from now on: let the source pages go rather than hold both.
    lut_release_source(w.data, static_cast<size_t>(w.rows) * lin.w_.row_stride);
  } else if (const RepackOps* ops = repack_ops_best(w.type)) {
    EL_ASSIGN_OR_RETURN(RepackedWeight packed, repack_weight(*ops, w.data, w.rows, w.cols, lin.w_.row_stride, arena));
    lin.repacked_ = std::make_shared<const RepackedWeight>(std::move(packed));
    // As for the LUT copy: forward() reads only the tiles from now on.
    lut_release_source(w.data, static_cast<size_t>(w.rows) * lin.w_.row_stride);
  }
  return lin;
}

size_t Linear::scratch_bytes(int64_t n_tokens, int n_threads) const {
  if (quantize_x_ == nullptr || n_tokens <= 0) return 0;
  const size_t quantized = static_cast<size_t>(n_tokens) * row_bytes(*act_traits_, w_.cols);
  if (repacked_ != nullptr) {
    // After the quantized rows (64-byte aligned): the GEMM's expanded rows and one unpacked tile per thread,
    // or the decode kernel's expanded rows.
    const size_t base = (quantized + 63) / 64 * 64;
    if (repacked_uses_gemm(n_tokens))
      return base + (gemm_acts_bytes(n_tokens, w_.cols) + 63) / 64 * 64 +
             static_cast<size_t>(std::max(n_threads, 1)) * ((repack_gemm_buffer_bytes(*repacked_) + 63) / 64 * 64);
    return base + static_cast<size_t>(n_tokens) * repacked_->ops->act_row_bytes(w_.cols);
  }
  // The expanded decode GEMV rows follow the quantized ones, starting 64-byte aligned.
  if (gemv_ != nullptr && n_tokens <= kGemvMaxTokens)
    return (quantized + 63) / 64 * 64 + static_cast<size_t>(n_tokens) * gemv_act_row_bytes(w_.cols);
  if (lut_gemm_ != nullptr && n_tokens >= lut_tuning().gemm_min_tokens)
    return std::max(quantized, static_cast<size_t>(n_tokens) * lut_gemm_act_row_bytes(w_.cols));
  if (gemm_ == nullptr || n_tokens < kGemmMinTokens) return quantized;
  // The expanded GEMM rows follow the quantized ones, starting 64-byte aligned.
  return (quantized + 63) / 64 * 64 + gemm_acts_bytes(n_tokens, w_.cols);
}

void Linear::forward(const float* x, int64_t n_tokens, float* y, ThreadPool& pool, MatmulScratch& scratch) const {
  if (n_tokens <= 0 || vec_dot_ == nullptr) return;
  if (lut_gemm_ != nullptr && n_tokens >= lut_tuning().gemm_min_tokens)
    return forward_lut_gemm(x, n_tokens, y, pool, scratch);
  const int64_t cols = w_.cols, rows = w_.rows;

  const void* xq = x;
  size_t x_row = static_cast<size_t>(cols) * sizeof(float);
  if (quantize_x_ != nullptr) {
    const size_t need = scratch_bytes(n_tokens, pool.size());
    if (scratch.quantized_x.size() < need) scratch.quantized_x.resize(need);
    x_row = row_bytes(*act_traits_, cols);
    uint8_t* buf = scratch.quantized_x.data();
    if (n_tokens == 1) {
      quantize_x_(x, buf, cols);
    } else {
      pool.parallel_for(n_tokens, [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) quantize_x_(x + t * cols, buf + static_cast<size_t>(t) * x_row, cols);
      });
    }
    xq = buf;
  }

  if (repacked_ != nullptr) {
    forward_repacked(static_cast<const uint8_t*>(xq), x_row, n_tokens, y, pool, scratch);
    return;
  }

  if (gemm_ != nullptr && n_tokens >= kGemmMinTokens) {
    forward_gemm(static_cast<const uint8_t*>(xq), x_row, n_tokens, y, pool, scratch);
    return;
  }

  if (gemv_ != nullptr && n_tokens <= kGemvMaxTokens) {
    forward_gemv(static_cast<const uint8_t*>(xq), x_row, n_tokens, y, pool, scratch);
    return;
  }

  if (lut_gemv_ != nullptr) {
    // Tiles of 16 rows over the threads; for several tokens, each tile serves all of them while it is in cache.
    const LutPacked& packed = *lut_;
    const auto gemv = lut_gemv_;
    const int64_t grain = units_per_chunk(kRowTile * row_bytes(*traits_, cols));
    pool.parallel_for_balanced(packed.tiles, grain, [&](int64_t b, int64_t e, int) {
      if (n_tokens == 1) return gemv(packed, b, e, xq, x_row, 1, y, rows);
      for (int64_t t = b; t < e; ++t) gemv(packed, t, t + 1, xq, x_row, n_tokens, y, rows);
    });
    return;
  }

  const uint8_t* wbase = static_cast<const uint8_t*>(w_.data);
  const uint8_t* xbase = static_cast<const uint8_t*>(xq);
  const size_t stride = w_.row_stride;
  const auto dot = vec_dot_;
  const auto dot4 = vec_dot4_;
  pool.parallel_for(rows, [&](int64_t b, int64_t e, int) {
    if (n_tokens == 1) {
      for (int64_t r = b; r < e; ++r) y[r] = dot(cols, wbase + static_cast<size_t>(r) * stride, xbase);
      return;
    }
    for (int64_t r0 = b; r0 < e; r0 += kRowTile) {
      const int64_t r1 = std::min(e, r0 + kRowTile);
      int64_t t = 0;
      if (dot4 != nullptr) {
        float out[4];
        for (; t + 4 <= n_tokens; t += 4) {
          const uint8_t* xt = xbase + static_cast<size_t>(t) * x_row;
          for (int64_t r = r0; r < r1; ++r) {
            dot4(cols, wbase + static_cast<size_t>(r) * stride, xt, x_row, out);
            for (int64_t k = 0; k < 4; ++k) y[(t + k) * rows + r] = out[k];
          }
        }
      }
      for (; t < n_tokens; ++t) {
        const uint8_t* xt = xbase + static_cast<size_t>(t) * x_row;
        float* yt = y + t * rows;
        for (int64_t r = r0; r < r1; ++r) yt[r] = dot(cols, wbase + static_cast<size_t>(r) * stride, xt);
      }
    }
  });
}

void Linear::forward_gemm(const uint8_t* xq, size_t x_row, int64_t n_tokens, float* y, ThreadPool& pool,
                          MatmulScratch& scratch) const {
  const auto expand = act_traits_->type == GgmlType::Q8_K ? gemm_acts_from_q8_k : gemm_acts_from_q8_0;
  uint8_t* acts = scratch.quantized_x.data() + (static_cast<size_t>(n_tokens) * x_row + 63) / 64 * 64;
  pool.parallel_for(n_tokens, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t)
      expand(xq + static_cast<size_t>(t) * x_row, w_.cols, t, acts);
  });
  const int64_t tiles = (w_.rows + kGemmTileRows - 1) / kGemmTileRows;
  pool.parallel_for(tiles, [&](int64_t b, int64_t e, int) {
    GemmTask task;
    task.w = static_cast<const uint8_t*>(w_.data);
    task.w_stride = w_.row_stride;
    task.rows = w_.rows;
    task.cols = w_.cols;
    task.acts = acts;
    task.n_tokens = n_tokens;
    task.y = y;
    task.row_begin = b * kGemmTileRows;
    task.row_end = std::min(w_.rows, e * kGemmTileRows);
    gemm_(task);
  });
}

void Linear::forward_lut_gemm(const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
                              MatmulScratch& scratch) const {
  const size_t act_row = lut_gemm_act_row_bytes(w_.cols);
  const size_t need = scratch_bytes(n_tokens);
  if (scratch.quantized_x.size() < need) scratch.quantized_x.resize(need);
  uint8_t* acts = scratch.quantized_x.data();
  pool.parallel_for(n_tokens, [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) lut_gemm_acts_from_float(x + t * w_.cols, w_.cols, acts + t * act_row);
  });
  const auto gemm = lut_gemm_;
  pool.parallel_for(lut_->tiles, [&](int64_t b, int64_t e, int) { gemm(*lut_, b, e, acts, n_tokens, y, w_.rows); });
}

void Linear::forward_gemv(const uint8_t* xq, size_t x_row, int64_t n_tokens, float* y, ThreadPool& pool,
                          MatmulScratch& scratch) const {
  const size_t act_row = gemv_act_row_bytes(w_.cols);
  uint8_t* acts = scratch.quantized_x.data() + (static_cast<size_t>(n_tokens) * x_row + 63) / 64 * 64;
  for (int64_t t = 0; t < n_tokens; ++t)
    gemv_expand_acts(xq + static_cast<size_t>(t) * x_row, w_.cols, gemv_offset_,
                     acts + static_cast<size_t>(t) * act_row);
  // Contiguous row ranges per thread: each thread streams one linear stretch of the weights (in chunks).
  pool.parallel_for_balanced(w_.rows, units_per_chunk(w_.row_stride), [&](int64_t b, int64_t e, int) {
    GemvTask task;
    task.w = static_cast<const uint8_t*>(w_.data);
    task.w_stride = w_.row_stride;
    task.cols = w_.cols;
    task.acts = acts;
    task.n_tokens = n_tokens;
    task.y = y;
    task.y_stride = w_.rows;
    task.row_begin = b;
    task.row_end = e;
    gemv_(task);
  });
}

bool Linear::repacked_uses_gemm(int64_t n_tokens) const {
  return gemm_ != nullptr && n_tokens >= kGemmMinTokens && n_tokens > repacked_->ops->max_tokens;
}

bool Linear::repacked_decodes(int64_t n_tokens) const {
  return repacked_ != nullptr && n_tokens >= 1 && !repacked_uses_gemm(n_tokens) &&
         !(lut_gemm_ != nullptr && n_tokens >= lut_tuning().gemm_min_tokens);
}

void Linear::forward_repacked(const uint8_t* xq, size_t x_row, int64_t n_tokens, float* y, ThreadPool& pool,
                              MatmulScratch& scratch) const {
  const RepackedWeight& w = *repacked_;
  uint8_t* after = scratch.quantized_x.data() + (static_cast<size_t>(n_tokens) * x_row + 63) / 64 * 64;
  if (repacked_uses_gemm(n_tokens)) {
    const auto expand = act_traits_->type == GgmlType::Q8_K ? gemm_acts_from_q8_k : gemm_acts_from_q8_0;
    pool.parallel_for(n_tokens, [&](int64_t b, int64_t e, int) {
      for (int64_t t = b; t < e; ++t) expand(xq + static_cast<size_t>(t) * x_row, w_.cols, t, after);
    });
    uint8_t* buffers = after + (gemm_acts_bytes(n_tokens, w_.cols) + 63) / 64 * 64;
    const size_t buffer_bytes = (repack_gemm_buffer_bytes(w) + 63) / 64 * 64;
    const auto gemm = gemm_;
    pool.parallel_for(w.tiles, [&](int64_t b, int64_t e, int thread) {
      repack_gemm(w, gemm, b, e, after, n_tokens, y,
                  buffers + static_cast<size_t>(thread) * buffer_bytes);
    });
    return;
  }
  const RepackOps& ops = *w.ops;
  const size_t act_row = ops.act_row_bytes(w_.cols);
  for (int64_t t = 0; t < n_tokens; ++t)
    ops.expand_acts(xq + static_cast<size_t>(t) * x_row, w_.cols, after + static_cast<size_t>(t) * act_row);
  // Contiguous tile ranges per thread (in chunks, balanced); up to max_tokens tokens share each pass over the
  // weights.
  pool.parallel_for_balanced(w.tiles, units_per_chunk(w.tile_bytes), [&](int64_t b, int64_t e, int) {
    for (int64_t t0 = 0; t0 < n_tokens; t0 += ops.max_tokens) {
      const int64_t n = std::min(ops.max_tokens, n_tokens - t0);
      ops.gemv(w, b, e, after + static_cast<size_t>(t0) * act_row, act_row, n, y + t0 * w_.rows, w_.rows);
    }
  });
}

void dequantize_row(const WeightView& w, int64_t r, float* dst) {
  const TypeTraits* t = type_traits(w.type);
  if (t == nullptr || t->to_float == nullptr || w.data == nullptr || r < 0 || r >= w.rows ||
      w.cols % t->block_size != 0) {
    // Callers pass views of validated tensors; anything else reads as zeros rather than out of bounds.
    std::memset(dst, 0, static_cast<size_t>(std::max<int64_t>(w.cols, 0)) * sizeof(float));
    return;
  }
  t->to_float(static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * stride_of(w, *t), dst, w.cols);
}

}  // namespace edgellm
