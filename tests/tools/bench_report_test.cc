// edgellm bench reports: the JSON schema (docs/bench-json.md) on a tiny-preset run, the CSV header,
// the HTML report parsed as XML with its SVG plots, grids, sustained mode, --predict, and bad lists.
#include <expat.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace edgellm::test {
namespace {

// The tiny-preset run the brief names, once for the JSON, CSV and HTML tests.
struct TinyRun {
  CliResult r;
  nlohmann::json json;
  std::string csv, html;
};
const TinyRun& tiny_run() {
  static const TinyRun run = [] {
    TinyRun t;
    const std::string d = temp_dir();
    t.r = run_cli({"bench",
                   "--preset",
                   "tiny",
                   "--type",
                   "q8_0",
                   "-p",
                   "16",
                   "-n",
                   "8",
                   "--reps",
                   "1",
                   "--quick-probe",
                   "--json",
                   d + "/t.json",
                   "--csv",
                   d + "/t.csv",
                   "--html",
                   d + "/t.html",
                   "--grid-intensity",
                   "300"});
    if (t.r.code == 0) t.json = nlohmann::json::parse(read_file(d + "/t.json"));
    t.csv = read_file(d + "/t.csv");
    t.html = read_file(d + "/t.html");
    return t;
  }();
  return run;
}

void expect_mean_sd(const nlohmann::json& j, const std::string& what) {
  ASSERT_TRUE(j.is_object()) << what;
  ASSERT_TRUE(j["mean"].is_number()) << what;
  ASSERT_TRUE(j["sd"].is_number()) << what;
  EXPECT_GT(j["mean"].get<double>(), 0.0) << what;
  EXPECT_GE(j["sd"].get<double>(), 0.0) << what;
}

TEST(BenchReport, JsonFollowsTheSchema) {
  const TinyRun& t = tiny_run();
  ASSERT_EQ(t.r.code, 0) << t.r.err;
  const nlohmann::json& j = t.json;
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_TRUE(j["created_utc"].is_string());
  ASSERT_TRUE(j["machine"].is_object());
  EXPECT_TRUE(j["machine"]["cpu_model"].is_string());
  EXPECT_GT(j["machine"]["n_threads_logical"].get<int>(), 0);
  EXPECT_GT(j["machine"]["mem_read_gbs_1t"].get<double>(), 0.0);
  EXPECT_EQ(j["grid_intensity_g_per_kwh"], 300.0);
  ASSERT_TRUE(j["runs"].is_array());
  ASSERT_EQ(j["runs"].size(), 1u);
  const nlohmann::json& r = j["runs"][0];
  EXPECT_EQ(r["model"], "tiny");
  EXPECT_EQ(r["type"], "q8_0");
  EXPECT_TRUE(r["threads"].is_number_integer());
  EXPECT_GT(r["threads"].get<int>(), 0);
  EXPECT_EQ(r["n_prompt"], 16);
  EXPECT_EQ(r["n_gen"], 8);
  EXPECT_EQ(r["reps"], 1);
  expect_mean_sd(r["prompt_tokens_per_s"], "prompt_tokens_per_s");
  expect_mean_sd(r["decode_tokens_per_s"], "decode_tokens_per_s");
  expect_mean_sd(r["ttft_ms"], "ttft_ms");
  const nlohmann::json& lat = r["token_latency_ms"];
  ASSERT_TRUE(lat.is_object());
  EXPECT_GT(lat["p50"].get<double>(), 0.0);
  EXPECT_LE(lat["p50"].get<double>(), lat["p90"].get<double>());
  EXPECT_LE(lat["p90"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["max"].get<double>());
  EXPECT_EQ(r["latency_trace_ms"].size(), 8u);
  EXPECT_TRUE(r["peak_rss_bytes"].is_number_unsigned());
  EXPECT_GT(r["peak_rss_bytes"].get<uint64_t>(), 0u);
  EXPECT_GT(r["bytes_per_token"].get<double>(), 1e6);  // the tiny q8_0 model's weights are ~4.5 MB
  EXPECT_TRUE(r["roofline_fraction"].is_number());
  EXPECT_GE(r["roofline_fraction"].get<double>(), 0.0);
  EXPECT_GT(r["energy_j"].get<double>(), 0.0);
  ASSERT_TRUE(r["energy_estimated"].is_boolean());
  EXPECT_EQ(r["energy"]["decode"]["estimated"], r["energy_estimated"]);
  EXPECT_GT(r["co2e_g"].get<double>(), 0.0);
  // 300 g/kWh: grams = joules / 3.6e6 * 300.
  EXPECT_NEAR(r["co2e_g"].get<double>(), r["energy_j"].get<double>() / 3.6e6 * 300, 1e-12);
  ASSERT_TRUE(r["prediction"].is_object());
  EXPECT_GT(r["prediction"]["decode_tokens_per_s"].get<double>(), 0.0);
  const double measured = r["decode_tokens_per_s"]["mean"].get<double>();
  const double predicted = r["prediction"]["decode_tokens_per_s"].get<double>();
  EXPECT_NEAR(r["prediction_error_pct"]["decode"].get<double>(), 100 * (predicted - measured) / measured, 1e-6);
  // stdout: the markdown table with one row for the run.
  EXPECT_NE(t.r.out.find("| tiny | q8_0 |"), std::string::npos) << t.r.out;
  EXPECT_NE(t.r.out.find("pp16 tg8"), std::string::npos) << t.r.out;
}

TEST(BenchReport, CsvHasTheHeaderAndOneRowPerRun) {
  const TinyRun& t = tiny_run();
  ASSERT_EQ(t.r.code, 0) << t.r.err;
  std::istringstream in(t.csv);
  std::string header, row, extra;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(header,
            "model,type,threads,n_prompt,n_gen,reps,prompt_tps_mean,prompt_tps_sd,decode_tps_mean,decode_tps_sd,"
            "ttft_ms_mean,ttft_ms_sd,latency_ms_p50,latency_ms_p90,latency_ms_p99,latency_ms_max,load_s,"
            "peak_rss_bytes,bytes_per_token,roofline_fraction,energy_j,energy_estimated,co2e_g,predicted_prompt_tps,"
            "predicted_decode_tps,peer_prompt_tps,peer_decode_tps");
  EXPECT_EQ(std::count(row.begin(), row.end(), ','), std::count(header.begin(), header.end(), ','));
  EXPECT_EQ(row.rfind("tiny,q8_0,", 0), 0u) << row;
}

// Expat callbacks: count elements by name and collect character data.
struct XmlStats {
  std::map<std::string, int> elements;
  std::string text;
};

TEST(BenchReport, HtmlIsWellFormedXmlWithSvgPlots) {
  const TinyRun& t = tiny_run();
  ASSERT_EQ(t.r.code, 0) << t.r.err;
  XmlStats stats;
  XML_Parser p = XML_ParserCreateNS(nullptr, ' ');
  XML_SetUserData(p, &stats);
  XML_SetElementHandler(
      p,
      [](void* ud, const XML_Char* name, const XML_Char**) {
        // Namespaced names arrive as "URI local"; keep the local part.
        std::string n = name;
        static_cast<XmlStats*>(ud)->elements[n.substr(n.rfind(' ') + 1)]++;
      },
      [](void*, const XML_Char*) {});
  XML_SetCharacterDataHandler(p, [](void* ud, const XML_Char* s, int len) {
    static_cast<XmlStats*>(ud)->text.append(s, static_cast<size_t>(len));
  });
  const XML_Status st = XML_Parse(p, t.html.data(), static_cast<int>(t.html.size()), XML_TRUE);
  EXPECT_EQ(st, XML_STATUS_OK) << "line " << XML_GetCurrentLineNumber(p) << ": "
                               << XML_ErrorString(XML_GetErrorCode(p));
  XML_ParserFree(p);
  EXPECT_GE(stats.elements["svg"], 3);  // prompt bars, decode bars, latency lines
  EXPECT_GE(stats.elements["rect"], 2);
  EXPECT_GE(stats.elements["polyline"], 1);
  EXPECT_EQ(stats.elements["script"], 0);
  EXPECT_NE(stats.text.find("estimated"), std::string::npos);  // energy is estimated on this kind of VM
  EXPECT_NE(stats.text.find("cpu_model"), std::string::npos);  // the machine table
  // Nothing is fetched: no external sources or links (the xmlns URIs are names, not fetches).
  EXPECT_EQ(t.html.find("src="), std::string::npos);
  EXPECT_EQ(t.html.find("href="), std::string::npos);
}

TEST(BenchReport, GridProducesOneRunPerCombination) {
  const std::string json = temp_dir() + "/grid.json";
  CliResult r = run_cli({"bench", "--preset", "tiny", "--type", "q8_0,q4_0", "-t", "1,2", "-p", "8,0", "-n", "4",
                         "--reps", "1", "--quick-probe", "--json", json});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  ASSERT_EQ(j["runs"].size(), 8u);
  std::set<std::string> combos;
  for (const auto& run : j["runs"]) {
    combos.insert(run["type"].get<std::string>() + "/" + std::to_string(run["threads"].get<int>()) + "/" +
                  std::to_string(run["n_prompt"].get<int>()));
    if (run["n_prompt"] == 0) {
      EXPECT_TRUE(run["prompt_tokens_per_s"].is_null());  // -p 0: decode alone
      expect_mean_sd(run["decode_tokens_per_s"], "tg-only decode");
    }
  }
  EXPECT_EQ(combos.size(), 8u);
  // No TTY in tests: progress is plain lines, no carriage returns.
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_NE(r.err.find("bench: [8/16]"), std::string::npos) << r.err;
}

TEST(BenchReport, SustainedModeRecordsTokensPerSecondOverTime) {
  const std::string json = temp_dir() + "/sustained.json", html = temp_dir() + "/sustained.html";
  CliResult r = run_cli({"bench", "--preset", "tiny", "--type", "q8_0", "-t", "1", "-p", "8", "-n", "8", "--duration",
                         "1s", "--quick-probe", "--json", json, "--html", html});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["duration_s"], 1.0);
  // Structure and consistency only, so a loaded machine cannot fail it: one point per repetition, in time order,
  // repeating exactly until the duration (every point but the last before 1 s, the last at or past it: a first
  // repetition shorter than 1 s implies a second point), and the run's decode figure is the timeline's mean.
  const nlohmann::json& run = j["runs"][0];
  const nlohmann::json& tl = run["timeline"];
  ASSERT_GE(tl.size(), 1u);
  EXPECT_EQ(run["reps"].get<size_t>(), tl.size());
  double sum_tps = 0;
  for (size_t i = 0; i < tl.size(); ++i) {
    const double t = tl[i]["t_s"].get<double>();
    if (i > 0) {
      EXPECT_GT(t, tl[i - 1]["t_s"].get<double>()) << "point " << i;
    }
    EXPECT_EQ(t < 1.0, i + 1 < tl.size()) << "point " << i << " of " << tl.size() << " at " << t << " s";
    const double tps = tl[i]["decode_tokens_per_s"].get<double>();
    EXPECT_GT(tps, 0.0) << "point " << i;
    EXPECT_GT(tl[i]["prompt_tokens_per_s"].get<double>(), 0.0) << "point " << i;
    sum_tps += tps;
  }
  EXPECT_NEAR(run["decode_tokens_per_s"]["mean"].get<double>(), sum_tps / static_cast<double>(tl.size()),
              1e-9 * sum_tps);
  EXPECT_NE(read_file(html).find("Sustained run"), std::string::npos);
}

TEST(BenchReport, PredictRunsNothingAndPrintsPredictions) {
  CliResult r = run_cli({"bench", "--predict", "--preset", "tiny", "--type", "q8_0,q4_0", "-p", "16", "-n", "8", "-t",
                         "1", "--quick-probe"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("predicted decode tok/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tiny | q8_0 | 1 | pp16 tg8 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tiny | q4_0 | 1 | pp16 tg8 |"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("synthesizing"), std::string::npos) << r.err;  // shapes only: nothing built or run
}

// bench --compare llamacpp on the tiny model: the peer runs the same file and prompt, and both appear
// side by side. --busy-limit 100 because shared CI machines are rarely idle; the refusal itself is
// the busy limit's job (it needs a busy machine, which a test cannot arrange reliably).
bool peer_installed(std::string* dir) {
  const char* env = std::getenv("EDGELLM_PEER_DIR");
  const char* home = std::getenv("HOME");
  *dir =
      env != nullptr && *env != '\0' ? env : std::string(home != nullptr ? home : "/root") + "/.cache/edgellm/llamacpp";
  return std::ifstream(*dir + "/node_modules/node-llama-cpp/package.json").good();
}

bool peer_required() {
  const char* env = std::getenv("EDGELLM_REQUIRE_PEER");
  return env != nullptr && std::string(env) == "1";
}

TEST(BenchReport, CompareLlamaCppReportsBothAndTheRatio) {
  std::string dir;
  if (!peer_installed(&dir)) {
    if (peer_required()) FAIL() << "llama.cpp peer not installed in " << dir << " (scripts/peer-install.sh)";
    GTEST_SKIP() << "SKIPPED LOUDLY: llama.cpp peer not found in " << dir << "; run scripts/peer-install.sh";
  }
  const std::string json = temp_dir() + "/compare.json";
  CliResult r = run_cli({"bench",     "--preset", "tiny",         "--type", "q8_0",   "-t", "1",
                         "-p",        "16",       "-n",           "8",      "--reps", "1",  "--quick-probe",
                         "--compare", "llamacpp", "--busy-limit", "100",    "--json", json});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("llama.cpp decode"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ratio = edgellm / llama.cpp"), std::string::npos) << r.out;
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  const nlohmann::json& peer = j["runs"][0]["peer"];
  ASSERT_TRUE(peer.is_object()) << j.dump();
  EXPECT_GT(peer["prompt_tokens_per_s"]["mean"].get<double>(), 0.0);
  EXPECT_GT(peer["decode_tokens_per_s"]["mean"].get<double>(), 0.0);
  EXPECT_GE(peer["other_cpu_share"].get<double>(), 0.0);
}

// A comparison on a busy machine is measured again and then withheld, not aborted: the run finishes, the
// reports keep edgellm's numbers with the reason in the peer's place, and the exit status says so. A busy loop
// of our own makes the machine busy for certain.
TEST(BenchReport, BusyComparisonIsWithheldNotLost) {
  std::string dir;
  if (!peer_installed(&dir)) {
    if (peer_required()) FAIL() << "llama.cpp peer not installed in " << dir << " (scripts/peer-install.sh)";
    GTEST_SKIP() << "SKIPPED LOUDLY: llama.cpp peer not found in " << dir << "; run scripts/peer-install.sh";
  }
  const pid_t spinner = fork();
  ASSERT_GE(spinner, 0);
  if (spinner == 0) {
    alarm(120);                              // never outlives a crashed test
    for (;;) asm volatile("" ::: "memory");  // spin: a side effect the compiler keeps
  }
  const std::string json = temp_dir() + "/busy.json";
  // Long enough (~0.5 s per engine) for the CPU-time counters (10 ms ticks) to see the spinner.
  CliResult r = run_cli({"bench",     "--preset", "tiny",         "--type", "q8_0",   "-t", "1",
                         "-p",        "64",       "-n",           "256",    "--reps", "1",  "--quick-probe",
                         "--compare", "llamacpp", "--busy-limit", "2",      "--json", json});
  kill(spinner, SIGKILL);
  waitpid(spinner, nullptr, 0);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("measuring"), std::string::npos) << r.err;  // it tried again first
  EXPECT_NE(r.err.find("withheld"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("| tiny | q8_0 | 1 |"), std::string::npos) << r.out;  // edgellm's row is kept
  const nlohmann::json j = nlohmann::json::parse(read_file(json));
  ASSERT_EQ(j["runs"].size(), 1u) << j.dump();
  EXPECT_GT(j["runs"][0]["decode_tokens_per_s"]["mean"].get<double>(), 0.0) << j.dump();
  EXPECT_NE(j.dump().find("withheld"), std::string::npos) << j.dump();
}

TEST(BenchReport, CompareWithoutThePeerSaysHowToInstallIt) {
  const std::string empty = temp_dir() + "/no-peer";
  std::filesystem::create_directories(empty);
  setenv("EDGELLM_PEER_DIR", empty.c_str(), 1);
  CliResult r = run_cli({"bench", "--preset", "tiny", "--type", "q8_0", "-p", "8", "-n", "4", "--reps", "1",
                         "--quick-probe", "--compare", "llamacpp"});
  unsetenv("EDGELLM_PEER_DIR");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("scripts/peer-install.sh"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

struct BadList {
  std::vector<std::string> args;
  std::string message;
};

TEST(BenchReport, BadListsAreRejectedWithOneClearLine) {
  const std::vector<BadList> cases = {
      {{"-t", "0,2"}, "-t 0 is out of range: threads must be between 1 and 512"},
      {{"-p", "x"}, "-p 'x' is not a whole number"},
      {{"-p", "16,abc"}, "-p 'abc' is not a whole number"},
      {{"-n", "8,-1"}, "-n -1 is out of range"},
      {{"-t", "1,,2"}, "empty item"},
      {{"--type", "q4_0,q9_9"}, "unknown or unsupported type 'q9_9'"},
      {{"-p", "0", "-n", "0"}, "measures nothing"},
      {{"--duration", "10x"}, "--duration '10x' is not a duration"},
      {{"--compare", "vllm"}, "the only peer is 'llamacpp'"},
      {{"--grid-intensity", "-5"}, "--grid-intensity -5 is out of range"},
      {{"--busy-limit", "150"}, "--busy-limit 150 is out of range"},
  };
  for (const BadList& c : cases) {
    std::vector<std::string> args = {"bench", "--preset", "tiny", "--quick-probe"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CliResult r = run_cli(args);
    EXPECT_EQ(r.code, 2) << c.message << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace edgellm::test
