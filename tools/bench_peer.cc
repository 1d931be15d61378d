#include "bench_peer.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench_peer_script.h"
#include "measure/stats.h"

extern char** environ;

namespace edgellm::cli {

namespace {

constexpr const char* kScriptName = "edgellm-llamacpp-speed.mjs";

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string last_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  const size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// The line of the peer's stderr that says what went wrong: Node prints an uncaught exception as a source excerpt,
// "Error: message", a stack trace and its own version last, so the "...Error: " line is the message.
std::string error_line(const std::string& err) {
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find("Error: ");
    if (colon != std::string::npos && line.find_first_of(" \t") >= colon + 5) return line;
  }
  return last_line(err);
}

}  // namespace

std::string default_peer_dir() {
  if (const char* d = std::getenv("EDGELLM_PEER_DIR"); d != nullptr && *d != '\0') return d;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/tmp") + "/.cache/edgellm/llamacpp";
}

Status prepare_peer(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(fs::path(dir) / "node_modules" / "node-llama-cpp", ec)) {
    return Status::error("the llama.cpp peer is not installed in '" + dir +
                         "' (no node_modules/node-llama-cpp): run scripts/peer-install.sh, or set EDGELLM_PEER_DIR");
  }
  const std::string script = (fs::path(dir) / kScriptName).string();
  std::ofstream out(script, std::ios::binary | std::ios::trunc);
  out << kLlamacppSpeedScript;
  out.close();
  if (!out) return Status::error("cannot write the peer script '" + script + "'");
  return Status::ok();
}

Result<PeerRun> run_llamacpp(const std::string& dir, const PeerRequest& req) {
  std::string ids;
  for (int32_t id : req.prompt) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(id);
  }
  std::vector<std::string> args = {"node",
                                   (std::filesystem::path(dir) / kScriptName).string(),
                                   "--model",
                                   std::filesystem::absolute(req.model_path).string(),
                                   "--prompt=" + ids,
                                   "--n-gen",
                                   std::to_string(req.n_gen),
                                   "--threads",
                                   std::to_string(req.threads),
                                   "--reps",
                                   std::to_string(req.reps),
                                   "--start-token",
                                   std::to_string(req.start_token)};
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string base =
      (std::filesystem::temp_directory_path() / ("edgellm-peer-" + std::to_string(getpid()))).string();
  const std::string out_path = base + ".out", err_path = base + ".err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "node", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status::error("cannot start node for the llama.cpp peer (is Node.js >= 20 installed?)");
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string out = slurp(out_path), err = slurp(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::error("the llama.cpp peer failed: " + error_line(err));
  }
  const nlohmann::json j = nlohmann::json::parse(last_line(out), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("prompt_tokens_per_s") || !j.contains("decode_tokens_per_s")) {
    return Status::error("the llama.cpp peer printed no result line: " + last_line(out));
  }
  // Checked field by field so a changed script gives a message, not a JSON exception.
  auto numbers = [&](const char* key, std::vector<double>* out) {
    if (!j[key].is_array()) return false;
    for (const auto& v : j[key]) {
      if (!v.is_number()) return false;
      out->push_back(v.get<double>());
    }
    return true;
  };
  std::vector<double> pp, tg;
  if (!numbers("prompt_tokens_per_s", &pp) || !numbers("decode_tokens_per_s", &tg) ||
      !j["other_cpu_share"].is_number()) {
    return Status::error("the llama.cpp peer's result line lacks numeric fields: " + last_line(out));
  }
  PeerRun r;
  r.prompt_tps = summarize(pp);
  r.decode_tps = summarize(tg);
  r.other_cpu_share = j["other_cpu_share"].get<double>();
  return r;
}

}  // namespace edgellm::cli
