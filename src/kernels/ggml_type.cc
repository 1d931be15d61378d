#include "kernels/ggml_type.h"

#include <cctype>
#include <string>

#include "kernels/elq.h"

namespace edgellm {
namespace {

struct TypeGeometry {
  uint32_t id;
  const char* name;
  int64_t block_size;
  uint64_t block_bytes;
};

// Every type id GGUF files in the wild use, with its block geometry (ggml's type table).
constexpr TypeGeometry kTypes[] = {
    {0, "f32", 1, 4},         {1, "f16", 1, 2},           {2, "q4_0", 32, 18},     {3, "q4_1", 32, 20},
    {6, "q5_0", 32, 22},      {7, "q5_1", 32, 24},        {8, "q8_0", 32, 34},     {9, "q8_1", 32, 36},
    {10, "q2_K", 256, 84},    {11, "q3_K", 256, 110},     {12, "q4_K", 256, 144},  {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210},   {15, "q8_K", 256, 292},     {16, "iq2_xxs", 256, 66}, {17, "iq2_xs", 256, 74},
    {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50},     {20, "iq4_nl", 32, 18},  {21, "iq3_s", 256, 110},
    {22, "iq2_s", 256, 82},   {23, "iq4_xs", 256, 136},   {24, "i8", 1, 1},        {25, "i16", 1, 2},
    {26, "i32", 1, 4},        {27, "i64", 1, 8},          {28, "f64", 1, 8},       {29, "iq1_m", 256, 56},
    {30, "bf16", 1, 2},       {34, "tq1_0", 256, 54},     {35, "tq2_0", 256, 66},  {39, "mxfp4", 32, 17},
};

const TypeGeometry* find(uint32_t id) {
  for (const auto& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

// edgellm's own types (kernels/elq.h): geometry from the elq format table, the activation block included.
struct ElqGeometryTable {
  TypeGeometry rows[kElqEndId - kElqFirstId + 1];
  ElqGeometryTable() {
    for (uint32_t id = kElqFirstId; id < kElqEndId; ++id) {
      const ElqFormat* f = elq_format(id);
      rows[id - kElqFirstId] = {id, f->name, f->group, f->block_bytes};
    }
    rows[kElqEndId - kElqFirstId] = {kElqActId, "elq_act", kElqActBlock, sizeof(BlockElqAct)};
  }
};

const TypeGeometry* find_any(uint32_t id) {
  if (const TypeGeometry* t = find(id)) return t;
  static const ElqGeometryTable elq;
  for (const auto& t : elq.rows)
    if (t.id == id) return &t;
  return nullptr;
}

}  // namespace

const char* ggml_type_name(uint32_t id) {
  const TypeGeometry* t = find_any(id);
  return t != nullptr ? t->name : nullptr;
}

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& t : kTypes) {
    std::string n = t.name;
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n == lower) return static_cast<GgmlType>(t.id);
  }
  for (uint32_t id = kElqFirstId; id < kElqEndId; ++id)
    if (lower == elq_format(id)->name) return static_cast<GgmlType>(id);
  return std::nullopt;
}

int64_t ggml_type_block_size(uint32_t id) {
  const TypeGeometry* t = find_any(id);
  return t != nullptr ? t->block_size : 0;
}

uint64_t ggml_type_block_bytes(uint32_t id) {
  const TypeGeometry* t = find_any(id);
  return t != nullptr ? t->block_bytes : 0;
}

}  // namespace edgellm
