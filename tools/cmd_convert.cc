// edgellm convert: import a llama2.c checkpoint and tokenizer into GGUF.
#include <cstdio>
#include <memory>
#include <string>

#include "cli_common.h"
#include "commands.h"
#include "core/timer.h"
#include "format/llama2c.h"

namespace edgellm::cli {

namespace {

constexpr const char* kConvertTypes = "f32,f16,q8_0";

struct ConvertArgs {
  std::string from;
  std::string model;
  std::string tokenizer;
  std::string out;
  std::string type = "f32";
};

int convert(const ConvertArgs& a) {
  if (a.from != "llama2c") return fail(kExitUsage, "--from '" + a.from + "' is not supported (only: llama2c)");
  if (auto e = check_input_file("MODEL", a.model)) return fail(kExitUsage, e->message);
  if (auto e = check_input_file("--tokenizer", a.tokenizer)) return fail(kExitUsage, e->message);
  const std::optional<GgmlType> type = parse_type(a.type, kConvertTypes);
  if (!type) return fail(kExitUsage, "--type '" + a.type + "' is not supported (choose from: " + kConvertTypes + ")");
  if (a.out.empty()) return fail(kExitUsage, "-o: no output file given");
  Stopwatch timer;
  if (Status s = convert_llama2c(a.model, a.tokenizer, a.out, *type); !s.is_ok()) {
    return fail(kExitRuntime, s.message());
  }
  std::fprintf(stderr, "wrote %s in %.2f s\n", a.out.c_str(), timer.seconds());
  return kExitOk;
}

}  // namespace

void add_convert_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand("convert", "Convert a llama2.c checkpoint to GGUF");
  sub->add_option("--from", a->from, "Source format (llama2c)")->required();
  sub->add_option("MODEL", a->model, "llama2.c checkpoint (.bin)")->required();
  sub->add_option("--tokenizer", a->tokenizer, "llama2.c tokenizer (.bin)")->required();
  sub->add_option("-o,--output", a->out, "Output GGUF file")->required();
  sub->add_option("--type", a->type, std::string("Weight type: ") + kConvertTypes)->capture_default_str();
  sub->callback([a, &action] { action = [a] { return convert(*a); }; });
}

}  // namespace edgellm::cli
