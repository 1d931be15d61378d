// edgellm low-bit weight formats ("elq", docs/formats.md): group-quantized weights of any bit width 1..8,
// group size 32/64/128, symmetric or with a zero point, and ternary {-1, 0, 1}; stored bit-plane-split so the
// table-lookup kernel (kernels/lut_gemv.h) can index its tables with 4 weight bits at a time.
// GGUF type ids start at 1024, so other tools (llama.cpp) refuse these tensors as an unknown type.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgellm {

struct TypeTraits;

// Geometry of one elq type. A block holds `group` weights: an fp16 scale d, then (zero_point) an fp16 offset
// m, then `planes` bit planes of group/8 bytes each; bit i%8 of byte i/8 of plane k is bit k of weight i.
//   symmetric:   w = d * (q - (2^bits - 1) / 2)          (a grid symmetric around 0, q = sum_k 2^k bit_k)
//   zero point:  w = d * q + m
//   ternary:     w = d * (plus_i - minus_i)                (plane 0 = "+1" mask, plane 1 = "-1" mask)
struct ElqFormat {
  uint32_t id;
  int bits;   // 1..8 (2 for ternary: its two masks)
  int group;  // 32, 64 or 128 weights per block
  bool zero_point;
  bool ternary;
  size_t block_bytes;
  const char* name;  // "elq4_g64", "elq4z_g64", "elqt_g128"
};

constexpr uint32_t kElqFirstId = 1024;
constexpr uint32_t kElqTernaryFirstId = 1072;  // one ternary id per group size
constexpr uint32_t kElqEndId = 1075;           // one past the last weight id
// Activation blocks for the table-lookup dot (vec_dot_type of every elq type): 32 activations as tables.
constexpr uint32_t kElqActId = 1088;
constexpr int kElqActBlock = 32;

// The format for an id in [kElqFirstId, kElqEndId), or nullptr.
const ElqFormat* elq_format(uint32_t id);
// Id of the b-bit format at group size g (32/64/128), symmetric or with zero point; 0 if unsupported.
uint32_t elq_type_id(int bits, int group, bool zero_point);
uint32_t elq_ternary_id(int group);
// The traits row for an elq weight id or kElqActId, or nullptr (used by type_traits()).
const TypeTraits* elq_traits(uint32_t id);

// One block of activations for the table-lookup kernels: for each run of 4 activations x[4j..4j+3] the 16
// signed sums T_j[idx] = sum_i (bit i of idx ? +x : -x)[4j+i], quantized to int8 with scale `scale` (shared by
// the 8 tables of the block; T_j[15 - idx] = -T_j[idx], so only 8 are computed). Tables are stored
// even-j first (t0 t2 t4 t6 t1 t3 t5 t7): a weight byte's low nibble indexes the first four, its high nibble
// the last four. `sum` is the exact float sum of the 32 activations (for the zero-point term).
struct BlockElqAct {
  float scale;
  float sum;
  int8_t tables[8][16];
};
static_assert(sizeof(BlockElqAct) == 136);
// Index into BlockElqAct::tables of the table for activations 4j..4j+3 (j in 0..7).
constexpr int elq_act_table_slot(int j) { return (j & 1) * 4 + j / 2; }

// Scalar references. n is a multiple of the format's group (of 32 for activations).
void elq_quantize(const ElqFormat& f, const float* src, void* dst, int64_t n);
void elq_dequantize(const ElqFormat& f, const void* src, float* dst, int64_t n);
// Dot of one elq row with float activations (the exact reference; dequantizes block by block).
float elq_vec_dot_f32(const ElqFormat& f, int64_t n, const void* w, const float* x);
// Activations → BlockElqAct tables, and back (reconstructs x from the tables, for inspection only).
void elq_act_from_float(const float* src, void* dst, int64_t n);
void elq_act_to_float(const void* src, float* dst, int64_t n);
// Dot of one elq row with table activations, by lookup: the oracle of the SIMD LUT kernels.
float elq_vec_dot_lut(const ElqFormat& f, int64_t n, const void* w, const void* x);

}  // namespace edgellm
