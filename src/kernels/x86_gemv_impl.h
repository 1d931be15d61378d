// Internal to the x86 decode GEMV (kernels/x86_gemv.h): the per-ISA kernel tables and the block layouts
// they share. Not for use outside x86_gemv*.cc.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "kernels/blocks.h"
#include "kernels/ggml_type.h"
#include "kernels/x86_gemv.h"

namespace edgellm::gemv_detail {

// Where a 32-block keeps its fields (byte offsets; -1 when absent) and the offset its unsigned values carry.
// Q8_0's int8 values become unsigned by flipping the sign bit (q + 128), hence offset 128.
struct BlockLayout {
  int bytes, d, m, qh, qs;
  int32_t offset;
  bool nibbles;  // qs holds 4-bit values (low nibbles = columns 0..15, high = 16..31) rather than 32 bytes
};
constexpr BlockLayout kQ4_0{sizeof(BlockQ4_0), 0, -1, -1, 2, 8, true};
constexpr BlockLayout kQ4_1{sizeof(BlockQ4_1), 0, 2, -1, 4, 0, true};
constexpr BlockLayout kQ5_0{sizeof(BlockQ5_0), 0, -1, 2, 6, 16, true};
constexpr BlockLayout kQ5_1{sizeof(BlockQ5_1), 0, 2, 4, 8, 0, true};
constexpr BlockLayout kQ8_0{sizeof(BlockQ8_0), 0, -1, -1, 2, 128, false};

// Byte offsets of the sections of an expanded activation row (see x86_gemv.h).
struct ActOffsets {
  size_t padded;  // P: cols rounded up to 64
  size_t dx() const { return padded; }
  size_t init() const { return 2 * padded; }
  size_t xs() const { return 3 * padded; }
};
inline ActOffsets act_offsets(int64_t cols) { return {(static_cast<size_t>(cols) + 63) / 64 * 64}; }

// Kernels per ISA ({nullptr} for types without one); the callers check the CPU.
GemvKernel zmm_kernel(GgmlType type);
GemvKernel ymm_vnni_kernel(GgmlType type);
GemvKernel ymm_avx2_kernel(GgmlType type);

}  // namespace edgellm::gemv_detail
