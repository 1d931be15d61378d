// bench --compare llamacpp: the side-by-side table of edgellm and llama.cpp per model, thread count and test —
// tokens/s of both engines, their ratio, and each engine's decode bytes/s against the memory bandwidth measured
// right before and after that engine's own run (the roofline that bounds decode). Formatting only: the numbers
// come from bench_runner/bench_peer; this file is linked into the tools tests so it can be checked on fake runs.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_report.h"

namespace edgellm::cli {

// One engine's side of a comparison row. `available` false: the engine did not run this model (every figure 0).
struct EngineFigures {
  bool available = false;
  double prompt_tps = 0, decode_tps = 0;
  double decode_gbs = 0;       // bytes read per decode token × decode tokens/s / 1e9
  double bandwidth_gbs = 0;    // mean of the read bandwidth measured before and after the engine's run (0: unknown)
  double bandwidth_share = 0;  // decode_gbs / bandwidth_gbs (0 when the bandwidth is unknown)
};

// What the comparison table shows for one run with a peer.
struct CompareRow {
  std::string model, type, test;
  int threads = 0;
  double mb_per_token = 0;  // decode bytes per token (weights + mean KV cache), 1e6
  bool has_prompt = false, has_decode = false;
  EngineFigures ours, peer;
  std::string peer_note;  // why the peer is n/a, when it is
};

// The row of `run` (which must have a peer); figures follow the definitions above.
CompareRow compare_row(const BenchRun& run);

// The markdown table over every run that has a peer, then the notes (the ratio's meaning, why a peer was n/a).
// Prints nothing when no run has a peer.
void write_compare_markdown(const std::vector<BenchRun>& runs, std::FILE* out);

// The "compare" object of a run in the JSON report (docs/bench-json.md): bytes per token, both engines' figures
// and bandwidth brackets, the ratios (null where an engine is n/a).
nlohmann::json compare_json(const BenchRun& run);

}  // namespace edgellm::cli
