// edgellm tokenize / detokenize end to end on vocabulary-only GGUF files.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace edgellm::test {
namespace {

TEST(TokenizeCli, Gpt2IdsPiecesAndBack) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-gpt-2.gguf");
  const std::string m = shared_path("testdata/vocab/ggml-vocab-gpt-2.gguf");
  CliResult r = run_cli({"tokenize", "-m", m, "-p", "Hello world"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "15496 995\n");
  r = run_cli({"tokenize", "-m", m, "-p", "Hi<|endoftext|>", "--parse-special", "--pieces"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "17250\tHi\n50256\t<|endoftext|>\n");
  r = run_cli({"detokenize", "-m", m, "--ids", "15496 995"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello world");
  const std::string f = temp_dir() + "/text.txt";
  std::ofstream(f) << " Hello world";
  r = run_cli({"tokenize", "-m", m, "-f", f});
  EXPECT_EQ(r.out, "18435 995\n");
}

TEST(TokenizeCli, BertAddsClsAndSepUnlessNoBos) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-bert-bge.gguf");
  const std::string m = shared_path("testdata/vocab/ggml-vocab-bert-bge.gguf");
  EXPECT_EQ(run_cli({"tokenize", "-m", m, "-p", "Hello world"}).out, "101 7592 2088 102\n");
  EXPECT_EQ(run_cli({"tokenize", "-m", m, "-p", "Hello world", "--no-bos"}).out, "7592 2088\n");
}

TEST(TokenizeCli, BadInputsAreUsageErrors) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-gpt-2.gguf");
  const std::string m = shared_path("testdata/vocab/ggml-vocab-gpt-2.gguf");
  CliResult r = run_cli({"detokenize", "-m", m, "--ids", "1 x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("\"x\""), std::string::npos) << r.err;
  r = run_cli({"detokenize", "-m", m, "--ids", "99999999"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;
  r = run_cli({"tokenize", "-m", temp_dir() + "/missing.gguf", "-p", "x"});
  EXPECT_EQ(r.code, 2);
  r = run_cli({"tokenize", "-m", m, "-p", "x", "--ids", "--pieces"});
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace edgellm::test
