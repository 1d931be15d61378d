// edgellm bench: prompt-processing and decode speed, mean ± sd over repetitions after a warm-up.
// The prompt is the same seeded token ids llama.cpp's peer script (bench.mjs) feeds, so the two
// engines can be compared on identical work.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "core/memory_stats.h"
#include "core/timer.h"
#include "edgellm/edgellm.h"
#include "model/synth.h"

namespace edgellm::cli {

namespace {

constexpr const char* kBenchTypes = "f32,f16,bf16,q4_0,q4_1,q5_0,q5_1,q8_0,q2_K,q3_K,q4_K,q5_K,q6_K";

struct BenchArgs {
  std::string model;
  std::string preset;
  std::string type;
  int64_t n_prompt = 512, n_gen = 128, reps = 3, threads = 0;
  uint32_t seed = 1234;
  std::string json;
  bool threads_set = false;
};

// bench.mjs's syntheticPrompt: BOS (when the model has one), then xorshift32 ids modulo n_vocab.
std::vector<int32_t> synthetic_prompt(int64_t length, uint32_t seed, int32_t bos, int n_vocab) {
  uint32_t s = seed != 0 ? seed : 0x9e3779b9u;
  std::vector<int32_t> out;
  if (bos >= 0) out.push_back(bos);
  while (static_cast<int64_t>(out.size()) < length) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    out.push_back(static_cast<int32_t>(s % static_cast<uint32_t>(n_vocab)));
  }
  return out;
}

int32_t argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = static_cast<int32_t>(i);
  }
  return best;
}

struct Stat {
  double mean = 0, sd = 0;
};
Stat stats(const std::vector<double>& xs) {
  Stat s;
  for (double x : xs) s.mean += x;
  s.mean /= static_cast<double>(xs.size());
  if (xs.size() > 1) {
    double v = 0;
    for (double x : xs) v += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(v / static_cast<double>(xs.size() - 1));
  }
  return s;
}

struct RunTimes {
  double prompt_s = 0, decode_s = 0;
  std::vector<int32_t> generated;
};

Result<RunTimes> run_once(Session& session, const std::vector<int32_t>& prompt, int64_t n_gen) {
  RunTimes r;
  session.reset();
  Stopwatch t0;
  EL_RETURN_IF_ERROR(session.prefill(prompt));
  int32_t tok = argmax(session.logits());
  r.prompt_s = t0.seconds();
  r.generated.push_back(tok);
  Stopwatch t1;
  for (int64_t i = 0; i < n_gen; ++i) {
    EL_RETURN_IF_ERROR(session.decode(tok));
    tok = argmax(session.logits());
    r.generated.push_back(tok);
  }
  r.decode_s = t1.seconds();
  return r;
}

