#include "bench_shape.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace edgellm::cli {

std::vector<WeightGroup> weight_groups(std::span<const GgufTensorInfo> tensors) {
  const bool tied =
      std::none_of(tensors.begin(), tensors.end(), [](const GgufTensorInfo& t) { return t.name == "output.weight"; });
  std::vector<WeightGroup> groups;
  for (const GgufTensorInfo& t : tensors) {
    WeightRole role = WeightRole::kOther;
    if (t.name == "output.weight" || (t.name == "token_embd.weight" && tied)) {
      role = WeightRole::kOutputHead;
    } else if (t.name == "token_embd.weight") {
      role = WeightRole::kEmbedding;
    } else if (t.dims.size() >= 2) {
      role = WeightRole::kLayer;
    }
    const bool matmul = role == WeightRole::kLayer || role == WeightRole::kOutputHead;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const WeightGroup& g) { return g.type == t.type() && g.role == role; });
    if (it == groups.end()) it = groups.insert(groups.end(), WeightGroup{t.type(), role, 0, 0, 0});
    it->bytes += static_cast<double>(t.n_bytes);
    it->params += static_cast<double>(t.n_elements);
    if (matmul && !t.dims.empty()) it->act_elements += static_cast<double>(t.dims[0]);
  }
  return groups;
}

void set_weight_groups(std::vector<WeightGroup> groups, ModelShape* shape) {
  shape->weight_bytes = shape->embedding_bytes = shape->n_params = 0;
  for (const WeightGroup& g : groups) {
    shape->weight_bytes += g.bytes;
    if (g.role == WeightRole::kEmbedding) shape->embedding_bytes += g.bytes;
    if (g.role == WeightRole::kLayer || g.role == WeightRole::kOutputHead) shape->n_params += g.params;
  }
  shape->groups = std::move(groups);
}

std::vector<GgmlType> probe_types(const std::vector<WeightGroup>& groups, double min_share) {
  std::vector<std::pair<double, GgmlType>> bytes;  // matmul bytes per type
  double total = 0;
  for (const WeightGroup& g : groups) {
    if (g.role != WeightRole::kLayer && g.role != WeightRole::kOutputHead) continue;
    total += g.bytes;
    auto it = std::find_if(bytes.begin(), bytes.end(), [&](const auto& b) { return b.second == g.type; });
    if (it == bytes.end()) {
      bytes.emplace_back(g.bytes, g.type);
    } else {
      it->first += g.bytes;
    }
  }
  std::stable_sort(bytes.begin(), bytes.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<GgmlType> types;
  for (const auto& [b, type] : bytes)
    if (types.empty() || b >= min_share * total) types.push_back(type);
  return types;
}

}  // namespace edgellm::cli
