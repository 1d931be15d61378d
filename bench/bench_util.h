// Inputs shared by the kernel benchmarks: weight matrices of a given type and shape, and random activations.
#pragma once

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

}  // namespace edgellm::bench
