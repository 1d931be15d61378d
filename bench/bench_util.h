// Inputs shared by the kernel benchmarks: weight matrices of a given type and shape, and random activations.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/type_traits.h"

namespace edgellm::bench {

struct Shape {
  int64_t rows, cols;  // out_features × in_features
};

// A rows × cols matrix of type `t`: 16 rows of N(0, 0.02) weights quantized once and repeated. Realistic block
// statistics without minutes of setup; the matrix is still full size in memory, so a GEMV reads all of it.
std::vector<uint8_t> make_weight(const TypeTraits& t, const Shape& s);

// n floats from N(0, 1), the same for every call with the same seed.
std::vector<float> random_floats(int64_t n, unsigned seed = 7);

// Bytes of weight copies a "from DRAM" kernel benchmark streams through: well past the last-level cache.
constexpr size_t kDramBytes = size_t{96} << 20;

// CPU seconds of the calling thread (the machine is shared: wall time would include other processes' turns).
double thread_cpu_seconds();

// The roofline of the DRAM benchmarks in the same run: one thread summing kDramBytes with the machine probe's
// widest-vector read (measure/probe_kernels.h read_sum — what `edgellm bench` calls the measured bandwidth),
// bytes per CPU second. Register it before the kernels: it remembers its rate for set_bytes' bw_frac.
void stream_read(benchmark::State& state);

// Sets bytes processed per iteration and, once stream_read has run, bw_frac = this benchmark's bytes per CPU second
// over stream_read's rate.
void set_bytes(benchmark::State& state, size_t bytes_per_iteration);

}  // namespace edgellm::bench
