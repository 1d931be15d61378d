// End-to-end tests of the edgellm binary: help, argument validation, synth -> inspect,
// convert -> run, bench --json.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace edgellm::test {
namespace {

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// A tiny synthesized model shared by the tests of this file (built once).
const std::string& tiny_model() {
  static const std::string path = [] {
    const std::string p = temp_dir() + "/tiny_q8_0.gguf";
    CliResult r = run_cli({"synth", "--preset", "tiny", "--type", "q8_0", "-o", p, "--seed", "7"});
    EXPECT_EQ(r.code, 0) << r.err;
    return p;
  }();
  return path;
}

TEST(Cli, HelpAndVersion) {
  CliResult h = run_cli({"--help"});
  EXPECT_EQ(h.code, 0);
  for (const char* cmd : {"run", "inspect", "synth", "convert", "bench"}) EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd;
  CliResult v = run_cli({"--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("edgellm 0.1.0"), std::string::npos) << v.out;
  CliResult rh = run_cli({"run", "--help"});
  EXPECT_EQ(rh.code, 0);
  EXPECT_NE(rh.out.find("--repeat-penalty"), std::string::npos);
  CliResult bh = run_cli({"bench", "--help"});
  EXPECT_NE(bh.out.find("synthesizes llama3.2-1b at q4_0 in memory"), std::string::npos) << bh.out;
}

struct BadCase {
  std::vector<std::string> args;
  int code;
  std::string message;
};

TEST(Cli, BadArgumentsGiveOneErrorLineAndExitCode) {
  const std::string m = tiny_model();
  const std::string empty = temp_dir() + "/empty.gguf";
  std::ofstream(empty).close();
  const std::string junk = temp_dir() + "/junk.gguf";
  std::ofstream(junk) << "this is not a gguf file at all";
  const std::vector<BadCase> cases = {
      {{"run", "-m", m, "-p", "hi", "-n", "-5"}, 2, "-n -5 is out of range"},
      {{"run", "-m", m, "-p", "hi", "-t", "0"}, 2, "-t 0 is out of range"},
      {{"run", "-m", m, "-p", "hi", "-t", "100000"}, 2, "-t 100000 is out of range"},
      {{"run", "-m", m, "-p", "hi", "-c", "1000000000000"}, 2, "-c 1000000000000 is out of range"},
      {{"run", "-m", temp_dir() + "/missing.gguf", "-p", "hi"}, 2, "no such file"},
      {{"run", "-m", temp_dir(), "-p", "hi"}, 2, "is a directory"},
      {{"run", "-m", empty, "-p", "hi"}, 2, "is empty"},
      {{"run", "-m", junk, "-p", "hi"}, 1, "not a GGUF file"},
      {{"run", "-m", m, "-p", "hi", "--temp", "-1"}, 2, "--temp -1 is out of range"},
      {{"run", "-m", m, "-p", "hi", "--top-p", "2"}, 2, "--top-p 2 is out of range"},
      {{"run", "-m", m, "-p", "hi", "-n", "abc"}, 2, "abc"},
      {{"run", "-p", "hi"}, 2, "--model is required"},
      {{"synth", "--preset", "huge", "--type", "q4_0", "-o", temp_dir() + "/x.gguf"}, 2, "unknown preset 'huge'"},
      {{"synth", "--preset", "tiny", "--type", "q9_9", "-o", temp_dir() + "/x.gguf"}, 2, "unknown or unsupported type"},
      {{"synth", "--preset", "tiny", "--type", "q4_0", "--n-vocab", "10", "-o", temp_dir() + "/x.gguf"}, 2,
       "--n-vocab 10 is out of range"},
      {{"bench", "--preset", "tiny", "--type", "iq2_xxs"}, 2, "unknown or unsupported type"},
      {{"bench", "--preset", "nope"}, 2, "unknown preset"},
      {{"bench", "-m", m, "--reps", "0"}, 2, "--reps 0 is out of range"},
      {{"bench", "--preset", "tiny", "-t", "0,2"}, 2, "-t 0 is out of range"},
      {{"inspect", temp_dir()}, 2, "is a directory"},
      {{"convert", "--from", "onnx", m, "--tokenizer", m, "-o", temp_dir() + "/y.gguf"}, 2, "not supported"},
      {{"convert", "--from", "llama2c", m, "--tokenizer", m, "--type", "q4_K", "-o", temp_dir() + "/y.gguf"}, 2,
       "not supported"},
  };
  for (const BadCase& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    CliResult r = run_cli(c.args);
    EXPECT_EQ(r.code, c.code) << joined << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("edgellm: error: ", 0), 0u) << joined << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << joined << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << joined << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << joined << "\n" << r.out;
  }
}

TEST(Cli, SynthThenInspectShowsTensorsAndTotals) {
  const std::string m = tiny_model();
  CliResult r = run_cli({"inspect", m});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"general.architecture", "\"llama\"", "llama.block_count", "token_embd.weight",
                        "blk.3.ffn_down.weight", "output.weight", "[STRING x 2048]", "totals: 39 tensors",
                        "4196608 params"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  }
  CliResult j = run_cli({"inspect", m, "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  const nlohmann::json doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["metadata"]["general.architecture"], "llama");
  EXPECT_EQ(doc["metadata"]["tokenizer.ggml.tokens"]["count"], 2048);
  EXPECT_EQ(doc["metadata"]["tokenizer.ggml.tokens"]["items"].size(), 5u);
  EXPECT_EQ(doc["tensors"].size(), 39u);
  EXPECT_EQ(doc["totals"]["params"], 4196608);
  EXPECT_EQ(doc["totals"]["by_type"]["q8_0"]["tensors"], 30);
  EXPECT_EQ(doc["totals"]["by_type"]["f32"]["tensors"], 9);
  uint64_t bytes = 0;
  for (const auto& t : doc["tensors"]) bytes += t["bytes"].get<uint64_t>();
  EXPECT_EQ(doc["totals"]["bytes"].get<uint64_t>(), bytes);
}

TEST(Cli, InspectWorksOnVocabOnlyFiles) {
  EL_REQUIRE_SHARED("testdata/vocab/ggml-vocab-llama-spm.gguf");
  CliResult r = run_cli({"inspect", shared_path("testdata/vocab/ggml-vocab-llama-spm.gguf")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("tokenizer.ggml.tokens"), std::string::npos);
  EXPECT_NE(r.out.find("totals: 0 tensors"), std::string::npos) << r.out;
}

TEST(Cli, ConvertLlama2cThenRunGreedy) {
  EL_REQUIRE_SHARED("testdata/llama2c/aidreams260K.bin");
  const std::string out = temp_dir() + "/aidreams.gguf";
  CliResult c = run_cli({"convert", "--from", "llama2c", shared_path("testdata/llama2c/aidreams260K.bin"),
                         "--tokenizer", shared_path("testdata/llama2c/tok512.bin"), "-o", out});
  ASSERT_EQ(c.code, 0) << c.err;
  CliResult r = run_cli({"run", "-m", out, "--temp", "0", "-n", "20", "-p", "The robot", "-t", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("The robotic whispers secrets", 0), 0u) << r.out;
  for (const char* s : {"load:", "prompt:", "decode:", "tok/s", "time to first token:", "peak RSS:"}) {
    EXPECT_NE(r.err.find(s), std::string::npos) << s << "\n" << r.err;
  }
}

TEST(Cli, BenchWritesJson) {
  const std::string json_path = temp_dir() + "/bench.json";
  CliResult r = run_cli({"bench", "--preset", "tiny", "--type", "q4_0", "-p", "16", "-n", "8", "--reps", "1",
                         "-t", "1", "--quick-probe", "--json", json_path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| pp16 tg8 |"), std::string::npos) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_file(json_path));
  ASSERT_EQ(j["runs"].size(), 1u);
  const nlohmann::json& run = j["runs"][0];
  EXPECT_EQ(run["n_prompt"], 16);
  EXPECT_EQ(run["n_gen"], 8);
  EXPECT_EQ(run["threads"], 1);
  EXPECT_EQ(run["type"], "q4_0");
  EXPECT_GT(run["prompt_tokens_per_s"]["mean"].get<double>(), 0.0);
  EXPECT_GT(run["decode_tokens_per_s"]["mean"].get<double>(), 0.0);
  EXPECT_GT(run["ttft_ms"]["mean"].get<double>(), 0.0);
  EXPECT_GT(run["peak_rss_bytes"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace edgellm::test
