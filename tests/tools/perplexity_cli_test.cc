// edgellm perplexity end to end on a tiny synth model: the text report and JSON, a saved reference compared
// with itself (zero KLD) and with a quantized model, and the argument and file errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "model/presets.h"
#include "model/synth.h"
#include "test_util.h"

namespace edgellm::test {
namespace {

using ::testing::HasSubstr;

// A tiny F32 synth model and a text of a few hundred tokens, made once per process.
struct Fixture {
  std::string model, text;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    x.model = temp_dir() + "/ppl_tiny_f32.gguf";
    auto w = synthesize(*find_preset("tiny"), GgmlType::F32);
    EXPECT_TRUE(w.is_ok());
    EXPECT_TRUE(w->write_file(x.model).is_ok());
    x.text = temp_dir() + "/ppl_text.txt";
    std::ofstream t(x.text);
    for (int i = 0; i < 40; ++i) t << "The robot dreams of number " << i << " and of soft blue light. ";
    return x;
  }();
  return f;
}

nlohmann::json run_json(const std::vector<std::string>& extra, const std::string& model = fixture().model) {
  std::vector<std::string> args = {"perplexity", "-m", model,      "-f", fixture().text, "-c", "32",
                                   "-t",         "1",  "--chunks", "3",  "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = run_cli(args);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json{};
}

TEST(PerplexityCli, PrintsRunningAndFinalPpl) {
  const CliResult r = run_cli(
      {"perplexity", "-m", fixture().model, "-f", fixture().text, "-c", "32", "-b", "8", "-t", "1", "--chunks", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("[1/2] PPL "));
  EXPECT_THAT(r.err, HasSubstr("[2/2] PPL "));
  EXPECT_THAT(r.out, HasSubstr("over 30 predictions in 2 chunks of 32"));  // 2 x (32 - 1 - 16)
}

TEST(PerplexityCli, SelfKldIsZeroAndQuantizedKldIsNot) {
  const std::string base = temp_dir() + "/ppl_base.elp";
  const nlohmann::json ref = run_json({"--save-logits", base});
  ASSERT_TRUE(ref.contains("ppl"));
  EXPECT_GT(ref["ppl"].get<double>(), 1.0);
  EXPECT_EQ(ref["chunks"], 3);
  EXPECT_EQ(ref["scored"], 45);

  const nlohmann::json self = run_json({"--kld-base", base});
  ASSERT_TRUE(self.contains("kld"));
  EXPECT_NEAR(self["kld"]["mean"].get<double>(), 0.0, 1e-9);
  EXPECT_EQ(self["kld"]["top1_percent"].get<double>(), 100.0);
  EXPECT_NEAR(self["kld"]["ppl_ratio"].get<double>(), 1.0, 1e-9);

  const std::string q = temp_dir() + "/ppl_tiny_q4_0.gguf";
  ASSERT_EQ(run_cli({"quantize", fixture().model, q, "--type", "q4_0"}).code, 0);
  const CliResult r = run_cli(
      {"perplexity", "-m", q, "-f", fixture().text, "-c", "32", "-t", "1", "--chunks", "3", "--kld-base", base});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("KLD mean  = "));
  EXPECT_THAT(r.out, HasSubstr("top-1 agreement"));
  EXPECT_THAT(r.out, HasSubstr("PPL ratio"));
  const nlohmann::json qj = run_json({"--kld-base", base}, q);
  EXPECT_GT(qj["kld"]["mean"].get<double>(), 1e-5);
  EXPECT_GE(qj["kld"]["max"].get<double>(), qj["kld"]["median"].get<double>());
}

TEST(PerplexityCli, ErrorsNameTheProblem) {
  const Fixture& f = fixture();
  const auto err = [&](std::vector<std::string> extra, int code, const std::string& text = fixture().text) {
    std::vector<std::string> args = {"perplexity", "-m", f.model, "-f", text, "-t", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.code, code) << r.err;
    return r.err;
  };
  EXPECT_THAT(err({"-c", "2"}, 2), HasSubstr("--ctx"));
  EXPECT_THAT(err({"-c", "32", "--stride", "32"}, 2), HasSubstr("--stride"));
  EXPECT_THAT(err({"-c", "100000"}, 1), HasSubstr("fewer than one window of 100000"));
  EXPECT_THAT(err({}, 2, temp_dir() + "/nope.txt"), HasSubstr("nope.txt"));
  const std::string junk = temp_dir() + "/junk.elp";
  std::ofstream(junk) << "not a logits file at all, just text that is long enough";
  EXPECT_THAT(err({"-c", "32", "--kld-base", junk}, 1), HasSubstr("not a valid edgellm log-probability file"));
  const std::string base = temp_dir() + "/ppl_ctx32.elp";
  run_json({"--save-logits", base});
  EXPECT_THAT(err({"-c", "64", "--chunks", "3", "--kld-base", base}, 1), HasSubstr("context (--ctx) differs: 32"));
  EXPECT_THAT(err({"-c", "32", "--kld-base", base}, 1), HasSubstr("number of chunks"));
  EXPECT_THAT(err({"--save-logits", base, "--kld-base", base}, 2), HasSubstr("the same file"));
  EXPECT_THAT(run_cli({"perplexity", "--help"}).out, HasSubstr("second half"));
}

}  // namespace
}  // namespace edgellm::test
