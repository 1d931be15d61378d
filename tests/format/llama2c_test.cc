// llama2.c checkpoint import: metadata, tensor layout and values against the raw .bin, error paths.
#include "format/llama2c.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "kernels/type_traits.h"
#include "test_util.h"

namespace edgellm {
namespace {

using ::testing::HasSubstr;

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The float at index `i` after the 28-byte header of a checkpoint image.
float raw_float(const std::string& bin, uint64_t i) {
  float v;
  std::memcpy(&v, bin.data() + 28 + 4 * i, 4);
  return v;
}

float tensor_f32(const GgufTensorInfo& t, int64_t i) {
  float v;
  std::memcpy(&v, t.data + 4 * i, 4);
  return v;
}

std::string aidreams() { return test::shared_path("testdata/llama2c/aidreams260K.bin"); }
std::string tok512() { return test::shared_path("testdata/llama2c/tok512.bin"); }

TEST(Llama2c, ConvertsAidreamsMetadata) {
  EL_REQUIRE_SHARED("testdata/llama2c/aidreams260K.bin");
  const std::string out = test::temp_dir() + "/aidreams_meta.gguf";
  Status st = convert_llama2c(aidreams(), tok512(), out);
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->get_string("general.architecture").value(), "llama");
  EXPECT_EQ(f->get_string("general.name").value(), "aidreams260K");
  EXPECT_EQ(f->get_int("llama.context_length").value(), 128);
  EXPECT_EQ(f->get_int("llama.embedding_length").value(), 64);
  EXPECT_EQ(f->get_int("llama.feed_forward_length").value(), 172);
  EXPECT_EQ(f->get_int("llama.block_count").value(), 4);
  EXPECT_EQ(f->get_int("llama.attention.head_count").value(), 4);
  EXPECT_EQ(f->get_int("llama.attention.head_count_kv").value(), 4);
  EXPECT_EQ(f->get_int("llama.rope.dimension_count").value(), 16);
  EXPECT_EQ(f->get_int("llama.vocab_size").value(), 512);
  EXPECT_FLOAT_EQ(static_cast<float>(f->get_float("llama.attention.layer_norm_rms_epsilon").value()), 1e-5f);
  EXPECT_FLOAT_EQ(static_cast<float>(f->get_float("llama.rope.freq_base").value()), 10000.0f);
  EXPECT_EQ(f->get_string("tokenizer.ggml.model").value(), "llama");
  EXPECT_EQ(f->get_int("tokenizer.ggml.bos_token_id").value(), 1);
  EXPECT_EQ(f->get_int("tokenizer.ggml.eos_token_id").value(), 2);
  EXPECT_EQ(f->get_int("tokenizer.ggml.unknown_token_id").value(), 0);
  EXPECT_TRUE(f->get_bool("tokenizer.ggml.add_space_prefix").value());

  auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.is_ok());
  ASSERT_EQ((*tokens)->size(), 512u);
  EXPECT_EQ((**tokens)[0], "<unk>");
  EXPECT_EQ((**tokens)[1], "<s>");
  EXPECT_EQ((**tokens)[2], "</s>");
  EXPECT_EQ((**tokens)[3 + 0x0A], "<0x0A>");
  EXPECT_EQ((**tokens)[259], "in");
  EXPECT_EQ((**tokens)[262], "\xE2\x96\x81" "a");  // " a" in tok512.bin
  const GgufValue* types = f->find("tokenizer.ggml.token_type");
  ASSERT_NE(types, nullptr);
  ASSERT_EQ(types->nums.size(), 512u);
  EXPECT_EQ(types->nums[0], 2);
  EXPECT_EQ(types->nums[1], 3);
  EXPECT_EQ(types->nums[2], 3);
  EXPECT_EQ(types->nums[3], 6);
  EXPECT_EQ(types->nums[258], 6);
  EXPECT_EQ(types->nums[259], 1);
  const GgufValue* scores = f->find("tokenizer.ggml.scores");
  ASSERT_NE(scores, nullptr);
  ASSERT_EQ(scores->fnums.size(), 512u);
  EXPECT_EQ(scores->fnums[261], -2.0);
  EXPECT_EQ(scores->fnums[511], -252.0);
}

