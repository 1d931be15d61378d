// The tokenizer of a converted llama2.c model reproduces run.c's prompt encoding.
#include <gtest/gtest.h>

#include <vector>

#include "format/gguf.h"
#include "format/llama2c.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace edgellm {
namespace {

TEST(Llama2cVocab, EncodesPromptLikeRunC) {
  EL_REQUIRE_SHARED("testdata/llama2c/aidreams260K.bin");
  const std::string out = test::temp_dir() + "/aidreams_tok.gguf";
  Status st = convert_llama2c(test::shared_path("testdata/llama2c/aidreams260K.bin"),
                              test::shared_path("testdata/llama2c/tok512.bin"), out);
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto f = GgufFile::open(out);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  auto vocab = Vocab::from_gguf(*f);
  ASSERT_TRUE(vocab.is_ok()) << vocab.status().message();
  auto tok = Tokenizer::create(std::move(vocab).value());
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  std::vector<int32_t> ids = (*tok)->encode("The robot", /*add_bos=*/true, /*parse_special=*/false);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, 368, 430, 429, 302, 450, 437, 434}));
  EXPECT_EQ((*tok)->decode(ids), "The robot");
  // The reference continuation decodes to the README's text (its start).
  std::vector<int32_t> gen = {368, 430, 429, 302, 450, 437, 434, 353, 325, 266, 386, 269, 293, 446, 279, 317};
  EXPECT_EQ((*tok)->decode(gen).rfind("The robotic whispers secrets", 0), 0u) << (*tok)->decode(gen);
}

}  // namespace
}  // namespace edgellm
