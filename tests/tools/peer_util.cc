#include "peer_util.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace edgellm::test {
namespace {

// Runs `cmd` through the shell and returns its stdout; `code` gets the exit status (-1 if it did not exit).
std::string run_shell(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *code = -1;
    return out;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// Parses one JSON line of greedy.mjs; false if it is not one.
bool parse_run(const std::string& line, PeerRun* r) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("tokens") || !j.contains("steps")) return false;
  try {
    for (const auto& t : j["tokens"]) r->tokens.push_back(t.get<int32_t>());
    for (const auto& s : j["steps"]) {
      PeerStep st;
      for (const auto& e : s["top"]) st.top.emplace_back(e[0].get<int32_t>(), e[1].get<float>());
      r->steps.push_back(std::move(st));
    }
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

}  // namespace

std::string peer_dir() {
  const char* env = std::getenv("EDGELLM_PEER_DIR");
  if (env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/root") + "/.cache/edgellm/llamacpp";
}

bool peer_required() {
  const char* env = std::getenv("EDGELLM_REQUIRE_PEER");
  return env != nullptr && std::string(env) == "1";
}

bool peer_installed(const std::string& dir) {
  return std::filesystem::exists(dir + "/node_modules/node-llama-cpp/package.json");
}

std::vector<PeerRun> run_peer_greedy(const std::string& dir, const std::vector<std::string>& models,
                                     const std::vector<int32_t>& prompt, int n_steps, int top_k, std::string* error) {
  const std::string script = dir + "/edgellm-greedy.mjs";
  std::error_code ec;
  std::filesystem::copy_file(std::string(EDGELLM_SOURCE_DIR) + "/tests/peer/greedy.mjs", script,
                             std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    *error = "cannot copy greedy.mjs to " + script + ": " + ec.message();
    return {};
  }
  std::string cmd = "node '" + script + "' --n " + std::to_string(n_steps) + " --threads 1 --top-k " +
                    std::to_string(top_k) + " --prompt ";
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (i > 0) cmd += ',';
    cmd += std::to_string(prompt[i]);
  }
  for (const std::string& m : models) cmd += " --model '" + m + "'";
  int code = 0;
  const std::string out = run_shell(cmd, &code);
  if (code != 0) {
    *error = "peer exited with status " + std::to_string(code) + ": " + cmd;
    return {};
  }
  std::vector<PeerRun> runs;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    PeerRun r;
    if (!parse_run(out.substr(pos, nl - pos), &r)) {
      *error = "unparsable peer output line: " + out.substr(pos, std::min<size_t>(nl - pos, 200));
      return {};
    }
    runs.push_back(std::move(r));
    pos = nl + 1;
  }
  if (runs.size() != models.size()) {
    *error = "peer printed " + std::to_string(runs.size()) + " runs for " + std::to_string(models.size()) + " models";
    return {};
  }
  return runs;
}

}  // namespace edgellm::test
