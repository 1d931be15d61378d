// edgellm bench's arguments: the grid (comma lists of threads, prompt lengths, decode lengths and
// weight types), repetitions, the sustained-mode duration, report files and the peer comparison.
// Parsing turns the raw flag strings into checked values or one UsageError line naming the flag.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.h"

namespace edgellm::cli {

// Weight types `bench --preset` can synthesize.
inline constexpr const char* kBenchTypes = "f32,f16,bf16,q4_0,q4_1,q5_0,q5_1,q8_0,q2_K,q3_K,q4_K,q5_K,q6_K";

// The flags as the user typed them (lists still as text); filled by CLI11.
struct BenchFlags {
  std::string model, preset, types;
  std::string threads, n_prompt = "512", n_gen = "128";
  int64_t reps = 3;
  uint32_t seed = 1234;
  std::string json, csv, html;
  std::string compare;   // "" or "llamacpp"
  std::string duration;  // "" or e.g. "10m", "90s", "1h", "45"
  bool predict = false;
  double grid_intensity = 0;  // gCO2e/kWh, used when grid_intensity_set
  bool grid_intensity_set = false;
};

// Checked arguments. Every list is non-empty, deduplicated, in the order given.
struct BenchOptions {
  std::vector<std::string> models;  // GGUF paths (-m a.gguf,b.gguf), or empty when synthesizing
  std::string preset;               // preset name when synthesizing
  std::vector<std::string> types;   // canonical type names when synthesizing (one entry per model)
  std::vector<int> threads;         // {0} = the engine's default (physical cores)
  std::vector<int64_t> n_prompt;    // 0 = decode alone from an empty context
  std::vector<int64_t> n_gen;
  int reps = 3;
  uint32_t seed = 1234;
  std::string json, csv, html;
  bool compare_llamacpp = false;
  double duration_s = 0;  // > 0: sustained mode, each configuration runs this long
  bool predict = false;
  std::optional<double> grid_intensity;  // gCO2e/kWh
};

// Validates `f`; the error message is one line naming the flag and the bad value.
std::optional<UsageError> parse_bench_flags(const BenchFlags& f, BenchOptions* out);

// "1,2,4" -> {1,2,4}, each in [lo, hi]; rejects empty items, non-numbers, duplicates are dropped.
std::optional<UsageError> parse_int_list(const std::string& flag, const std::string& text, int64_t lo, int64_t hi,
                                         const std::string& what, std::vector<int64_t>* out);

// "10m" / "90s" / "1h" / "45" (seconds) -> seconds in (0, 24 h]; nullopt when malformed or out of range.
std::optional<double> parse_duration(const std::string& text);

}  // namespace edgellm::cli
