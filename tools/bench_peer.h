// bench --compare llamacpp: runs llama.cpp (npm node-llama-cpp, installed by scripts/peer-install.sh)
// on the same GGUF file, prompt ids and thread count as an edgellm configuration, through our
// bench/peer/llamacpp_speed.mjs (embedded in the binary and written into the peer directory).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_report.h"
#include "core/status.h"

namespace edgellm::cli {

// EDGELLM_PEER_DIR, else $HOME/.cache/edgellm/llamacpp.
std::string default_peer_dir();

// Checks that node and the peer's node_modules exist and writes the speed script into `dir`.
// The error says how to install the peer.
Status prepare_peer(const std::string& dir);

struct PeerRequest {
  std::string model_path;       // a GGUF file on disk
  std::vector<int32_t> prompt;  // token ids, verbatim; empty for -p 0
  int32_t start_token = 0;      // first decode input when the prompt is empty
  int64_t n_gen = 0;
  int threads = 1;
  int reps = 3;
};

// Runs the script once (one warm-up plus `reps` timed repetitions) and parses its JSON line.
// Errors carry the script's stderr.
Result<PeerRun> run_llamacpp(const std::string& dir, const PeerRequest& req);

}  // namespace edgellm::cli
