// Generates the GGUF fuzz seed corpus (tests/fuzz/corpus/gguf) with the writer and checks that the
// checked-in seeds are current and valid. Regenerate with EDGELLM_REGEN_FUZZ_CORPUS=1 format_tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "format/gguf.h"

namespace edgellm {
namespace {

std::vector<uint8_t> bytes_of(const GgufWriter& w) {
  auto r = w.write_bytes();
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? std::move(r).value() : std::vector<uint8_t>();
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 37);
  return b;
}

GgufValue typed(GgufType t, int64_t i) {
  GgufValue v;
  v.type = t;
  v.i = i;
  return v;
}

// Small seeds covering each part of the format: every value type, nested arrays, tensors of
// several types, a custom alignment, a v2 header and a vocabulary-shaped file.
std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> out;
  out.emplace_back("empty.gguf", bytes_of(GgufWriter()));

  GgufWriter scalars;
  scalars.set("u8", typed(GgufType::UINT8, 200));
  scalars.set("i8", typed(GgufType::INT8, -3));
  scalars.set("u16", typed(GgufType::UINT16, 60000));
  scalars.set("i16", typed(GgufType::INT16, -300));
  scalars.set("u32", GgufValue::of_u32(70000));
  scalars.set("i32", GgufValue::of_i32(-70000));
  scalars.set("f32", GgufValue::of_f32(0.5f));
  scalars.set("bool", GgufValue::of_bool(true));
  scalars.set("str", GgufValue::of_string("hello"));
  scalars.set("u64", GgufValue::of_u64(1ull << 40));
  scalars.set("i64", typed(GgufType::INT64, -(1ll << 40)));
  GgufValue f64;
  f64.type = GgufType::FLOAT64;
  f64.f = -2.25;
  scalars.set("f64", f64);
  out.emplace_back("scalars.gguf", bytes_of(scalars));

  GgufWriter arrays;
  arrays.set("strings", GgufValue::of_strings({"a", "", "\xe2\x96\x81the"}));
  arrays.set("f32s", GgufValue::of_f32s({1.0f, -1.0f}));
  arrays.set("i32s", GgufValue::of_i32s({1, -2, 3}));
  GgufValue nested;
  nested.type = GgufType::ARRAY;
  nested.elem_type = GgufType::ARRAY;
  nested.items = {GgufValue::of_i32s({4}), GgufValue::of_strings({"x"})};
  GgufValue outer = nested;
  outer.items = {nested, GgufValue::of_f32s({})};
  arrays.set("nested", outer);
  out.emplace_back("arrays.gguf", bytes_of(arrays));

  GgufWriter tensors;
  tensors.set("general.architecture", GgufValue::of_string("llama"));
  EXPECT_TRUE(tensors.add_tensor("f32", GgmlType::F32, {3, 2}, pattern(24, 1)).is_ok());
  EXPECT_TRUE(tensors.add_tensor("f16", GgmlType::F16, {5}, pattern(10, 2)).is_ok());
  EXPECT_TRUE(tensors.add_tensor("q4_0", GgmlType::Q4_0, {32, 2}, pattern(36, 3)).is_ok());
  EXPECT_TRUE(tensors.add_tensor("q8_0", GgmlType::Q8_0, {32}, pattern(34, 4)).is_ok());
  EXPECT_TRUE(tensors.add_tensor("q6_k", GgmlType::Q6_K, {256, 1, 1}, pattern(210, 5)).is_ok());
  out.emplace_back("tensors.gguf", bytes_of(tensors));

  GgufWriter aligned;
  aligned.set("general.alignment", GgufValue::of_u32(64));
  EXPECT_TRUE(aligned.add_tensor("a", GgmlType::F32, {1}, pattern(4, 6)).is_ok());
  EXPECT_TRUE(aligned.add_tensor("b", GgmlType::BF16, {3, 1, 1, 1}, pattern(6, 7)).is_ok());
  out.emplace_back("align64.gguf", bytes_of(aligned));

  GgufWriter v2;
  v2.set("k", GgufValue::of_u32(1));
  EXPECT_TRUE(v2.add_tensor("t", GgmlType::I8, {4}, pattern(4, 8)).is_ok());
  std::vector<uint8_t> v2_bytes = bytes_of(v2);
  if (v2_bytes.size() > 4) v2_bytes[4] = 2;  // v2 shares v3's layout; only the version differs
  out.emplace_back("v2.gguf", std::move(v2_bytes));

  GgufWriter vocab;
  std::vector<std::string> toks = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int i = 0; i < 40; ++i) {
    toks.push_back(i % 2 == 0 ? "\xe2\x96\x81t" + std::to_string(i) : "<0x" + std::to_string(10 + i) + ">");
    scores.push_back(-static_cast<float>(i));
    types.push_back(i % 2 == 0 ? 1 : 6);
  }
  vocab.set("tokenizer.ggml.model", GgufValue::of_string("llama"));
  vocab.set("tokenizer.ggml.tokens", GgufValue::of_strings(toks));
  vocab.set("tokenizer.ggml.scores", GgufValue::of_f32s(scores));
  vocab.set("tokenizer.ggml.token_type", GgufValue::of_i32s(types));
  vocab.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(1));
  vocab.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(true));
  out.emplace_back("vocab.gguf", bytes_of(vocab));
  return out;
}

TEST(GgufFuzzCorpus, SeedsAreCurrentAndValid) {
  const std::string dir = std::string(EDGELLM_SOURCE_DIR) + "/tests/fuzz/corpus/gguf/";
  const char* regen = std::getenv("EDGELLM_REGEN_FUZZ_CORPUS");
  for (auto& [name, image] : seeds()) {
    ASSERT_FALSE(image.empty()) << name;
    auto f = GgufFile::from_bytes(image, name);
    EXPECT_TRUE(f.is_ok()) << f.status().message();
    if (regen != nullptr && std::string(regen) == "1") {
      std::ofstream(dir + name, std::ios::binary).write(reinterpret_cast<const char*>(image.data()),
                                                         static_cast<std::streamsize>(image.size()));
    }
    std::ifstream in(dir + name, std::ios::binary);
    ASSERT_TRUE(in.good()) << dir + name << " is missing; run format_tests with EDGELLM_REGEN_FUZZ_CORPUS=1";
    std::vector<uint8_t> stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(stored, image) << name << " is stale; run format_tests with EDGELLM_REGEN_FUZZ_CORPUS=1";
  }
}

}  // namespace
}  // namespace edgellm
