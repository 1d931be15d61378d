// What edgellm bench measured, and the writers that turn it into reports: a markdown table for the
// terminal, JSON (schema in docs/bench-json.md), CSV (one flat row per run) and a self-contained
// XHTML page with inline SVG plots (bench_html.cc). The writers only format; they never measure.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "measure/stats.h"

namespace edgellm::cli {

// Bumped when a field of the JSON report changes meaning or disappears (additions keep it).
inline constexpr int kBenchSchemaVersion = 1;

// Energy of one phase (prompt or decode) summed over the timed repetitions.
struct PhaseEnergy {
  bool valid = false;     // false when the phase did not run (e.g. -p 0 has no prompt phase)
  bool estimated = true;  // true: from the documented model, not a sensor
  double joules = 0;      // per repetition, mean
  double joules_per_token = 0;
  double watts = 0;  // average power over the phase
};

// One point of sustained mode: a repetition that ended `t_s` seconds after the configuration began.
struct TimelinePoint {
  double t_s = 0;
  double prompt_tps = 0;         // 0 when the configuration has no prompt phase
  double decode_tps = 0;         // 0 when it has no decode phase
  std::optional<double> temp_c;  // hottest thermal zone, when the machine has any
};

// Memory read bandwidth (GB/s) measured right before and right after one engine's timed runs (bench --compare):
// on a shared machine it moves from minute to minute, so each engine is judged against its own minutes.
struct BandwidthBracket {
  double before_gbs = 0, after_gbs = 0;
  // The mean of the two figures that were measured (> 0); 0 when neither was.
  double mean_gbs() const;
};

// llama.cpp on the same file, prompt ids and threads (bench --compare llamacpp).
struct PeerRun {
  Summary prompt_tps, decode_tps;  // over the peer's timed repetitions
  double other_cpu_share = 0;      // max over the peer's runs, 0..1 of the whole machine
  BandwidthBracket bandwidth;      // around the peer's run
  // Non-empty when the peer could not run this model (e.g. llama.cpp refuses edgellm's own tensor types): the
  // reason, and every figure above stays 0 ("n/a" in the reports).
  std::string unavailable;
};

// Predicted before running, from the machine probe and the model's shapes.
struct PredictionFigures {
  double prompt_tps = 0, decode_tps = 0;
  uint64_t memory_bytes = 0;
};

// One configuration of the grid (a model/type, a thread count, a prompt and a decode length).
struct BenchRun {
  std::string model;  // file path or "preset type" for synthesized models
  std::string type;   // dominant weight type, e.g. "q4_0"
  std::string architecture;
  int64_t n_params = 0;
  uint64_t weight_bytes = 0;
  int threads = 0;
  int64_t n_prompt = 0, n_gen = 0;
  int reps = 0;              // timed repetitions (in sustained mode: as many as fit the duration)
  double load_s = 0;         // loading (mmap or in-memory image) of the model, seconds
  Summary prompt_tps;        // n = 0 when n_prompt == 0
  Summary decode_tps;        // n = 0 when n_gen == 0
  Summary ttft_ms;           // time to first token: prefill + first argmax, or the first decode step for -p 0
  Summary token_latency_ms;  // every decode step of every timed repetition
  std::vector<double> latency_trace_ms;  // the decode steps of the last repetition, in order
  uint64_t peak_rss_bytes = 0;           // process high-water mark since this model was loaded
  double bytes_per_token = 0;            // weights + mean KV cache read per decode step
  double achieved_gbs = 0;               // bytes_per_token x decode tokens/s
  double bandwidth_fraction = 0;         // achieved_gbs / measured memory bandwidth at this thread count
  double roofline_fraction = 0;          // decode tokens/s over the roofline's bound (bandwidth or compute)
  double prompt_compute_fraction = 0;    // prompt ops/s over the probe's int8 peak
  PhaseEnergy prompt_energy, decode_energy;
  std::optional<double> co2e_g;  // per repetition, both phases, when --grid-intensity was given
  double other_cpu_share = 0;    // max over timed repetitions, 0..1 of the whole machine
  std::optional<PredictionFigures> prediction;
  std::vector<TimelinePoint> timeline;  // sustained mode only
  std::optional<PeerRun> peer;
  std::optional<BandwidthBracket> bandwidth;  // around edgellm's own run, with --compare

  double energy_j() const {
    return (prompt_energy.valid ? prompt_energy.joules : 0) + (decode_energy.valid ? decode_energy.joules : 0);
  }
  bool energy_estimated() const { return prompt_energy.estimated || decode_energy.estimated; }
  // "pp512 tg128", "tg128" (-p 0), "pp512" (-n 0).
  std::string test_name() const;
};

struct BenchReport {
  nlohmann::json machine = nlohmann::json::object();       // measure layer's probe, as JSON
  nlohmann::json energy_model = nlohmann::json::object();  // estimate parameters, when estimated
  std::string created_utc;                                 // ISO 8601
  std::string command;                                     // the command line, for reproduction
  double duration_s = 0;                                   // sustained mode's per-configuration duration, 0 otherwise
  std::optional<double> grid_intensity;                    // gCO2e/kWh
  std::vector<BenchRun> runs;
};

// Signed relative error of a prediction in percent: 100 * (predicted - measured) / measured; 0 if
// nothing was measured.
double prediction_error_pct(double predicted, double measured);

// The markdown table (and energy, prediction and peer notes) printed on stdout.
void write_markdown(const BenchReport& r, std::FILE* out);
// The JSON report; its shape is documented in docs/bench-json.md.
nlohmann::json report_json(const BenchReport& r);
// Header line + one row per run, comma-separated, RFC 4180 quoting where needed.
std::string report_csv(const BenchReport& r);
// A standalone XHTML page (parses as XML): machine table, run table, SVG plots. bench_html.cc.
std::string report_html(const BenchReport& r);

}  // namespace edgellm::cli
