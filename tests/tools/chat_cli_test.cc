// End-to-end tests of `edgellm template`, `edgellm chat` through a pipe and `edgellm run --chat`, on a tiny
// synthesized model that carries a chat template: structure (turns, KV reuse counts, /save and /load), not
// text quality.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "edgellm/edgellm.h"
#include "format/gguf.h"
#include "model/presets.h"
#include "model/synth.h"
#include "test_util.h"

namespace edgellm {
namespace {

using test::CliResult;
using test::read_file;
using test::run_cli;

using test::cli_path;
using test::temp_dir;

constexpr const char* kTemplate =
    "{% for m in messages %}{{ bos_token if loop.first }}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}";

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string make_model(bool with_template) {
  const std::string path = temp_dir() + (with_template ? "/chat_tiny.gguf" : "/chat_tiny_plain.gguf");
  Result<GgufWriter> w = synthesize(*find_preset("tiny"), GgmlType::Q8_0);
  EXPECT_TRUE(w.is_ok());
  if (with_template) w->set("tokenizer.chat_template", GgufValue::of_string(kTemplate));
  EXPECT_TRUE(w->write_file(path).is_ok());
  return path;
}

const std::string& chat_model() {
  static const std::string path = make_model(true);
  return path;
}

// The (total, reused, prefilled) counts of each "chat: prompt ..." line on stderr.
std::vector<std::array<int, 3>> prompt_counts(const std::string& err) {
  std::vector<std::array<int, 3>> out;
  static const std::regex re(R"(chat: prompt (\d+) tokens, (\d+) reused from the KV cache, (\d+) prefilled)");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back({std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3])});
  }
  return out;
}

TEST(TemplateCli, PrintsTheRendering) {
  const std::string msgs = temp_dir() + "/msgs.json";
  write_file(msgs, R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])");
  CliResult r = run_cli({"template", "-m", chat_model(), "--messages", msgs, "--add-generation-prompt"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "<s><|system|>Be brief.</s><|user|>Hi</s><|assistant|>");
  r = run_cli({"template", "-m", chat_model(), "--messages", msgs});
  EXPECT_EQ(r.out, "<s><|system|>Be brief.</s><|user|>Hi</s>");
  const std::string tmpl = temp_dir() + "/t.jinja";
  write_file(tmpl, "{% for m in messages %}[{{ m.role | upper }}]{% endfor %}\n");
  r = run_cli({"template", "-m", chat_model(), "--template", tmpl, "--messages", msgs});
  EXPECT_EQ(r.out, "[SYSTEM][USER]");
  write_file(tmpl, "ok\n{% for m in messages %}{{ m.role + 1 }}{% endfor %}");
  r = run_cli({"template", "-m", chat_model(), "--template", tmpl, "--messages", msgs});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("line 2, column"), std::string::npos) << r.err;
  write_file(msgs, "[{");
  r = run_cli({"template", "-m", chat_model(), "--messages", msgs});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("messages"), std::string::npos) << r.err;
}

TEST(ChatCli, PipeTurnsReuseTheKvCache) {
  CliResult r = run_cli({"chat", "-m", chat_model(), "-n", "0", "-c", "256", "-t", "1"}, "Hello there\n\nHow are you\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto counts = prompt_counts(r.err);
  ASSERT_EQ(counts.size(), 2u) << r.err;  // the empty line is not a turn
  EXPECT_EQ(counts[0][1], 0);
  EXPECT_EQ(counts[0][2], counts[0][0]);
  // The second rendering extends the first: everything from turn one is reused, only the new turn runs.
  EXPECT_EQ(counts[1][1], counts[0][0]);
  EXPECT_EQ(counts[1][2], counts[1][0] - counts[0][0]);
  EXPECT_GT(counts[1][2], 0);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);  // one (empty) reply line per turn
}

TEST(ChatCli, SaveResetLoadRoundTrips) {
  const std::string saved = temp_dir() + "/conv.json";
  CliResult r = run_cli({"chat", "-m", chat_model(), "-n", "4", "--temp", "0", "-c", "256", "-t", "1", "--system", "Sys"},
                     "Hi\n/save " + saved + "\n/reset\n/load " + saved + "\nMore\n/bogus\n");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto conv = nlohmann::json::parse(read_file(saved));
  ASSERT_EQ(conv.size(), 3u);
  EXPECT_EQ(conv[0]["role"], "system");
  EXPECT_EQ(conv[1]["content"], "Hi");
  EXPECT_EQ(conv[2]["role"], "assistant");
  EXPECT_NE(r.err.find("saved 3 messages"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("loaded 3 messages"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("commands are"), std::string::npos) << r.err;
  const auto counts = prompt_counts(r.err);
  ASSERT_EQ(counts.size(), 2u) << r.err;
  EXPECT_EQ(counts[1][1], 0);                 // /reset emptied the KV cache
  EXPECT_GT(counts[1][0], counts[0][0] + 2);  // the loaded conversation is in the new prompt
  Result<std::vector<ChatMessage>> back = Chat::messages_from_json(read_file(saved));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(Chat::messages_to_json(*back), read_file(saved));
}

TEST(ChatCli, ModelWithoutTemplateSuggestsTemplateFlag) {
  const std::string plain = make_model(false);
  CliResult r = run_cli({"chat", "-m", plain}, "Hi\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--template"), std::string::npos) << r.err;
  const std::string tmpl = temp_dir() + "/plain.jinja";
  write_file(tmpl, kTemplate);
  r = run_cli({"chat", "-m", plain, "--template", tmpl, "-n", "2", "-c", "128", "-t", "1"}, "Hi\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(prompt_counts(r.err).size(), 1u) << r.err;
}

TEST(RunCli, ChatFlagRendersThePromptAsAUserTurn) {
  CliResult r = run_cli(
      {"run", "-m", chat_model(), "--chat", "--system", "Sys", "-p", "Hi", "-n", "3", "--temp", "0", "-t", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  // "<s><|system|>Sys</s><|user|>Hi</s><|assistant|>" is many more tokens than the bare prompt.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(prompt: (\d+) tokens)"))) << r.err;
  EXPECT_GT(std::stoi(m[1]), 10);
  CliResult plain = run_cli({"run", "-m", chat_model(), "--system", "Sys", "-p", "Hi"});
  EXPECT_EQ(plain.code, 2);
  EXPECT_NE(plain.err.find("--system needs --chat"), std::string::npos) << plain.err;
}

}  // namespace
}  // namespace edgellm
