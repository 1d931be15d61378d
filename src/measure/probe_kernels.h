// Micro-benchmark loops for the machine probe (internal to the measure layer).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgellm {

// Runs `iters` rounds of 8 independent fused multiply-adds on full vectors of the widest instruction
// set Highway picks for this CPU; returns the number of fp32 operations done (2 per lane per FMA).
// The result depends on `seed` so the compiler cannot drop the loop.
double fma_loop(int64_t iters, float seed, float* sink);

// Sums `bytes` (a multiple of 64) of memory as 64-bit words; streaming read for bandwidth.
uint64_t read_sum(const uint8_t* data, size_t bytes);

}  // namespace edgellm
