// GGUF writer -> reader round trips, getters, alignment, and the real vocab files in ../shared.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "format/gguf.h"
#include "test_util.h"

namespace edgellm {
namespace {

GgufValue scalar(GgufType t, int64_t i) {
  GgufValue v;
  v.type = t;
  v.i = i;
  return v;
}

GgufValue array_of(GgufType elem, std::vector<int64_t> nums) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.elem_type = elem;
  v.nums = std::move(nums);
  return v;
}

GgufValue array_of_arrays(std::vector<GgufValue> items) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.elem_type = GgufType::ARRAY;
  v.items = std::move(items);
  return v;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Every metadata type, including nested arrays and arrays of awkward strings.
void add_every_type(GgufWriter& w) {
  w.set("u8", scalar(GgufType::UINT8, 255));
  w.set("i8", scalar(GgufType::INT8, -128));
  w.set("u16", scalar(GgufType::UINT16, 65535));
  w.set("i16", scalar(GgufType::INT16, -32768));
  w.set("u32", GgufValue::of_u32(4000000000u));
  w.set("i32", GgufValue::of_i32(-2000000000));
  w.set("f32", GgufValue::of_f32(1.5f));
  w.set("bool", GgufValue::of_bool(true));
  w.set("str", GgufValue::of_string(std::string("h\0llo \xff\xfe", 9)));
  w.set("u64", GgufValue::of_u64(18446744073709551615ull));
  w.set("i64", scalar(GgufType::INT64, -9000000000000000000ll));
  GgufValue f64;
  f64.type = GgufType::FLOAT64;
  f64.f = 3.141592653589793;
  w.set("f64", f64);
  w.set("a.strings", GgufValue::of_strings({"", "a", std::string("\x80\x00z", 3), "long string with spaces"}));
  w.set("a.f32", GgufValue::of_f32s({0.25f, -2.0f, 1e30f}));
  w.set("a.i32", GgufValue::of_i32s({-1, 0, 2147483647}));
  w.set("a.u8", array_of(GgufType::UINT8, {0, 7, 255}));
  w.set("a.i8", array_of(GgufType::INT8, {-128, 127}));
  w.set("a.u16", array_of(GgufType::UINT16, {65535}));
  w.set("a.i16", array_of(GgufType::INT16, {-5}));
  w.set("a.u32", array_of(GgufType::UINT32, {4294967295ll}));
  w.set("a.u64", array_of(GgufType::UINT64, {9223372036854775807ll}));
  w.set("a.i64", array_of(GgufType::INT64, {-9223372036854775807ll - 1}));
  w.set("a.bool", array_of(GgufType::BOOL, {1, 0, 1}));
  GgufValue f64s;
  f64s.type = GgufType::ARRAY;
  f64s.elem_type = GgufType::FLOAT64;
  f64s.fnums = {1e-300, -0.5};
  w.set("a.f64", f64s);
  w.set("a.empty", array_of(GgufType::INT32, {}));
  w.set("a.nested", array_of_arrays({GgufValue::of_i32s({1, 2}), GgufValue::of_strings({"x", "yz"}),
                                     array_of_arrays({GgufValue::of_f32s({7.0f})}), array_of(GgufType::UINT8, {})}));
}

TEST(GgufRoundTrip, EveryMetadataType) {
  GgufWriter w;
  add_every_type(w);
  auto image = w.write_bytes();
  ASSERT_TRUE(image.is_ok()) << image.status().message();
  auto f = GgufFile::from_bytes(std::move(image).value(), "mem.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->metadata().size(), 26u);
  EXPECT_EQ(f->metadata()[0].first, "u8");  // insertion order kept
  EXPECT_EQ(f->metadata()[25].first, "a.nested");

  EXPECT_EQ(*f->get_int("u8"), 255);
  EXPECT_EQ(*f->get_int("i8"), -128);
  EXPECT_EQ(*f->get_int("u16"), 65535);
  EXPECT_EQ(*f->get_int("i16"), -32768);
  EXPECT_EQ(*f->get_int("u32"), 4000000000ll);
  EXPECT_EQ(*f->get_int("i32"), -2000000000);
  EXPECT_EQ(*f->get_float("f32"), 1.5);
  EXPECT_EQ(*f->get_bool("bool"), true);
  EXPECT_EQ(*f->get_string("str"), std::string("h\0llo \xff\xfe", 9));
  EXPECT_EQ(f->find("u64")->u, 18446744073709551615ull);
  EXPECT_EQ(*f->get_int("i64"), -9000000000000000000ll);
  EXPECT_EQ(*f->get_float("f64"), 3.141592653589793);
  EXPECT_EQ(f->find("u8")->type, GgufType::UINT8);
  EXPECT_EQ(f->find("i16")->type, GgufType::INT16);

  auto strs = f->get_string_array("a.strings");
  ASSERT_TRUE(strs.is_ok());
  EXPECT_EQ(**strs, (std::vector<std::string>{"", "a", std::string("\x80\x00z", 3), "long string with spaces"}));
  EXPECT_EQ(f->find("a.f32")->fnums, (std::vector<double>{0.25, -2.0, static_cast<double>(1e30f)}));
  EXPECT_EQ(f->find("a.i32")->nums, (std::vector<int64_t>{-1, 0, 2147483647}));
  EXPECT_EQ(f->find("a.u8")->nums, (std::vector<int64_t>{0, 7, 255}));
  EXPECT_EQ(f->find("a.i8")->nums, (std::vector<int64_t>{-128, 127}));
  EXPECT_EQ(f->find("a.u16")->nums, (std::vector<int64_t>{65535}));
  EXPECT_EQ(f->find("a.i16")->nums, (std::vector<int64_t>{-5}));
  EXPECT_EQ(f->find("a.u32")->nums, (std::vector<int64_t>{4294967295ll}));
  EXPECT_EQ(f->find("a.u64")->nums, (std::vector<int64_t>{9223372036854775807ll}));
  EXPECT_EQ(f->find("a.i64")->nums, (std::vector<int64_t>{-9223372036854775807ll - 1}));
  EXPECT_EQ(f->find("a.bool")->nums, (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(f->find("a.bool")->elem_type, GgufType::BOOL);
  EXPECT_EQ(f->find("a.f64")->fnums, (std::vector<double>{1e-300, -0.5}));
  EXPECT_EQ(f->find("a.empty")->array_size(), 0u);
  EXPECT_EQ(f->find("a.empty")->elem_type, GgufType::INT32);

  const GgufValue* nested = f->find("a.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->elem_type, GgufType::ARRAY);
  ASSERT_EQ(nested->array_size(), 4u);
  EXPECT_EQ(nested->items[0].nums, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(nested->items[1].strings, (std::vector<std::string>{"x", "yz"}));
  ASSERT_EQ(nested->items[2].elem_type, GgufType::ARRAY);
  ASSERT_EQ(nested->items[2].items.size(), 1u);
  EXPECT_EQ(nested->items[2].items[0].fnums, (std::vector<double>{7.0}));
  EXPECT_EQ(nested->items[3].elem_type, GgufType::UINT8);
  EXPECT_EQ(nested->items[3].array_size(), 0u);
}

TEST(GgufRoundTrip, TensorsAlignedAndExact) {
  for (uint32_t alignment : {0u, 64u, 1u, 4096u}) {  // 0: no key, the default 32
    GgufWriter w;
    w.set("general.architecture", GgufValue::of_string("llama"));
    if (alignment != 0) w.set("general.alignment", GgufValue::of_u32(alignment));
    auto f32 = random_bytes(3 * 5 * 4, 1);
    auto q4 = random_bytes(2 * 2 * 18, 2);
    auto f16 = random_bytes(7 * 2, 3);
    auto iq2 = random_bytes(66, 4);
    auto q8 = random_bytes(3 * 34, 5);
    ASSERT_TRUE(w.add_tensor("a.f32", GgmlType::F32, {3, 5}, f32).is_ok());
    ASSERT_TRUE(w.add_tensor("b.q4_0", GgmlType::Q4_0, {64, 2}, q4).is_ok());
    ASSERT_TRUE(w.add_tensor("c.f16", GgmlType::F16, {7}, f16).is_ok());
    ASSERT_TRUE(w.add_tensor("d.iq2_xxs", GgmlType::IQ2_XXS, {256, 1, 1, 1}, iq2).is_ok());
    ASSERT_TRUE(w.add_tensor_lazy("e.q8_0", GgmlType::Q8_0, {32, 3},
                                  [&](uint8_t* dst) { std::memcpy(dst, q8.data(), q8.size()); })
                    .is_ok());
    auto image = w.write_bytes();
    ASSERT_TRUE(image.is_ok()) << image.status().message();
    auto f = GgufFile::from_bytes(std::move(image).value());
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    uint64_t a = alignment == 0 ? 32 : alignment;
    EXPECT_EQ(f->alignment(), a);
    EXPECT_EQ(f->data_offset() % a, 0u);
    ASSERT_EQ(f->tensors().size(), 5u);
    const std::vector<uint8_t>* want[] = {&f32, &q4, &f16, &iq2, &q8};
    for (size_t i = 0; i < 5; ++i) {
      const GgufTensorInfo& t = f->tensors()[i];
      EXPECT_EQ(static_cast<uint64_t>(t.data - f->file_data()) % a, 0u) << t.name;
      EXPECT_EQ(t.offset % a, 0u);
      ASSERT_EQ(t.n_bytes, want[i]->size()) << t.name;
      EXPECT_EQ(std::memcmp(t.data, want[i]->data(), t.n_bytes), 0) << t.name;
      EXPECT_EQ(f->find_tensor(t.name), &t);
    }
    const GgufTensorInfo* q = f->find_tensor("b.q4_0");
    EXPECT_EQ(q->type(), GgmlType::Q4_0);
    EXPECT_EQ(q->dims, (std::vector<int64_t>{64, 2}));
    EXPECT_EQ(q->n_elements, 128u);
    EXPECT_EQ(f->find_tensor("d.iq2_xxs")->type(), GgmlType::IQ2_XXS);  // known but not computable: accepted
    EXPECT_EQ(f->find_tensor("nope"), nullptr);
  }
}

TEST(GgufRoundTrip, WriteFileAndOpenByMmap) {
  std::string path = test::temp_dir() + "/rt.gguf";
  GgufWriter w;
  w.set("k", GgufValue::of_string("v"));
  w.set("k", GgufValue::of_string("replaced"));  // keeps its first position
  w.set("n", GgufValue::of_u32(7));
  auto data = random_bytes(33 * 4, 9);
  ASSERT_TRUE(w.add_tensor("t", GgmlType::F32, {33}, data).is_ok());
  int fills = 0;
  ASSERT_TRUE(w.add_tensor_lazy("lazy", GgmlType::F32, {5, 2},
                                [&](uint8_t* dst) {
                                  ++fills;
                                  for (int i = 0; i < 40; ++i) dst[i] = static_cast<uint8_t>(i);
                                })
                  .is_ok());
  ASSERT_TRUE(w.write_file(path).is_ok());
  EXPECT_EQ(fills, 1);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->path(), path);
  EXPECT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].first, "k");
  EXPECT_EQ(*f->get_string("k"), "replaced");
  EXPECT_EQ(std::memcmp(f->find_tensor("t")->data, data.data(), data.size()), 0);
  EXPECT_EQ(f->find_tensor("lazy")->data[39], 39);
  // The in-memory image and the file are byte-identical.
  auto image = w.write_bytes();
  ASSERT_TRUE(image.is_ok());
  EXPECT_EQ(image->size(), f->file_size());
  EXPECT_EQ(std::memcmp(image->data(), f->file_data(), image->size()), 0);
  EXPECT_EQ(fills, 2);
}

TEST(GgufWriter, ReportsErrors) {
  GgufWriter w;
  EXPECT_NE(w.add_tensor("t", GgmlType::F32, {4}, std::vector<uint8_t>(15)).message().find("15 bytes given"),
            std::string::npos);
  EXPECT_NE(w.add_tensor("t", GgmlType::Q4_0, {16}, std::vector<uint8_t>(9)).message().find("block size 32"),
            std::string::npos);
  EXPECT_NE(w.add_tensor("t", GgmlType::F32, {1, 1, 1, 1, 1}, std::vector<uint8_t>(4)).message().find("1..4"),
            std::string::npos);
  EXPECT_NE(w.add_tensor("t", GgmlType::F32, {0}, {}).message().find(">= 1"), std::string::npos);
  EXPECT_NE(w.add_tensor("t", static_cast<GgmlType>(5), {1}, {}).message().find("unknown type id 5"),
            std::string::npos);
  ASSERT_TRUE(w.add_tensor("t", GgmlType::F32, {1}, std::vector<uint8_t>(4)).is_ok());
  EXPECT_NE(w.add_tensor("t", GgmlType::F32, {1}, std::vector<uint8_t>(4)).message().find("duplicate"),
            std::string::npos);
  EXPECT_NE(w.add_tensor_lazy("u", GgmlType::F32, {1}, nullptr).message().find("fill"), std::string::npos);

  GgufWriter bad_value;
  bad_value.set("x", array_of(GgufType::UINT8, {1, 300}));
  auto r = bad_value.write_bytes();
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("key 'x'[1]: value 300 does not fit UINT8"), std::string::npos)
      << r.status().message();

  GgufWriter bad_align;
  bad_align.set("general.alignment", GgufValue::of_u32(48));
  EXPECT_NE(bad_align.write_bytes().status().message().find("power of two"), std::string::npos);

  GgufWriter ok;
  Status s = ok.write_file("/nonexistent-dir/x.gguf");
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/x.gguf"), std::string::npos) << s.message();
  if (std::filesystem::exists("/dev/full")) {
    // A full disk: the temp file cannot be created next to /dev/full, so write through a symlink to it.
    std::string link = test::temp_dir() + "/full.gguf.tmp";
    std::filesystem::create_symlink("/dev/full", link);
    Status full = ok.write_file(test::temp_dir() + "/full.gguf");
    EXPECT_FALSE(full.is_ok());
    EXPECT_NE(full.message().find("No space left"), std::string::npos) << full.message();
  }
}

TEST(GgufGetters, TypeMismatchesAndDefaults) {
  GgufWriter w;
  w.set("s", GgufValue::of_string("x"));
  w.set("n", GgufValue::of_i32(-3));
  w.set("big", GgufValue::of_u64(1ull << 63));
  w.set("b", GgufValue::of_bool(false));
  w.set("ints", GgufValue::of_i32s({1}));
  auto f = GgufFile::from_bytes(*w.write_bytes(), "g.gguf");
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(*f->get_float("n"), -3.0);  // integers are accepted as floats
  EXPECT_EQ(*f->get_int_or("absent", 42), 42);
  EXPECT_EQ(*f->get_string_or("absent", "d"), "d");
  EXPECT_EQ(*f->get_bool_or("absent", true), true);
  EXPECT_EQ(*f->get_float_or("absent", 0.5), 0.5);
  EXPECT_NE(f->get_int("s").status().message().find("g.gguf: key 's': expected an integer, found STRING"),
            std::string::npos);
  EXPECT_NE(f->get_int("big").status().message().find("does not fit"), std::string::npos);
  EXPECT_NE(f->get_int_or("s", 1).status().message().find("found STRING"), std::string::npos);
  EXPECT_NE(f->get_string("absent").status().message().find("'absent' is missing"), std::string::npos);
  EXPECT_NE(f->get_bool("n").status().message().find("expected BOOL, found INT32"), std::string::npos);
  EXPECT_EQ(*f->get_bool("b"), false);
  EXPECT_NE(f->get_string_array("ints").status().message().find("found ARRAY of INT32"), std::string::npos);
  EXPECT_FALSE(f->get_string_array("absent").is_ok());
}

TEST(GgufVocab, LlamaSpmVocabulary) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-llama-spm.gguf");
  auto f = GgufFile::open(test::shared_path("testdata/vocab/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(*f->get_string("tokenizer.ggml.model"), "llama");
  auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.is_ok()) << tokens.status().message();
  ASSERT_EQ((*tokens)->size(), 32000u);
  EXPECT_EQ((**tokens)[0], "<unk>");
  EXPECT_EQ(f->find("tokenizer.ggml.scores")->fnums.size(), 32000u);
  EXPECT_EQ(f->find("tokenizer.ggml.token_type")->nums.size(), 32000u);
}

TEST(GgufVocab, EverySharedVocabFileParses) {
  EL_REQUIRE_SHARED("testdata/vocab");
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::shared_path("testdata/vocab"))) {
    if (e.path().extension() != ".gguf") continue;
    auto f = GgufFile::open(e.path().string());
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    EXPECT_TRUE(f->get_string("tokenizer.ggml.model").is_ok()) << e.path();
    EXPECT_GT((*f->get_string_array("tokenizer.ggml.tokens"))->size(), 1000u) << e.path();
    ++n;
  }
  EXPECT_GE(n, 1);
}

}  // namespace
}  // namespace edgellm
