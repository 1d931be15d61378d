// bench --compare's side-by-side table and JSON on fake runs (bandwidth bookkeeping, ratios, n/a for a peer that
// could not run the model), and the one-invocation comparison script end to end on tiny synth models with the
// llama.cpp peer (skipped loudly without it; CI has it).
#include "bench_compare.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"

namespace edgellm::cli {
namespace {

Summary mean_of(double v) {
  Summary s;
  s.n = 3;
  s.mean = v;
  return s;
}

// 600 MB per token; edgellm 40 tok/s decode = 24 GB/s against a 40 GB/s mean (38 before, 42 after) = 60 %.
BenchRun fake_run(bool peer_runs) {
  BenchRun r;
  r.model = "/tmp/m-q4_0.gguf";
  r.type = "q4_0";
  r.threads = 2;
  r.n_prompt = 512;
  r.n_gen = 128;
  r.bytes_per_token = 600e6;
  r.prompt_tps = mean_of(300);
  r.decode_tps = mean_of(40);
  r.bandwidth = BandwidthBracket{38, 42};
  PeerRun p;
  if (peer_runs) {
    p.prompt_tps = mean_of(200);
    p.decode_tps = mean_of(25);
    p.bandwidth = BandwidthBracket{30, 0};  // the after-measurement failed: the before figure alone counts
  } else {
    p.unavailable = "unknown model architecture or tensor type 1026";
  }
  r.peer = p;
  return r;
}

TEST(BenchCompare, BandwidthBracketMeansTheFiguresItHas) {
  EXPECT_DOUBLE_EQ((BandwidthBracket{38, 42}.mean_gbs()), 40.0);
  EXPECT_DOUBLE_EQ((BandwidthBracket{0, 42}.mean_gbs()), 42.0);
  EXPECT_DOUBLE_EQ((BandwidthBracket{30, 0}.mean_gbs()), 30.0);
  EXPECT_DOUBLE_EQ((BandwidthBracket{0, 0}.mean_gbs()), 0.0);
}

TEST(BenchCompare, RowComputesBytesPerSecondAgainstEachEnginesOwnBandwidth) {
  const CompareRow r = compare_row(fake_run(true));
  EXPECT_EQ(r.test, "pp512 tg128");
  EXPECT_DOUBLE_EQ(r.mb_per_token, 600.0);
  ASSERT_TRUE(r.ours.available);
  ASSERT_TRUE(r.peer.available);
  EXPECT_DOUBLE_EQ(r.ours.decode_gbs, 24.0);
  EXPECT_DOUBLE_EQ(r.ours.bandwidth_gbs, 40.0);
  EXPECT_DOUBLE_EQ(r.ours.bandwidth_share, 0.6);
  EXPECT_DOUBLE_EQ(r.peer.decode_gbs, 15.0);
  EXPECT_DOUBLE_EQ(r.peer.bandwidth_gbs, 30.0);
  EXPECT_DOUBLE_EQ(r.peer.bandwidth_share, 0.5);
}

std::string markdown(const std::vector<BenchRun>& runs) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  write_compare_markdown(runs, f);
  std::fclose(f);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

TEST(BenchCompare, MarkdownRowShowsRatiosGigabytesAndBrackets) {
  const std::string md = markdown({fake_run(true)});
  EXPECT_NE(md.find("| model | type | MB/token | threads | test | edgellm prompt | llama.cpp prompt | ratio |"),
            std::string::npos)
      << md;
  EXPECT_NE(
      md.find("| m-q4_0 | q4_0 | 600 | 2 | pp512 tg128 | 300.0 | 200.0 | 1.50 | 40.0 | 25.0 | 1.60 | 24.0 (60 %) | "
              "15.0 (50 %) | 38.0→42.0; 30.0→0.0 |"),
      std::string::npos)
      << md;
  EXPECT_NE(md.find("ratio = edgellm / llama.cpp"), std::string::npos);
  EXPECT_EQ(md.find("n/a for"), std::string::npos) << md;
}

TEST(BenchCompare, PeerThatCannotRunTheModelIsNotApplicableWithItsReason) {
  const std::string md = markdown({fake_run(false), fake_run(false)});
  EXPECT_NE(
      md.find("| m-q4_0 | q4_0 | 600 | 2 | pp512 tg128 | 300.0 | n/a | n/a | 40.0 | n/a | n/a | 24.0 (60 %) | n/a | "
              "38.0→42.0; n/a |"),
      std::string::npos)
      << md;
  // One note per model, not per row.
  const std::string note =
      "- llama.cpp n/a for /tmp/m-q4_0.gguf (q4_0): unknown model architecture or tensor type 1026";
  const size_t at = md.find(note);
  ASSERT_NE(at, std::string::npos) << md;
  EXPECT_EQ(md.find(note, at + 1), std::string::npos) << md;
}

TEST(BenchCompare, DecodeOnlyRunsLeaveThePromptColumnsEmpty) {
  BenchRun r = fake_run(true);
  r.n_prompt = 0;
  const std::string md = markdown({r});
  EXPECT_NE(md.find("| m-q4_0 | q4_0 | 600 | 2 | tg128 | - | - | - | 40.0 | 25.0 | 1.60 |"), std::string::npos) << md;
  const nlohmann::json j = compare_json(r);
  EXPECT_TRUE(j["prompt_ratio"].is_null());
  EXPECT_TRUE(j["edgellm"]["prompt_tokens_per_s"].is_null());
}

TEST(BenchCompare, RunsWithoutAPeerPrintNothing) {
  BenchRun r = fake_run(true);
  r.peer.reset();
  EXPECT_EQ(markdown({r}), "");
}

TEST(BenchCompare, JsonCarriesBothEnginesBracketsAndRatios) {
  const nlohmann::json j = compare_json(fake_run(true));
  EXPECT_DOUBLE_EQ(j["bytes_per_token"].get<double>(), 600e6);
  EXPECT_DOUBLE_EQ(j["prompt_ratio"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["decode_ratio"].get<double>(), 1.6);
  EXPECT_DOUBLE_EQ(j["edgellm"]["decode_gb_per_s"].get<double>(), 24.0);
  EXPECT_DOUBLE_EQ(j["edgellm"]["bandwidth_share"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(j["llamacpp"]["bandwidth_share"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["edgellm_bandwidth"]["before_gb_per_s"].get<double>(), 38.0);
  EXPECT_DOUBLE_EQ(j["edgellm_bandwidth"]["after_gb_per_s"].get<double>(), 42.0);
  EXPECT_DOUBLE_EQ(j["edgellm_bandwidth"]["mean_gb_per_s"].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(j["llamacpp_bandwidth"]["mean_gb_per_s"].get<double>(), 30.0);
  EXPECT_TRUE(j["llamacpp_unavailable"].is_null());

  const nlohmann::json n = compare_json(fake_run(false));
  EXPECT_TRUE(n["llamacpp"].is_null());
  EXPECT_TRUE(n["decode_ratio"].is_null());
  EXPECT_EQ(n["llamacpp_unavailable"], "unknown model architecture or tensor type 1026");
}

// The script end to end: tiny preset, one type llama.cpp reads and one it refuses, both engines in one run.
bool peer_dir(std::string* dir) {
  const char* env = std::getenv("EDGELLM_PEER_DIR");
  const char* home = std::getenv("HOME");
  *dir =
      env != nullptr && *env != '\0' ? env : std::string(home != nullptr ? home : "/root") + "/.cache/edgellm/llamacpp";
  return std::ifstream(*dir + "/node_modules/node-llama-cpp/package.json").good();
}

TEST(BenchCompare, ScriptComparesCachedSynthModelsInOneRun) {
  std::string dir;
  if (!peer_dir(&dir)) {
    const char* req = std::getenv("EDGELLM_REQUIRE_PEER");
    if (req != nullptr && std::string(req) == "1") FAIL() << "llama.cpp peer not installed in " << dir;
    GTEST_SKIP() << "SKIPPED LOUDLY: llama.cpp peer not found in " << dir << "; run scripts/peer-install.sh";
  }
  const std::string tmp = test::temp_dir() + "/compare", json = tmp + "/c.json", out = tmp + "/out.txt";
  std::filesystem::create_directories(tmp);
  const std::string cmd = std::string(EDGELLM_SOURCE_DIR) + "/scripts/compare-llamacpp.sh --edgellm " +
                          test::cli_path() + " --cache " + tmp + " --preset tiny --types q8_0,elq4_g32 --json " + json +
                          " -- -p 8 -n 4 --reps 1 -t 1 --quick-probe --busy-limit 100 > " + out + " 2> " + tmp +
                          "/err.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << test::read_file(tmp + "/err.txt");
  const std::string md = test::read_file(out);
  EXPECT_NE(md.find("| tiny-v32000-q8_0 | q8_0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| tiny-v32000-elq4_g32 |"), std::string::npos) << md;
  EXPECT_NE(md.find("llama.cpp n/a for " + tmp + "/tiny-v32000-elq4_g32.gguf"), std::string::npos) << md;
  const nlohmann::json j = nlohmann::json::parse(test::read_file(json));
  ASSERT_EQ(j["runs"].size(), 2u) << j.dump();
  const nlohmann::json& q8 = j["runs"][0]["compare"];
  ASSERT_TRUE(q8["llamacpp"].is_object()) << q8.dump();
  EXPECT_GT(q8["llamacpp"]["decode_tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(q8["edgellm_bandwidth"]["before_gb_per_s"].get<double>(), 0.1);
  EXPECT_GT(q8["edgellm_bandwidth"]["after_gb_per_s"].get<double>(), 0.1);
  EXPECT_GT(q8["llamacpp_bandwidth"]["mean_gb_per_s"].get<double>(), 0.1);
  EXPECT_GT(q8["decode_ratio"].get<double>(), 0.0);
  const nlohmann::json& elq = j["runs"][1]["compare"];
  EXPECT_TRUE(elq["llamacpp"].is_null()) << elq.dump();
  ASSERT_TRUE(elq["llamacpp_unavailable"].is_string());
  // The peer's own message (node prints it as "Error: ..."), not the last line of its stack trace.
  EXPECT_NE(elq["llamacpp_unavailable"].get<std::string>().find("Error: "), std::string::npos) << elq.dump();
  EXPECT_GT(elq["edgellm"]["decode_tokens_per_s"].get<double>(), 0.0);
  // Cached by name: a second invocation reuses the files (here it then stops at a bad bench flag, exit 2).
  const std::string again = std::string(EDGELLM_SOURCE_DIR) + "/scripts/compare-llamacpp.sh --edgellm " +
                            test::cli_path() + " --cache " + tmp + " --preset tiny --types q8_0,elq4_g32 -- " +
                            "--no-such-flag > /dev/null 2> " + tmp + "/err2.txt";
  EXPECT_NE(std::system(again.c_str()), 0);
  const std::string err2 = test::read_file(tmp + "/err2.txt");
  EXPECT_EQ(err2.find("compare-llamacpp: synthesizing"), std::string::npos) << err2;
  EXPECT_EQ(err2.find("compare-llamacpp: quantizing"), std::string::npos) << err2;
  EXPECT_NE(err2.find("--no-such-flag"), std::string::npos) << err2;
}

}  // namespace
}  // namespace edgellm::cli
