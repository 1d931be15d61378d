// The prediction's view of a model file: its weight tensors grouped by type and role, read from the GGUF tensor
// table (names, types, dimensions; no weight is read), and which of those types the kernel probe must measure.
#pragma once

#include <span>
#include <vector>

#include "format/gguf.h"
#include "measure/roofline.h"

namespace edgellm::cli {

// Sums `tensors` into one WeightGroup per (type, role): "output.weight" is the head; "token_embd.weight" is the
// head when the file has no output.weight (tied), else the embedding table; other tensors of two or more
// dimensions are layer matrices (act_elements = ne[0] per matrix, one input row per token); the rest (norms,
// biases, RoPE factors) kOther. Groups come in first-seen order.
std::vector<WeightGroup> weight_groups(std::span<const GgufTensorInfo> tensors);

// Fills `shape`'s groups from `groups` and makes its totals agree with them: weight_bytes their sum,
// embedding_bytes the untied table's, n_params the multiplied matrices' elements.
void set_weight_groups(std::vector<WeightGroup> groups, ModelShape* shape);

// The matmul types (layers and head) carrying at least `min_share` of the matmul bytes, most bytes first: the
// types worth a kernel probe of their own (the others are predicted at the first one's rates). Never empty when
// there is a matmul group.
std::vector<GgmlType> probe_types(const std::vector<WeightGroup>& groups, double min_share = 0.02);

}  // namespace edgellm::cli
