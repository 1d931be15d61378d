// Row-interleaved repack (kernels/repack.h): the family registry, whole-matrix packing and the prompt GEMM
// over unpacked tiles.
#include "kernels/repack.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "core/cpu_features.h"
#include "kernels/lut_gemv.h"
#include "kernels/repack_impl.h"
#include "kernels/simd_gemm.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

// Matrices of at least this many bytes per thread are packed on several threads.
constexpr size_t kParallelPackBytes = size_t{4} << 20;

const RepackOps* family_ops(GgmlType type, RepackIsa isa) {
  const RepackOps* ops = nullptr;
  (void)type;
  (void)isa;
  // One line per family (kernels/repack_impl.h), e.g.  if (ops == nullptr) ops = repack_xxx_ops(type, isa);
  if (ops == nullptr) ops = repack_kquant_ops(type, isa);
  if (ops == nullptr) ops = repack_ternary_ops(type, isa);
  if (ops == nullptr) ops = repack_legacy_ops(type, isa);
  if (ops == nullptr) ops = repack_lowk_ops(type, isa);
  return ops;
}

}  // namespace

bool repack_isa_supported(RepackIsa isa) {
  const CpuFeatures& c = cpu_features();
  const bool avx2 = c.avx2 && c.fma && c.f16c;
  switch (isa) {
    case RepackIsa::kAvx512Vnni:
      return c.avx512f && c.avx512bw && c.avx512vl && c.avx512dq && c.avx512vnni && c.avx512vbmi && c.gfni;
    case RepackIsa::kAvxVnni:
      return avx2 && c.avxvnni;
    case RepackIsa::kAvx2:
      return avx2;
    case RepackIsa::kNeonDot:
      return c.neon && c.dotprod;
  }
  return false;
}

bool repack_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("EDGELLM_REPACK");
    return v == nullptr || std::strcmp(v, "off") != 0;
  }();
  return enabled;
}

const RepackOps* repack_ops(GgmlType type, RepackIsa isa) {
  if (!repack_isa_supported(isa)) return nullptr;
  return family_ops(type, isa);
}

const RepackOps* repack_ops_best(GgmlType type) {
  if (!repack_enabled()) return nullptr;
  for (RepackIsa isa : {RepackIsa::kAvx512Vnni, RepackIsa::kAvxVnni, RepackIsa::kAvx2, RepackIsa::kNeonDot})
    if (const RepackOps* ops = repack_ops(type, isa)) return ops;
  return nullptr;
}

Result<RepackedWeight> repack_weight(const RepackOps& ops, const void* data, int64_t rows, int64_t cols,
                                     size_t row_stride, WeightArena* arena) {
  const TypeTraits* t = type_traits(ops.type);
  if (t == nullptr) return Status::error("repack: unknown weight type");
  if (data == nullptr) return Status::error("repack: weight data is null");
  if (rows <= 0 || cols <= 0 || cols % t->block_size != 0)
    return Status::error("repack: " + std::to_string(rows) + "x" + std::to_string(cols) + " is not a valid " +
                         t->name + " matrix (columns must be a positive multiple of " +
                         std::to_string(t->block_size) + ")");
  if (row_stride < row_bytes(*t, cols))
    return Status::error("repack: row stride " + std::to_string(row_stride) + " is less than a " + t->name +
                         " row of " + std::to_string(cols) + " columns");
  RepackedWeight w;
  w.ops = &ops;
  w.rows = rows;
  w.cols = cols;
  w.tiles = (rows + kRepackRows - 1) / kRepackRows;
  w.tile_bytes = ops.tile_bytes(cols);
  const size_t bytes = static_cast<size_t>(w.tiles) * w.tile_bytes;
  const std::string what = std::string(t->name) + " " + std::to_string(rows) + "x" + std::to_string(cols) + " weight";
  if (arena != nullptr) {
    Result<SharedBytes> block = arena->allocate(bytes);
    if (!block) return block.status().with_context("repack: " + what);
    w.data = std::move(block).value();
  } else {
    try {
      w.data = SharedBytes::own(AlignedBuffer(bytes));
    } catch (const std::bad_alloc&) {
      return Status::error("repack: cannot allocate " + std::to_string(bytes) + " bytes for a " + what);
    }
  }
  const auto* src = static_cast<const uint8_t*>(data);
  auto pack = [&](int64_t begin, int64_t end) {
    for (int64_t tile = begin; tile < end; ++tile) {
      const int n = static_cast<int>(std::min<int64_t>(kRepackRows, rows - tile * kRepackRows));
      ops.pack_tile(src + static_cast<size_t>(tile * kRepackRows) * row_stride, row_stride, n, cols,
                    w.data.data() + static_cast<size_t>(tile) * w.tile_bytes);
    }
  };
  // Loading a model packs every matrix once; on all cores that takes a fraction of the time (the source pages
  // fault in from the page cache in parallel too). Small matrices stay on the caller's thread.
  const int64_t hw = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  const int64_t n_threads = std::min<int64_t>(hw, static_cast<int64_t>(w.data.size() / kParallelPackBytes));
  if (n_threads <= 1) {
    pack(0, w.tiles);
    return w;
  }
  std::vector<std::thread> threads;
  const int64_t per = (w.tiles + n_threads - 1) / n_threads;
  try {
    for (int64_t i = 1; i < n_threads; ++i)
      threads.emplace_back(pack, std::min(w.tiles, i * per), std::min(w.tiles, (i + 1) * per));
  } catch (const std::system_error&) {
    // No more threads to be had: the caller packs what is left.
    const int64_t started = static_cast<int64_t>(threads.size());
    pack(std::min(w.tiles, (started + 1) * per), w.tiles);
  }
  pack(0, std::min(w.tiles, per));
  for (std::thread& t : threads) t.join();
  return w;
}

size_t repack_gemm_buffer_bytes(const RepackedWeight& w) {
  return static_cast<size_t>(kRepackRows) * row_bytes(*type_traits(w.ops->type), w.cols);
}

void repack_gemm(const RepackedWeight& w, RepackGemmFn gemm, int64_t tile_begin, int64_t tile_end,
                 const uint8_t* gemm_acts, int64_t n_tokens, float* y, uint8_t* buffer) {
  const size_t stride = row_bytes(*type_traits(w.ops->type), w.cols);
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const int n = static_cast<int>(std::min<int64_t>(kRepackRows, w.rows - tile * kRepackRows));
    w.ops->unpack_tile(w.tile(tile), n, w.cols, buffer, stride);
    // The GEMM addresses y[t * rows + r] from its row_begin: point it at this tile's first row.
    GemmTask task;
    task.w = buffer;
    task.w_stride = stride;
    task.rows = w.rows;
    task.cols = w.cols;
    task.acts = gemm_acts;
    task.n_tokens = n_tokens;
    task.y = y + tile * kRepackRows;
    task.row_begin = 0;
    task.row_end = n;
    gemm(task);
  }
}

}  // namespace edgellm
