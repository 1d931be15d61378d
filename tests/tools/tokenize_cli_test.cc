// edgellm tokenize / detokenize end to end on vocabulary-only GGUF files.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace edgellm::test {
namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

CliRun edgellm(const std::vector<std::string>& args) {
  static int counter = 0;
  const std::string base = temp_dir() + "/tok" + std::to_string(counter++);
  std::vector<std::string> argv_s = {cli_path()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, (base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  CliRun r;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

TEST(TokenizeCli, Gpt2IdsPiecesAndBack) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-gpt-2.gguf");
  const std::string m = shared_path("testdata/vocab/ggml-vocab-gpt-2.gguf");
  CliRun r = edgellm({"tokenize", "-m", m, "-p", "Hello world"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "15496 995\n");
  r = edgellm({"tokenize", "-m", m, "-p", "Hi<|endoftext|>", "--parse-special", "--pieces"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "17250\tHi\n50256\t<|endoftext|>\n");
  r = edgellm({"detokenize", "-m", m, "--ids", "15496 995"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello world");
  const std::string f = temp_dir() + "/text.txt";
  std::ofstream(f) << " Hello world";
  r = edgellm({"tokenize", "-m", m, "-f", f});
  EXPECT_EQ(r.out, "18435 995\n");
}

TEST(TokenizeCli, BertAddsClsAndSepUnlessNoBos) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-bert-bge.gguf");
  const std::string m = shared_path("testdata/vocab/ggml-vocab-bert-bge.gguf");
  EXPECT_EQ(edgellm({"tokenize", "-m", m, "-p", "Hello world"}).out, "101 7592 2088 102\n");
  EXPECT_EQ(edgellm({"tokenize", "-m", m, "-p", "Hello world", "--no-bos"}).out, "7592 2088\n");
}

TEST(TokenizeCli, BadInputsAreUsageErrors) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-gpt-2.gguf");
  const std::string m = shared_path("testdata/vocab/ggml-vocab-gpt-2.gguf");
  CliRun r = edgellm({"detokenize", "-m", m, "--ids", "1 x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("\"x\""), std::string::npos) << r.err;
  r = edgellm({"detokenize", "-m", m, "--ids", "99999999"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;
  r = edgellm({"tokenize", "-m", temp_dir() + "/missing.gguf", "-p", "x"});
  EXPECT_EQ(r.code, 2);
  r = edgellm({"tokenize", "-m", m, "-p", "x", "--ids", "--pieces"});
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace edgellm::test
