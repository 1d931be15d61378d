// Traits rows for the elq types: one row per id, with function pointers bound to the format at compile time
// (the traits table holds plain function pointers, so each id gets its own thunks).
#include <array>
#include <utility>

#include "kernels/elq.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

template <uint32_t Id>
void to_float_thunk(const void* src, float* dst, int64_t n) {
  elq_dequantize(*elq_format(Id), src, dst, n);
}
template <uint32_t Id>
void from_float_thunk(const float* src, void* dst, int64_t n) {
  elq_quantize(*elq_format(Id), src, dst, n);
}
template <uint32_t Id>
float vec_dot_thunk(int64_t n, const void* w, const void* x) {
  return elq_vec_dot_lut(*elq_format(Id), n, w, x);
}

template <uint32_t Id>
TypeTraits row() {
  const ElqFormat& f = *elq_format(Id);
  return {static_cast<GgmlType>(Id),
          f.name,
          f.group,
          f.block_bytes,
          true,
          to_float_thunk<Id>,
          from_float_thunk<Id>,
          static_cast<GgmlType>(kElqActId),
          vec_dot_thunk<Id>};
}

template <size_t... I>
std::array<TypeTraits, sizeof...(I)> make_rows(std::index_sequence<I...>) {
  return {row<kElqFirstId + static_cast<uint32_t>(I)>()...};
}

const std::array<TypeTraits, kElqEndId - kElqFirstId>& rows() {
  static const auto r = make_rows(std::make_index_sequence<kElqEndId - kElqFirstId>());
  return r;
}

// The activation tables only ever appear as the second operand of an elq dot.
const TypeTraits kActRow = {static_cast<GgmlType>(kElqActId),
                            "elq_act",
                            kElqActBlock,
                            sizeof(BlockElqAct),
                            true,
                            elq_act_to_float,
                            elq_act_from_float,
                            static_cast<GgmlType>(kElqActId),
                            nullptr};

}  // namespace

const TypeTraits* elq_traits(uint32_t id) {
  if (id == kElqActId) return &kActRow;
  if (id < kElqFirstId || id >= kElqEndId) return nullptr;
  return &rows()[id - kElqFirstId];
}

}  // namespace edgellm
