// Byte-level BPE ("gpt2") against llama.cpp's published vocabulary test vectors.
#include <string>
#include <vector>

#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "vocab_cases.h"

namespace edgellm {
namespace {

void check_vectors(const std::string& name) {
  const std::string base = test::shared_path("testdata/vocab/" + name);
  auto tok = test::load_gguf_tokenizer(base);
  ASSERT_NE(tok, nullptr);
  auto cases = test::load_vocab_cases(base + ".inp", base + ".out");
  ASSERT_EQ(cases.size(), 46u);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i) + ": \"" + cases[i].text + "\"");
    const std::vector<int32_t> got = tok->encode(cases[i].text, /*add_bos=*/false, /*parse_special=*/false);
    EXPECT_EQ(got, cases[i].ids);
    // Byte-level BPE is lossless: decoding gives back the exact input bytes.
    EXPECT_EQ(tok->decode(got), cases[i].text);
  }
}

TEST(BpeVectors, Gpt2) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-gpt-2.gguf");
  check_vectors("ggml-vocab-gpt-2.gguf");
}

TEST(BpeVectors, Starcoder) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-starcoder.gguf");
  check_vectors("ggml-vocab-starcoder.gguf");
}

TEST(BpeVectors, Falcon) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-falcon.gguf");
  check_vectors("ggml-vocab-falcon.gguf");
}

}  // namespace
}  // namespace edgellm
