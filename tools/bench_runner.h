// Runs one configuration of edgellm bench: warm-up, timed repetitions (or repetitions until a
// duration passes), per-token latencies, energy per phase (measured or estimated), roofline and
// prediction. Progress goes to stderr.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_report.h"
#include "core/status.h"
#include "edgellm/edgellm.h"
#include "measure/energy.h"
#include "measure/machine.h"
#include "measure/roofline.h"

namespace edgellm::cli {

// Progress on stderr: a redrawn bar when stderr is a terminal, one plain line per step otherwise
// (logs and CI keep readable text, no carriage returns).
class Progress {
 public:
  explicit Progress(int total_steps);
  // Advances by one step and shows `what` ("q4_0 t2 pp512 tg128 rep 2/3").
  void step(const std::string& what);
  // Shows `what` without advancing (e.g. sustained mode's elapsed time).
  void note(const std::string& what);
  // Ends the bar's line so later output starts on a fresh line.
  void finish();

 private:
  void draw(const std::string& what);
  int total_, done_ = 0;
  bool tty_;
  int64_t last_note_ns_ = 0;
};

// ModelShape for the measure layer's roofline and prediction, from the loaded model's metadata.
// Embeddings are taken as tied to the output head (what the small models this engine targets mostly do).
ModelShape shape_of(const ModelInfo& info);

// Resets the process's peak RSS (VmHWM) to its current RSS, so a model's peak does not include the
// probe's buffers or an earlier model; false where the kernel does not allow it.
bool reset_peak_rss();

// What one configuration needs besides the session.
struct ConfigSpec {
  int64_t n_prompt = 0, n_gen = 0;
  int reps = 3;
  double duration_s = 0;  // > 0: repeat until this many seconds passed (at least one repetition)
  uint32_t seed = 1234;
  std::string label;  // for progress lines
  std::vector<TypedKernelRates> rates;  // the kernel probe per weight type (empty: the older peak-based model)
  ModelShape shape;  // the model's per-type shape for roofline and prediction (no groups: from its ModelInfo)
};

struct MeasureContext {
  const MachineInfo* machine = nullptr;  // probe results
  EnergyMeter* meter = nullptr;          // used when it has sensors; else the estimate below
  EnergyModel energy_model;
  std::optional<double> grid_intensity;
  Progress* progress = nullptr;
};

// The prompt edgellm and the peer both process: BOS (when the model has one), then xorshift32 ids
// modulo n_vocab seeded with `seed` (the sequence the earlier bench.mjs comparison used).
std::vector<int32_t> synthetic_prompt(int64_t length, uint32_t seed, int32_t bos, int n_vocab);

// Runs `spec` on `session` (whose context holds n_prompt + n_gen + 1 tokens) and fills the timing,
// latency, energy, roofline and prediction fields of `run` (model fields are the caller's).
Status measure_config(Session& session, const Model& model, const ConfigSpec& spec, const MeasureContext& ctx,
                      BenchRun* run);

}  // namespace edgellm::cli
