// bench --predict: predicted prompt/decode speed and memory for every configuration of the grid,
// from the machine probe and the model's shapes alone (presets are not synthesized, files are only
// mapped), so it answers "will this run well here?" in seconds.
#pragma once

#include <cstdio>
#include <string>

#include "bench_options.h"
#include "core/status.h"
#include "measure/machine.h"
#include "measure/roofline.h"
#include "model/presets.h"

namespace edgellm::cli {

// The shape a preset synthesized at `type` would have (synth_weight_type's fallbacks included).
ModelShape preset_shape(const Preset& p, GgmlType type);

// The kernel probe (measure/kernel_rates.h) of the weight type called `type_name` ("q4_0", "elq3_g64"), short
// when `quick`; zero rates, with a note on stderr, for a type the probe cannot run (the prediction then falls back
// to the machine's int8 peak).
KernelRates probe_type_rates(const std::string& type_name, bool quick);

// Prints one markdown table row per configuration of `o`'s grid to `out`. Errors: a model file
// that does not load.
Status print_predictions(const BenchOptions& o, const MachineInfo& m, bool quick_probe, std::FILE* out);

}  // namespace edgellm::cli
