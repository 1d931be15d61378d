// The traits table: one row per element type edgellm computes with. Geometry comes from the GGUF
// definitions (kernels/blocks.h); the routines are the scalar references in kernels/quants.h.
#include "kernels/type_traits.h"

#include "kernels/blocks.h"
#include "kernels/elq.h"
#include "kernels/quants.h"
#include "kernels/tq.h"

namespace edgellm {
namespace {

constexpr TypeTraits kTraits[] = {
    {GgmlType::F32, "f32", 1, sizeof(float), false, f32_to_float, f32_from_float, GgmlType::F32, vec_dot_f32},
    {GgmlType::F16, "f16", 1, sizeof(uint16_t), false, f16_to_float, f16_from_float, GgmlType::F32,
     vec_dot_f16},
    {GgmlType::BF16, "bf16", 1, sizeof(uint16_t), false, bf16_to_float, bf16_from_float, GgmlType::F32,
     vec_dot_bf16},
    {GgmlType::Q4_0, "q4_0", kQK4_0, sizeof(BlockQ4_0), true, q4_0_to_float, q4_0_from_float, GgmlType::Q8_0,
     vec_dot_q4_0},
    {GgmlType::Q4_1, "q4_1", kQK4_1, sizeof(BlockQ4_1), true, q4_1_to_float, q4_1_from_float, GgmlType::Q8_0,
     vec_dot_q4_1},
    {GgmlType::Q5_0, "q5_0", kQK5_0, sizeof(BlockQ5_0), true, q5_0_to_float, q5_0_from_float, GgmlType::Q8_0,
     vec_dot_q5_0},
    {GgmlType::Q5_1, "q5_1", kQK5_1, sizeof(BlockQ5_1), true, q5_1_to_float, q5_1_from_float, GgmlType::Q8_0,
     vec_dot_q5_1},
    {GgmlType::Q8_0, "q8_0", kQK8_0, sizeof(BlockQ8_0), true, q8_0_to_float, q8_0_from_float, GgmlType::Q8_0,
     vec_dot_q8_0},
    {GgmlType::Q2_K, "q2_K", kQK_K, sizeof(BlockQ2_K), true, q2_k_to_float, q2_k_from_float, GgmlType::Q8_K,
     vec_dot_q2_k},
    {GgmlType::Q3_K, "q3_K", kQK_K, sizeof(BlockQ3_K), true, q3_k_to_float, q3_k_from_float, GgmlType::Q8_K,
     vec_dot_q3_k},
    {GgmlType::Q4_K, "q4_K", kQK_K, sizeof(BlockQ4_K), true, q4_k_to_float, q4_k_from_float, GgmlType::Q8_K,
     vec_dot_q4_k},
    {GgmlType::Q5_K, "q5_K", kQK_K, sizeof(BlockQ5_K), true, q5_k_to_float, q5_k_from_float, GgmlType::Q8_K,
     vec_dot_q5_k},
    {GgmlType::Q6_K, "q6_K", kQK_K, sizeof(BlockQ6_K), true, q6_k_to_float, q6_k_from_float, GgmlType::Q8_K,
     vec_dot_q6_k},
    // llama.cpp's ternary types pair with Q8_K as in ggml (the int8 repack kernels); where Linear runs them on
    // the ternary LUT kernel instead, it quantizes to elq lookup tables (tq.h's vec_dot_tq*_0).
    {GgmlType::TQ1_0, "tq1_0", kTqBlock, kTq1Bytes, true, tq1_0_to_float, tq1_0_from_float, GgmlType::Q8_K,
     vec_dot_tq1_0_q8_k},
    {GgmlType::TQ2_0, "tq2_0", kTqBlock, kTq2Bytes, true, tq2_0_to_float, tq2_0_from_float, GgmlType::Q8_K,
     vec_dot_tq2_0_q8_k},
    // Q8_K only ever holds activations for the k-quants: no weight × activation dot of its own.
    {GgmlType::Q8_K, "q8_K", kQK_K, sizeof(BlockQ8_K), true, q8_k_to_float, q8_k_from_float, GgmlType::Q8_K,
     nullptr},
};

}  // namespace

const TypeTraits* type_traits(GgmlType type) {
  for (const TypeTraits& t : kTraits)
    if (t.type == type) return &t;
  return elq_traits(static_cast<uint32_t>(type));
}

const TypeTraits* type_traits(uint32_t type_id) { return type_traits(static_cast<GgmlType>(type_id)); }

}  // namespace edgellm