int bench(BenchArgs a) {
  if (!a.model.empty() && !a.preset.empty()) return fail(kExitUsage, "-m and --preset exclude each other");
  if (!a.model.empty() && !a.type.empty()) return fail(kExitUsage, "--type applies to --preset, not to -m");
  if (auto e = check_int("-p", a.n_prompt, 1, kMaxTokens, "the prompt length")) return fail(kExitUsage, e->message);
  if (auto e = check_int("-n", a.n_gen, 0, kMaxTokens, "the number of decode steps")) return fail(kExitUsage, e->message);
  if (auto e = check_int("--reps", a.reps, 1, 1000, "repetitions")) return fail(kExitUsage, e->message);
  if (a.threads_set) {
    if (auto e = check_int("-t", a.threads, 1, kMaxThreads, "threads")) return fail(kExitUsage, e->message);
  }
  if (a.n_prompt + a.n_gen + 1 > kMaxContext) return fail(kExitUsage, "-p plus -n exceed the largest context");

  std::shared_ptr<Model> model;
  double synth_s = 0, load_s = 0;
  std::string label;
  if (!a.model.empty()) {
    if (auto e = check_input_file("-m", a.model)) return fail(kExitUsage, e->message);
    Stopwatch t;
    auto m = Model::load(a.model);
    if (!m.is_ok()) return fail(kExitRuntime, m.status().message());
    load_s = t.seconds();
    model = *m;
    label = a.model;
  } else {
    if (a.preset.empty()) a.preset = "llama3.2-1b";
    if (a.type.empty()) a.type = "q4_0";
    const Preset* preset = find_preset(a.preset);
    if (preset == nullptr) {
      return fail(kExitUsage, "unknown preset '" + a.preset + "' (choose from: " + preset_names() + ")");
    }
    const std::optional<GgmlType> type = parse_type(a.type, kBenchTypes);
    if (!type) return fail(kExitUsage, "unknown or unsupported type '" + a.type + "' (choose from: " + kBenchTypes + ")");
    std::fprintf(stderr, "bench: synthesizing %s at %s in memory...\n", a.preset.c_str(), a.type.c_str());
    Stopwatch t;
    auto writer = synthesize(*preset, *type, {});
    if (!writer.is_ok()) return fail(kExitRuntime, writer.status().message());
    auto bytes = writer->write_bytes();
    if (!bytes.is_ok()) return fail(kExitRuntime, bytes.status().message());
    synth_s = t.seconds();
    t.reset();
    label = a.preset + " " + a.type;
    auto m = Model::load_from_bytes(std::move(*bytes), label);
    if (!m.is_ok()) return fail(kExitRuntime, m.status().message());
    load_s = t.seconds();
    model = *m;
    std::fprintf(stderr, "bench: synthesized in %.1f s, loaded in %.2f s\n", synth_s, load_s);
  }
  const ModelInfo& info = model->info();

  SessionOptions so;
  so.n_threads = static_cast<int>(a.threads);
  so.n_ctx = static_cast<int>(a.n_prompt + a.n_gen + 1);
  auto session = Session::create(model, so);
  if (!session.is_ok()) return fail(kExitRuntime, session.status().message());
  const std::vector<int32_t> prompt = synthetic_prompt(a.n_prompt, a.seed, model->bos_token(), info.n_vocab);

  std::fprintf(stderr, "bench: warm-up (pp%lld + tg%lld, %d threads)\n", static_cast<long long>(a.n_prompt),
               static_cast<long long>(a.n_gen), (*session)->n_threads());
  if (auto w = run_once(**session, prompt, a.n_gen); !w.is_ok()) return fail(kExitRuntime, w.status().message());
  std::vector<RunTimes> runs;
  for (int64_t r = 0; r < a.reps; ++r) {
    std::fprintf(stderr, "bench: rep %lld/%lld\n", static_cast<long long>(r + 1), static_cast<long long>(a.reps));
    auto res = run_once(**session, prompt, a.n_gen);
    if (!res.is_ok()) return fail(kExitRuntime, res.status().message());
    runs.push_back(std::move(*res));
  }
  std::vector<double> pp, tg, ttft, prompt_secs, decode_secs;
  for (const RunTimes& r : runs) {
    pp.push_back(static_cast<double>(a.n_prompt) / r.prompt_s);
    if (a.n_gen > 0) tg.push_back(static_cast<double>(a.n_gen) / r.decode_s);
    ttft.push_back(r.prompt_s);
    prompt_secs.push_back(r.prompt_s);
    decode_secs.push_back(r.decode_s);
  }
  const Stat pp_s = stats(pp), ttft_s = stats(ttft);
  const Stat tg_s = tg.empty() ? Stat{} : stats(tg);
  const uint64_t rss = peak_rss_bytes();
  const int threads = (*session)->n_threads();

  std::printf("| model | type | params | size | threads | test | result |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  auto row = [&](const std::string& test, const std::string& result) {
    std::printf("| %s | %s | %s | %s | %d | %s | %s |\n", label.c_str(), info.weight_type.c_str(),
                human_count(static_cast<uint64_t>(info.n_params)).c_str(), human_bytes(info.weight_bytes).c_str(),
                threads, test.c_str(), result.c_str());
  };
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.2f ± %.2f tok/s", pp_s.mean, pp_s.sd);
  row("pp" + std::to_string(a.n_prompt), buf);
  if (a.n_gen > 0) {
    std::snprintf(buf, sizeof buf, "%.2f ± %.2f tok/s", tg_s.mean, tg_s.sd);
    row("tg" + std::to_string(a.n_gen), buf);
  }
  std::snprintf(buf, sizeof buf, "%.3f ± %.3f s", ttft_s.mean, ttft_s.sd);
  row("time to first token", buf);
  std::snprintf(buf, sizeof buf, "%.3f s", load_s);
  row("load", buf);
  row("peak RSS", human_bytes(rss));

  if (!a.json.empty()) {
    nlohmann::json j = {
        {"model", label}, {"architecture", info.architecture}, {"weight_type", info.weight_type},
        {"n_params", info.n_params}, {"weight_bytes", info.weight_bytes}, {"n_vocab", info.n_vocab},
        {"threads", threads}, {"n_prompt", a.n_prompt}, {"n_gen", a.n_gen}, {"reps", a.reps},
        {"prompt_tok_per_sec", {{"mean", pp_s.mean}, {"sd", pp_s.sd}}},
        {"decode_tok_per_sec", {{"mean", tg_s.mean}, {"sd", tg_s.sd}}},
        {"ttft_seconds", {{"mean", ttft_s.mean}, {"sd", ttft_s.sd}}},
        {"prompt_seconds", prompt_secs}, {"decode_seconds", decode_secs},
        {"load_seconds", load_s}, {"synth_seconds", synth_s}, {"peak_rss_bytes", rss},
        {"first_generated", std::vector<int32_t>(runs[0].generated.begin(),
                                                 runs[0].generated.begin() +
                                                     std::min<size_t>(8, runs[0].generated.size()))},
        {"version", kVersion}};
    std::ofstream out(a.json);
    out << j.dump() << "\n";
    if (!out) return fail(kExitRuntime, "--json '" + a.json + "': cannot write the file");
  }
  return kExitOk;
}

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Measure prompt and decode speed. Without -m/--preset/--type it synthesizes llama3.2-1b at q4_0 in memory "
      "(about a minute on 2 cores)");
  sub->add_option("-m,--model", a->model, "GGUF model file");
  sub->add_option("--preset", a->preset, "Synthesize this preset in memory: " + preset_names());
  sub->add_option("--type", a->type, std::string("Weight type of the synthesized model: ") + kBenchTypes);
  sub->add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens (BOS + seeded random ids)");
  sub->add_option("-n,--n-gen", a->n_gen, "Greedy decode steps");
  sub->add_option("-t,--threads", a->threads, "Threads (default: physical cores)");
  sub->add_option("--reps", a->reps, "Timed repetitions after one warm-up");
  sub->add_option("--seed", a->seed, "Prompt seed (as bench.mjs --seed)")->capture_default_str();
  sub->add_option("--json", a->json, "Also write the results as one JSON line to this file");
  sub->callback([a, sub, &action] {
    a->threads_set = sub->count("--threads") > 0;
    action = [a] { return bench(*a); };
  });
}

}  // namespace edgellm::cli
