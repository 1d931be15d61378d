// bench --predict: predicted prompt/decode speed and memory for every configuration of the grid,
// from the machine probe and the model's shapes alone (presets are not synthesized, files are only
// mapped), so it answers "will this run well here?" in seconds.
#pragma once

#include <cstdio>

#include "bench_options.h"
#include "core/status.h"
#include "measure/machine.h"
#include "measure/roofline.h"
#include "model/presets.h"

namespace edgellm::cli {

// The shape a preset synthesized at `type` would have (synth_weight_type's fallbacks included).
ModelShape preset_shape(const Preset& p, GgmlType type);

// Prints one markdown table row per configuration of `o`'s grid to `out`. Errors: a model file
// that does not load.
Status print_predictions(const BenchOptions& o, const MachineInfo& m, std::FILE* out);

}  // namespace edgellm::cli
