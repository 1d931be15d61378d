// edgellm: run, inspect, synthesize, convert and benchmark LLMs in GGUF files on the CPU.
#include <CLI/CLI.hpp>

#include <exception>
#include <string>

#include "cli_common.h"
#include "commands.h"

int main(int argc, char** argv) {
  using namespace edgellm::cli;
  CLI::App app{"edgellm: run LLMs from GGUF files on the CPU", "edgellm"};
  app.set_version_flag("--version", std::string("edgellm ") + kVersion);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 runtime failure (e.g. a model that fails to load), "
      "2 usage error (bad flag value, missing input file, unknown preset or type).\n"
      "Run 'edgellm COMMAND --help' for the options of a command.");

  Action action;
  add_run_command(app, action);
  add_chat_command(app, action);
  add_template_command(app, action);
  add_inspect_command(app, action);
  add_synth_command(app, action);
  add_convert_command(app, action);
  add_quantize_command(app, action);
  add_bench_command(app, action);
  add_tokenize_command(app, action);
  add_perplexity_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return fail(kExitUsage, e.what());
  }
  if (!action) return fail(kExitUsage, "no command given; see 'edgellm --help'");
  try {
    return action();
  } catch (const std::exception& e) {
    // The library reports errors as values; this catches allocation failures and the like.
    return fail(kExitRuntime, e.what());
  }
}