TEST(Llama2c, ConvertsAidreamsTensors) {
  EL_REQUIRE_SHARED("testdata/llama2c/aidreams260K.bin");
  const std::string out = test::temp_dir() + "/aidreams_f32.gguf";
  ASSERT_TRUE(convert_llama2c(aidreams(), tok512(), out).is_ok());
  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const std::string bin = read_all(aidreams());
  EXPECT_EQ(f->tensors().size(), 1u + 4u * 9u + 1u);  // shared classifier: no output.weight
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);

  // Float offsets in the checkpoint, from llama2.c's memory_map_weights (d 64, h 172, 4 layers, vocab 512).
  const int64_t d = 64, h = 172, L = 4, v = 512;
  const int64_t rms_att = v * d, wq = rms_att + L * d, wk = wq + L * d * d, wv = wk + L * d * d;
  const int64_t wo = wv + L * d * d, rms_ffn = wo + L * d * d, w1 = rms_ffn + L * d, w2 = w1 + L * d * h;
  const int64_t w3 = w2 + L * h * d, rms_final = w3 + L * d * h;
  struct Check {
    const char* name;
    std::vector<int64_t> dims;
    int64_t raw_offset;
  };
  const Check checks[] = {
      {"token_embd.weight", {d, v}, 0},
      {"blk.0.attn_norm.weight", {d}, rms_att},
      {"blk.1.attn_q.weight", {d, d}, wq + 1 * d * d},
      {"blk.2.attn_k.weight", {d, d}, wk + 2 * d * d},
      {"blk.3.attn_v.weight", {d, d}, wv + 3 * d * d},
      {"blk.0.attn_output.weight", {d, d}, wo},
      {"blk.3.ffn_norm.weight", {d}, rms_ffn + 3 * d},
      {"blk.1.ffn_gate.weight", {d, h}, w1 + 1 * d * h},
      {"blk.2.ffn_down.weight", {h, d}, w2 + 2 * h * d},
      {"blk.3.ffn_up.weight", {d, h}, w3 + 3 * d * h},
      {"output_norm.weight", {d}, rms_final},
  };
  std::mt19937 rng(3);
  for (const Check& c : checks) {
    SCOPED_TRACE(c.name);
    const GgufTensorInfo* t = f->find_tensor(c.name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dims, c.dims);
    EXPECT_EQ(t->type(), GgmlType::F32);
    ASSERT_EQ(t->n_bytes, t->n_elements * 4);
    for (int k = 0; k < 16; ++k) {
      const int64_t i = k == 0 ? 0 : k == 1 ? static_cast<int64_t>(t->n_elements) - 1
                                            : static_cast<int64_t>(rng() % t->n_elements);
      EXPECT_EQ(tensor_f32(*t, i), raw_float(bin, static_cast<uint64_t>(c.raw_offset + i))) << "element " << i;
    }
  }
}

TEST(Llama2c, QuantizedOutputFallsBackPerTensor) {
  EL_REQUIRE_SHARED("testdata/llama2c/aidreams260K.bin");
  const std::string out = test::temp_dir() + "/aidreams_q8.gguf";
  Status st = convert_llama2c(aidreams(), tok512(), out, GgmlType::Q8_0);
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const std::string bin = read_all(aidreams());
  const GgufTensorInfo* q = f->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type(), GgmlType::Q8_0);
  // Rows of 172 are not whole Q8_0 blocks of 32: stored as F16.
  EXPECT_EQ(f->find_tensor("blk.0.ffn_down.weight")->type(), GgmlType::F16);
  EXPECT_EQ(f->find_tensor("blk.0.attn_norm.weight")->type(), GgmlType::F32);
  std::vector<float> deq(q->n_elements);
  type_traits(GgmlType::Q8_0)->to_float(q->data, deq.data(), static_cast<int64_t>(q->n_elements));
  const int64_t wq = 512 * 64 + 4 * 64;
  for (size_t i = 0; i < deq.size(); ++i) {
    const float want = raw_float(bin, static_cast<uint64_t>(wq) + i);
    ASSERT_NEAR(deq[i], want, 0.01f * std::abs(want) + 2e-3f) << "element " << i;
  }
}

