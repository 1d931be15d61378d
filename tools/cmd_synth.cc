// edgellm synth: write a random-weight model of a preset's shape (see src/model/presets.h).
#include <cstdio>
#include <memory>
#include <string>

#include "cli_common.h"
#include "commands.h"
#include "core/timer.h"
#include "model/synth.h"

namespace edgellm::cli {

namespace {

constexpr const char* kSynthTypes = "f32,f16,bf16,q4_0,q4_1,q5_0,q5_1,q8_0,q2_K,q3_K,q4_K,q5_K,q6_K";

struct SynthArgs {
  std::string preset;
  std::string type;
  std::string out;
  std::string vocab;
  int64_t n_vocab = 0;
  uint64_t seed = 42;
};

int synth(const SynthArgs& a) {
  const Preset* preset = find_preset(a.preset);
  if (preset == nullptr) {
    return fail(kExitUsage, "unknown preset '" + a.preset + "' (choose from: " + preset_names() + ")");
  }
  const std::optional<GgmlType> type = parse_type(a.type, kSynthTypes);
  if (!type) return fail(kExitUsage, "unknown or unsupported type '" + a.type + "' (choose from: " + kSynthTypes + ")");
  if (a.out.empty()) return fail(kExitUsage, "-o: no output file given");
  if (!a.vocab.empty()) {
    if (auto e = check_input_file("--vocab", a.vocab)) return fail(kExitUsage, e->message);
    if (a.n_vocab != 0) return fail(kExitUsage, "--n-vocab and --vocab exclude each other (the vocabulary sets it)");
  }
  if (a.n_vocab != 0) {
    if (auto e = check_int("--n-vocab", a.n_vocab, 259, int64_t{1} << 24, "the vocabulary size")) {
      return fail(kExitUsage, e->message);
    }
  }

  SynthOptions opts;
  opts.seed = a.seed;
  opts.n_vocab = a.n_vocab;
  opts.vocab_path = a.vocab;
  Stopwatch timer;
  std::fprintf(stderr, "synthesizing %s at %s -> %s\n", a.preset.c_str(), a.type.c_str(), a.out.c_str());
  auto writer = synthesize(*preset, *type, opts);
  if (!writer.is_ok()) return fail(kExitRuntime, writer.status().message());
  if (Status s = writer->write_file(a.out); !s.is_ok()) return fail(kExitRuntime, s.message());
  std::fprintf(stderr, "wrote %s in %.2f s\n", a.out.c_str(), timer.seconds());
  return kExitOk;
}

}  // namespace

void add_synth_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<SynthArgs>();
  CLI::App* sub = app.add_subcommand("synth", "Write a random-weight model with a preset's shape");
  sub->add_option("--preset", a->preset, "Model shape: " + preset_names())->required();
  sub->add_option("--type", a->type, std::string("Weight type: ") + kSynthTypes)->required();
  sub->add_option("-o,--output", a->out, "Output GGUF file")->required();
  sub->add_option("--vocab", a->vocab, "GGUF whose tokenizer.* keys are copied (sets the vocabulary size)");
  sub->add_option("--n-vocab", a->n_vocab, "Vocabulary size of the built-in byte-level vocabulary");
  sub->add_option("--seed", a->seed, "Weight seed")->capture_default_str();
  sub->callback([a, &action] { action = [a] { return synth(*a); }; });
}

}  // namespace edgellm::cli
