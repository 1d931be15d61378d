// Shared by the llama.cpp cross-check tests: finding the llama.cpp peer (node-llama-cpp, see
// docs/crosscheck.md) and running tests/peer/greedy.mjs on a set of GGUF files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgellm::test {

// The peer directory: $EDGELLM_PEER_DIR, default $HOME/.cache/edgellm/llamacpp.
std::string peer_dir();
// True when EDGELLM_REQUIRE_PEER=1 (CI): a missing peer is then a failure, not a skip.
bool peer_required();
// True when `dir` holds node_modules/node-llama-cpp.
bool peer_installed(const std::string& dir);

// One llama.cpp greedy run: tokens[i] was chosen from steps[i].top, its top-k raw logits (highest first);
// step 0 is the prediction after the prompt.
struct PeerStep {
  std::vector<std::pair<int32_t, float>> top;
};
struct PeerRun {
  std::vector<int32_t> tokens;
  std::vector<PeerStep> steps;
};

// Runs greedy.mjs (copied into `dir` first, because ES modules resolve packages from the script's own
// folder) once over all `models`: llama.cpp, 1 thread, generates `n_steps` tokens from `prompt` (token ids)
// and reports the top `top_k` logits per step. Returns one run per model, in order; on failure returns an
// empty vector and sets `*error` to the command, its exit status or the unparsable line.
std::vector<PeerRun> run_peer_greedy(const std::string& dir, const std::vector<std::string>& models,
                                     const std::vector<int32_t>& prompt, int n_steps, int top_k, std::string* error);

}  // namespace edgellm::test

// Skips the test loudly when the llama.cpp peer is not installed in `dir` (fails instead under
// EDGELLM_REQUIRE_PEER=1).
#define EL_REQUIRE_PEER(dir)                                                                   \
  do {                                                                                         \
    if (!::edgellm::test::peer_installed(dir)) {                                               \
      if (::edgellm::test::peer_required())                                                    \
        FAIL() << "llama.cpp peer not installed in " << (dir) << " (scripts/peer-install.sh)"; \
      GTEST_SKIP() << "SKIPPED LOUDLY: llama.cpp peer not found in " << (dir)                  \
                   << "; run scripts/peer-install.sh and/or set EDGELLM_PEER_DIR";             \
    }                                                                                          \
  } while (0)
