// The model/session/sampling flags `edgellm chat` shares with `edgellm run` (-m, -t, -c, -b, --temp, ...):
// registration, validation and conversion to the library's option structs.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "cli_common.h"
#include "edgellm/edgellm.h"

namespace edgellm::cli {

struct SamplingFlags {
  int64_t threads = 0;  // 0 when -t is absent: the library picks the physical core count
  bool threads_set = false;
  int64_t ctx = 0;
  int64_t batch = 512;
  double temp = 0.8, top_p = 0.95, min_p = 0.05, repeat_penalty = 1.0;
  double frequency_penalty = 0.0, presence_penalty = 0.0;
  int64_t top_k = 40, repeat_last_n = 64;
  uint64_t seed = 0xC0FFEE;

  // Adds -t, -c, -b and the sampling flags to `sub`. Call note_parsed() in the subcommand's callback.
  void add_to(CLI::App* sub);
  void note_parsed(const CLI::App* sub) { threads_set = sub->count("--threads") > 0; }
  // Range checks, naming the flag.
  std::optional<UsageError> validate() const;
  SessionOptions session_options() const;
  SamplerParams sampler_params() const;
};

}  // namespace edgellm::cli