// A synthetic checkpoint: GQA (2 heads, 1 kv head) and an unshared classifier (negative vocab_size).
struct Synthetic {
  std::string model, tokenizer;
  std::vector<float> floats;
};

Synthetic synthetic_checkpoint() {
  const int32_t hdr[7] = {8, 12, 1, 2, 1, -5, 4};  // dim, hidden, layers, heads, kv heads, -vocab, seq
  const int64_t d = 8, h = 12, kv = 4, v = 5, hs = 4, seq = 4;
  const int64_t n = v * d + d + d * d + 2 * d * kv + d * d + d + 3 * d * h + d + seq * hs + v * d;
  Synthetic s;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < n; ++i) s.floats.push_back(dist(rng));
  s.model.assign(reinterpret_cast<const char*>(hdr), sizeof(hdr));
  s.model.append(reinterpret_cast<const char*>(s.floats.data()), s.floats.size() * 4);
  auto put_i32 = [](std::string& b, int32_t x) { b.append(reinterpret_cast<const char*>(&x), 4); };
  put_i32(s.tokenizer, 3);
  const char* pieces[] = {"<unk>", "\n<s>\n", "\n</s>\n", " hi", "x"};
  for (int i = 0; i < 5; ++i) {
    float score = -static_cast<float>(i);
    s.tokenizer.append(reinterpret_cast<const char*>(&score), 4);
    put_i32(s.tokenizer, static_cast<int32_t>(std::strlen(pieces[i])));
    s.tokenizer += pieces[i];
  }
  return s;
}

TEST(Llama2c, GroupedQueryAttentionAndUnsharedClassifier) {
  Synthetic s = synthetic_checkpoint();
  const std::string dir = test::temp_dir();
  write_all(dir + "/syn.bin", s.model);
  write_all(dir + "/syn_tok.bin", s.tokenizer);
  Status st = convert_llama2c(dir + "/syn.bin", dir + "/syn_tok.bin", dir + "/syn.gguf");
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto f = GgufFile::open(dir + "/syn.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->get_int("llama.attention.head_count_kv").value(), 1);
  EXPECT_EQ(f->get_int("llama.vocab_size").value(), 5);
  EXPECT_EQ(f->find_tensor("blk.0.attn_k.weight")->dims, (std::vector<int64_t>{8, 4}));
  EXPECT_EQ(f->find_tensor("blk.0.attn_v.weight")->dims, (std::vector<int64_t>{8, 4}));
  const GgufTensorInfo* out = f->find_tensor("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->dims, (std::vector<int64_t>{8, 5}));
  const size_t wcls = s.floats.size() - 40;  // the classifier is the last vocab × dim floats
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(tensor_f32(*out, i), s.floats[wcls + static_cast<size_t>(i)]);
  const GgufTensorInfo* wv = f->find_tensor("blk.0.attn_v.weight");
  const size_t wv_at = 5 * 8 + 8 + 64 + 32;  // embed, rms_att, wq, wk
  for (int64_t i = 0; i < 32; ++i) EXPECT_EQ(tensor_f32(*wv, i), s.floats[wv_at + static_cast<size_t>(i)]);
  auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.is_ok());
  EXPECT_EQ((**tokens)[3], "\xE2\x96\x81hi");
}

Status convert_bytes(const std::string& model, const std::string& tokenizer) {
  const std::string dir = test::temp_dir();
  write_all(dir + "/bad.bin", model);
  write_all(dir + "/bad_tok.bin", tokenizer);
  return convert_llama2c(dir + "/bad.bin", dir + "/bad_tok.bin", dir + "/bad.gguf");
}

TEST(Llama2c, TruncatedCheckpointIsAnError) {
  Synthetic s = synthetic_checkpoint();
  Status st = convert_bytes(s.model.substr(0, s.model.size() - 4), s.tokenizer);
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("truncated"));
  st = convert_bytes(s.model.substr(0, 10), s.tokenizer);
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("header"));
  st = convert_bytes(s.model + "junk", s.tokenizer);
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("trailing"));
}

