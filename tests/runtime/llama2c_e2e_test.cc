// The engine's correctness anchor: a real (tiny) trained llama2.c model, converted to GGUF, must reproduce
// llama2.c's own greedy output token for token (see ../shared/testdata/llama2c/README.md).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edgellm/edgellm.h"
#include "format/llama2c.h"
#include "test_util.h"

namespace edgellm {
namespace {

TEST(Llama2cEndToEnd, GreedyMatchesRunC) {
  EL_REQUIRE_SHARED("testdata/llama2c/aidreams260K.bin");
  const std::string gguf = test::temp_dir() + "/aidreams260K.gguf";
  Status st = convert_llama2c(test::shared_path("testdata/llama2c/aidreams260K.bin"),
                              test::shared_path("testdata/llama2c/tok512.bin"), gguf, GgmlType::F32);
  ASSERT_TRUE(st) << st.message();
  auto model = Model::load(gguf);
  ASSERT_TRUE(model) << model.status().message();

  const std::vector<int32_t> prompt = (*model)->tokenize("The robot", true);
  ASSERT_EQ(prompt, (std::vector<int32_t>{1, 368, 430, 429, 302, 450, 437, 434}));

  SessionOptions so;
  so.n_threads = 1;
  so.n_batch = 5;  // the prompt crosses a batch boundary
  auto session = Session::create(*model, so);
  ASSERT_TRUE(session) << session.status().message();
  SamplerParams sp;
  sp.temperature = 0;
  auto sampler = Sampler::create(sp, (*model)->info().n_vocab);
  ASSERT_TRUE(sampler);

  // run.c feeds positions 0..63 (BOS first) and prints the token predicted at each: 64 tokens after BOS,
  // the last of which is never fed back.
  std::vector<int32_t> seq = prompt;
  ASSERT_TRUE((*session)->prefill(prompt));
  while (seq.size() < 65) {
    const int32_t next = (*sampler)->sample((*session)->logits());
    seq.push_back(next);
    if (seq.size() < 65) {
      ASSERT_TRUE((*session)->decode(next));
    }
  }
  const std::vector<int32_t> expected = {
      368, 430, 429, 302, 450, 437, 434, 353, 325, 266, 386, 269, 293, 446, 279, 317, 442, 447, 425, 275, 280, 302,
      450, 405, 403, 399, 422, 448, 429, 465, 265, 434, 317, 431, 434, 289, 408, 326, 446, 262, 279, 438, 349, 261,
      446, 299, 303, 384, 467, 407, 446, 299, 303, 266, 323, 434, 285, 362, 262, 263, 428, 434, 436, 451};
  const std::vector<int32_t> got(seq.begin() + 1, seq.end());
  EXPECT_EQ(got, expected);

  std::string text;
  for (int32_t t : got) text += (*model)->token_to_piece(t);
  EXPECT_EQ(text.substr(0, 33), " The robotic whispers secrets, fr");
  EXPECT_EQ((*session)->n_past(), 64);
}

}  // namespace
}  // namespace edgellm
