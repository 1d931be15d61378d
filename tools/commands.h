// The edgellm subcommands. Each add_*_command registers its options on `app`; when the user picks
// that subcommand, parsing sets `action` to a function that validates the arguments, does the work
// and returns the process exit status (see cli_common.h).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace edgellm::cli {

using Action = std::function<int()>;

void add_run_command(CLI::App& app, Action& action);
void add_template_command(CLI::App& app, Action& action);
void add_chat_command(CLI::App& app, Action& action);
void add_inspect_command(CLI::App& app, Action& action);
void add_synth_command(CLI::App& app, Action& action);
void add_convert_command(CLI::App& app, Action& action);
void add_quantize_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);
void add_tokenize_command(CLI::App& app, Action& action);  // tokenize and detokenize
void add_perplexity_command(CLI::App& app, Action& action);

}  // namespace edgellm::cli