TEST(Llama2c, BadHeaderFieldsAreNamed) {
  Synthetic s = synthetic_checkpoint();
  auto with_field = [&](int field, int32_t value) {
    std::string m = s.model;
    std::memcpy(m.data() + 4 * field, &value, 4);
    return convert_bytes(m, s.tokenizer);
  };
  Status st = with_field(3, 0);
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("n_heads"));
  st = with_field(0, 9);  // dim not a multiple of n_heads
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("dim 9"));
  st = with_field(4, 3);  // 2 heads cannot share 3 kv heads
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("n_kv_heads"));
  st = with_field(2, 1000000);
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("n_layers"));
}

TEST(Llama2c, BadTokenizerIsAnError) {
  Synthetic s = synthetic_checkpoint();
  Status st = convert_bytes(s.model, s.tokenizer.substr(0, s.tokenizer.size() - 1));
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("token 4"));
  st = convert_bytes(s.model, s.tokenizer + "extra");
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("bytes left"));
  std::string bad_len = s.tokenizer;
  const int32_t huge = 1 << 30;
  std::memcpy(bad_len.data() + 4 + 4, &huge, 4);  // length of token 0
  st = convert_bytes(s.model, bad_len);
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("token 0 at byte 4"));
  st = convert_llama2c(test::temp_dir() + "/missing.bin", test::temp_dir() + "/missing_tok.bin",
                       test::temp_dir() + "/x.gguf");
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("missing.bin"));
}

TEST(Llama2c, ParsesTokenizerFromMemory) {
  Synthetic s = synthetic_checkpoint();
  const auto* p = reinterpret_cast<const uint8_t*>(s.tokenizer.data());
  auto v = parse_llama2c_tokenizer(p, s.tokenizer.size(), 5, "tok.bin");
  ASSERT_TRUE(v.is_ok()) << v.status().message();
  ASSERT_EQ(v->tokens.size(), 5u);
  EXPECT_EQ(v->tokens[1], "<s>");
  EXPECT_EQ(v->types[0], 2);  // <unk>
  EXPECT_EQ(v->scores.size(), 5u);
  // One token fewer than the model declares leaves the last token's bytes over.
  auto extra = parse_llama2c_tokenizer(p, s.tokenizer.size(), 4, "tok.bin");
  ASSERT_FALSE(extra.is_ok());
  EXPECT_THAT(extra.status().message(), HasSubstr("tok.bin"));
  EXPECT_FALSE(parse_llama2c_tokenizer(p, 3, 5, "tok.bin").is_ok());
}

TEST(Llama2c, UnwritableTypeIsAnError) {
  Synthetic s = synthetic_checkpoint();
  const std::string dir = test::temp_dir();
  write_all(dir + "/t.bin", s.model);
  write_all(dir + "/t_tok.bin", s.tokenizer);
  Status st = convert_llama2c(dir + "/t.bin", dir + "/t_tok.bin", dir + "/t.gguf", GgmlType::IQ2_XXS);
  ASSERT_FALSE(st.is_ok());
  EXPECT_THAT(st.message(), HasSubstr("cannot write"));
}

}  // namespace
}  // namespace edgellm
