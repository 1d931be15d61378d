// bench's per-type model shape: the GGUF tensor table grouped by type and role, and which types get a probe.
#include "bench_shape.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/type_traits.h"

namespace edgellm::cli {
namespace {

// A two-layer model's tensor table as a GGUF image parsed back (the reader computes the byte counts): layers in
// TQ2_0 with one Q6_K matrix, an F32 norm, and the token table in Q4_K; `tied` leaves output.weight out.
std::vector<GgufTensorInfo> table(bool tied) {
  GgufWriter w;
  auto add = [&](const std::string& name, GgmlType type, std::vector<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    const TypeTraits* t = type_traits(type);
    const size_t bytes = static_cast<size_t>(n / dims[0]) * row_bytes(*t, dims[0]);
    ASSERT_TRUE(w.add_tensor(name, type, dims, std::vector<uint8_t>(bytes)).is_ok()) << name;
  };
  add("token_embd.weight", GgmlType::Q4_K, {256, 1000});
  for (const std::string b : {"blk.0.", "blk.1."}) {
    add(b + "attn_norm.weight", GgmlType::F32, {256});
    add(b + "attn_q.weight", GgmlType::TQ2_0, {256, 256});
    add(b + "ffn_down.weight", b == "blk.0." ? GgmlType::Q6_K : GgmlType::TQ2_0, {512, 256});
  }
  if (!tied) add("output.weight", GgmlType::Q6_K, {256, 1000});
  auto bytes = w.write_bytes();
  EXPECT_TRUE(bytes.is_ok());
  auto f = GgufFile::from_bytes(std::move(*bytes));
  EXPECT_TRUE(f.is_ok()) << f.status().message();
  return f->tensors();
}

const WeightGroup* find(const std::vector<WeightGroup>& g, GgmlType type, WeightRole role) {
  auto it = std::find_if(g.begin(), g.end(), [&](const WeightGroup& x) { return x.type == type && x.role == role; });
  return it == g.end() ? nullptr : &*it;
}

TEST(BenchShape, GroupsTensorsByTypeAndRole) {
  const std::vector<GgufTensorInfo> untied = table(false);
  const std::vector<WeightGroup> g = weight_groups(untied);
  ASSERT_EQ(g.size(), 5u);
  const WeightGroup* layers = find(g, GgmlType::TQ2_0, WeightRole::kLayer);
  ASSERT_NE(layers, nullptr);
  // Two 256x256 q matrices and one 512-column down matrix: TQ2_0 is 66 bytes per 256 weights.
  EXPECT_DOUBLE_EQ(layers->params, 2 * 256 * 256 + 512 * 256);
  EXPECT_DOUBLE_EQ(layers->bytes, (2 * 256 + 2 * 256) * 66.0);
  EXPECT_DOUBLE_EQ(layers->act_elements, 256 + 256 + 512);  // one input row per matrix
  const WeightGroup* q6_layer = find(g, GgmlType::Q6_K, WeightRole::kLayer);
  ASSERT_NE(q6_layer, nullptr);
  EXPECT_DOUBLE_EQ(q6_layer->act_elements, 512);
  const WeightGroup* head = find(g, GgmlType::Q6_K, WeightRole::kOutputHead);
  ASSERT_NE(head, nullptr);
  EXPECT_DOUBLE_EQ(head->bytes, 1000 * 210.0);  // Q6_K: 210 bytes per 256 weights
  EXPECT_DOUBLE_EQ(head->act_elements, 256);
  const WeightGroup* embd = find(g, GgmlType::Q4_K, WeightRole::kEmbedding);
  ASSERT_NE(embd, nullptr);
  EXPECT_DOUBLE_EQ(embd->act_elements, 0);  // looked up, not multiplied
  const WeightGroup* norms = find(g, GgmlType::F32, WeightRole::kOther);
  ASSERT_NE(norms, nullptr);
  EXPECT_DOUBLE_EQ(norms->bytes, 2 * 256 * 4.0);

  ModelShape s;
  set_weight_groups(g, &s);
  double file_bytes = 0;
  for (const GgufTensorInfo& t : untied) file_bytes += static_cast<double>(t.n_bytes);
  EXPECT_DOUBLE_EQ(s.weight_bytes, file_bytes);
  EXPECT_DOUBLE_EQ(s.embedding_bytes, embd->bytes);
  EXPECT_DOUBLE_EQ(s.n_params, 2 * 256 * 256 + 2 * 512 * 256 + 256 * 1000);  // the multiplied matrices
  EXPECT_EQ(s.groups.size(), 5u);
}

TEST(BenchShape, TiedTokenTableIsTheHead) {
  const std::vector<WeightGroup> g = weight_groups(table(true));
  EXPECT_EQ(find(g, GgmlType::Q4_K, WeightRole::kEmbedding), nullptr);
  const WeightGroup* head = find(g, GgmlType::Q4_K, WeightRole::kOutputHead);
  ASSERT_NE(head, nullptr);
  EXPECT_DOUBLE_EQ(head->params, 256 * 1000);
  ModelShape s;
  set_weight_groups(g, &s);
  EXPECT_EQ(s.embedding_bytes, 0);
}

TEST(BenchShape, ProbesTheTypesThatCarryTheBytes) {
  std::vector<WeightGroup> g = {{GgmlType::TQ2_0, WeightRole::kLayer, 700, 0, 0},
                                {GgmlType::Q6_K, WeightRole::kOutputHead, 250, 0, 0},
                                {GgmlType::Q4_K, WeightRole::kEmbedding, 5000, 0, 0},  // never multiplied
                                {GgmlType::Q8_0, WeightRole::kLayer, 15, 0, 0},       // 1.5 %: not probed
                                {GgmlType::Q6_K, WeightRole::kLayer, 35, 0, 0}};
  EXPECT_EQ(probe_types(g), (std::vector<GgmlType>{GgmlType::TQ2_0, GgmlType::Q6_K}));
  EXPECT_EQ(probe_types(g, 0.01), (std::vector<GgmlType>{GgmlType::TQ2_0, GgmlType::Q6_K, GgmlType::Q8_0}));
  // Whatever the threshold, the type with the most bytes is probed.
  EXPECT_EQ(probe_types(g, 2.0), std::vector<GgmlType>{GgmlType::TQ2_0});
  EXPECT_TRUE(probe_types({{GgmlType::F32, WeightRole::kOther, 10, 0, 0}}).empty());
}

}  // namespace
}  // namespace edgellm::cli
