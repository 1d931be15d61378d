// bench --predict: predicted prompt/decode speed and memory for every configuration of the grid,
// from the machine probe and the model's shapes alone (presets are not synthesized, files are only
// mapped), so it answers "will this run well here?" in seconds.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bench_options.h"
#include "core/status.h"
#include "measure/machine.h"
#include "measure/roofline.h"
#include "edgellm/edgellm.h"
#include "model/presets.h"

namespace edgellm::cli {

// The shape a preset synthesized at `type` would have (synth_weight_type's fallbacks included).
ModelShape preset_shape(const Preset& p, GgmlType type);

// The predictor's shape of a loaded model: its GGUF tensor table (per-type groups) read again from `path` (header
// only, no weights), or, for a model synthesized in memory (empty path), `preset` at info.weight_type. Errors: a
// file that does not parse, or neither a path nor a preset.
Result<ModelShape> model_shape(const ModelInfo& info, const std::string& path, const Preset* preset);

// The kernel probe (measure/kernel_rates.h) of every weight type carrying >= 2 % of `shape`'s matmul bytes, most
// bytes first, short when `quick`; the attention and element-wise figures are measured once, into the first entry.
// A type the probe cannot run gets a note on stderr and the first type's rates (the int8 peak if it is the first).
std::vector<TypedKernelRates> probe_model_rates(const ModelShape& shape, bool quick);

// One note line per probed type (and one for attention and element-wise ops) for the end of a report.
std::string describe_rates(const std::vector<TypedKernelRates>& rates);

// Prints one markdown table row per configuration of `o`'s grid to `out`. Errors: a model file
// that does not load.
Status print_predictions(const BenchOptions& o, const MachineInfo& m, bool quick_probe, std::FILE* out);

}  // namespace edgellm::cli
