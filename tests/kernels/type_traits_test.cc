// The traits table: rows, geometry agreeing with the GGUF type table, activation pairing.
#include <gtest/gtest.h>

#include "kernels/ggml_type.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

TEST(TypeTraits, SupportedRowsAgreeWithGgufGeometry) {
  const GgmlType supported[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                                GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
                                GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K};
  for (GgmlType type : supported) {
    const uint32_t id = static_cast<uint32_t>(type);
    const TypeTraits* t = type_traits(type);
    ASSERT_NE(t, nullptr) << id;
    EXPECT_EQ(t, type_traits(id));
    EXPECT_EQ(t->type, type);
    EXPECT_STREQ(t->name, ggml_type_name(id));
    EXPECT_EQ(t->block_size, ggml_type_block_size(id)) << t->name;
    EXPECT_EQ(t->type_size, ggml_type_block_bytes(id)) << t->name;
    EXPECT_NE(t->to_float, nullptr) << t->name;
    EXPECT_NE(t->from_float, nullptr) << t->name;
    EXPECT_EQ(t->is_quantized, t->block_size > 1) << t->name;
  }
}

TEST(TypeTraits, ActivationPairing) {
  for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16})
    EXPECT_EQ(type_traits(type)->vec_dot_type, GgmlType::F32);
  for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0})
    EXPECT_EQ(type_traits(type)->vec_dot_type, GgmlType::Q8_0);
  for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    EXPECT_EQ(type_traits(type)->vec_dot_type, GgmlType::Q8_K);
    EXPECT_NE(type_traits(type)->vec_dot, nullptr);
  }
  EXPECT_EQ(type_traits(GgmlType::Q8_K)->vec_dot, nullptr);
}

TEST(TypeTraits, UnsupportedTypesHaveNoRow) {
  for (GgmlType type : {GgmlType::Q8_1, GgmlType::IQ2_XXS, GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::I8,
                        GgmlType::I32, GgmlType::F64})
    EXPECT_EQ(type_traits(type), nullptr) << static_cast<uint32_t>(type);
  EXPECT_EQ(type_traits(4u), nullptr);
  EXPECT_EQ(type_traits(999u), nullptr);
  EXPECT_EQ(type_traits(0xFFFFFFFFu), nullptr);
}

TEST(TypeTraits, RowBytes) {
  EXPECT_EQ(row_bytes(*type_traits(GgmlType::Q4_0), 2048), 64u * 18u);
  EXPECT_EQ(row_bytes(*type_traits(GgmlType::F16), 7), 14u);
  EXPECT_EQ(row_bytes(*type_traits(GgmlType::Q6_K), 512), 420u);
}

}  // namespace
}  // namespace edgellm
