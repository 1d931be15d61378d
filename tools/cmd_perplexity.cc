// edgellm perplexity: perplexity of a model on a text, and KL divergence against a reference model's saved
// log-probabilities (runtime/perplexity_run.h), the way llama.cpp's llama-perplexity measures them.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "api/impl.h"
#include "cli_common.h"
#include "commands.h"
#include "core/timer.h"
#include "edgellm/edgellm.h"
#include "runtime/perplexity_run.h"

namespace edgellm::cli {

namespace {

struct PerplexityArgs {
  std::string model, text_file, save_logits, kld_base;
  int64_t ctx = 512, stride = 0, batch = 512, threads = 0, chunks = 0;
  bool json = false;
};

std::optional<UsageError> validate(const PerplexityArgs& a) {
  if (auto e = check_input_file("-m", a.model)) return e;
  if (auto e = check_input_file("-f", a.text_file)) return e;
  if (auto e = check_int("--ctx", a.ctx, 4, kMaxContext, "the window size in tokens")) return e;
  if (auto e = check_int("--stride", a.stride, 0, a.ctx - 1, "the window step (0 = back to back, half scored)"))
    return e;
  if (auto e = check_int("--batch", a.batch, 1, 65536, "the batch size")) return e;
  if (auto e = check_int("-t", a.threads, 0, kMaxThreads, "threads (0 = physical cores)")) return e;
  if (auto e = check_int("--chunks", a.chunks, 0, kMaxTokens, "the number of windows (0 = all)")) return e;
  if (!a.kld_base.empty()) {
    if (auto e = check_input_file("--kld-base", a.kld_base)) return e;
  }
  if (!a.save_logits.empty() && a.save_logits == a.kld_base)
    return UsageError{"--save-logits and --kld-base name the same file (" + a.save_logits + ")"};
  return std::nullopt;
}

nlohmann::json to_json(const PerplexityReport& r, const std::string& model, double seconds) {
  nlohmann::json j = {{"model", model},
                      {"n_ctx", r.plan.n_ctx},
                      {"step", r.plan.step},
                      {"chunks", r.plan.n_windows},
                      {"text_tokens", r.n_text_tokens},
                      {"scored", r.n_scored},
                      {"ppl", r.ppl},
                      {"ppl_error", r.ppl_error},
                      {"seconds", seconds}};
  if (r.has_kld) {
    const KldSummary& k = r.kld;
    j["kld"] = {{"mean", k.mean},
                {"mean_error", k.mean_error},
                {"median", k.median},
                {"p90", k.p90},
                {"p99", k.p99},
                {"max", k.max},
                {"top1_percent", k.top1_percent},
                {"rms_dp_percent", k.rms_dp},
                {"ppl_base", k.ppl_base},
                {"ppl_base_error", k.ppl_base_error},
                {"ppl_ratio", k.ppl_ratio}};
  }
  return j;
}

int perplexity(const PerplexityArgs& a) {
  if (auto e = validate(a)) return fail(kExitUsage, e->message);
  std::ifstream f(a.text_file, std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  if (!f) return fail(kExitRuntime, a.text_file + ": cannot read the text");
  Result<std::shared_ptr<Model>> model = Model::load(a.model);
  if (!model.is_ok()) return fail(kExitRuntime, model.status().message());
  const Model& m = **model;
  if (m.impl()->tokenizer == nullptr) return fail(kExitRuntime, a.model + ": the file has no tokenizer");
  const std::vector<int32_t> tokens = m.tokenize(text.str(), /*add_special=*/true);

  PerplexityOptions o;
  o.n_ctx = static_cast<int>(a.ctx);
  o.stride = static_cast<int>(a.stride);
  o.n_batch = static_cast<int>(a.batch);
  o.n_threads = static_cast<int>(a.threads);
  o.max_chunks = static_cast<int>(a.chunks);
  o.model_name = a.model;
  o.save_logits = a.save_logits;
  o.kld_base = a.kld_base;
  if (!a.json)
    std::fprintf(stderr, "%s: %zu tokens; windows of %lld, scoring %s\n", a.text_file.c_str(), tokens.size(),
                 static_cast<long long>(a.ctx), a.stride ? "the last --stride predictions" : "the second half");
  Stopwatch timer;
  const auto progress = [&](int done, int total, double ppl, double err) {
    if (a.json) return;
    std::fprintf(stderr, "[%d/%d] PPL %.4f +/- %.4f (%.1f s)\n", done, total, ppl, err, timer.seconds());
  };
  Result<PerplexityReport> r = run_perplexity(*m.impl()->model, tokens, m.bos_token(), o, progress);
  if (!r.is_ok()) return fail(kExitRuntime, r.status().message());
  const double seconds = timer.seconds();
  if (a.json) {
    std::printf("%s\n", to_json(*r, a.model, seconds).dump(2).c_str());
    return kExitOk;
  }
  std::printf("PPL = %.4f +/- %.4f over %lld predictions in %d chunks of %d (%.1f s)\n", r->ppl, r->ppl_error,
              static_cast<long long>(r->n_scored), r->plan.n_windows, r->plan.n_ctx, seconds);
  if (!a.save_logits.empty()) std::printf("log-probabilities saved to %s\n", a.save_logits.c_str());
  if (r->has_kld) {
    const KldSummary& k = r->kld;
    std::printf("base PPL  = %.4f +/- %.4f; PPL ratio %.5f\n", k.ppl_base, k.ppl_base_error, k.ppl_ratio);
    std::printf("KLD mean  = %.6f +/- %.6f nats\n", k.mean, k.mean_error);
    std::printf("KLD median %.6f, p90 %.6f, p99 %.6f, max %.6f\n", k.median, k.p90, k.p99, k.max);
    std::printf("top-1 agreement %.2f %%; RMS dp %.3f %%\n", k.top1_percent, k.rms_dp);
  }
  return kExitOk;
}

}  // namespace

void add_perplexity_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<PerplexityArgs>();
  CLI::App* sub = app.add_subcommand(
      "perplexity",
      "Perplexity of a model on a text file, and KL divergence against a reference model's saved log-probabilities.\n"
      "As llama.cpp's llama-perplexity: the text is cut into windows of --ctx tokens, each run from an empty\n"
      "context with BOS in its first position, and only the second half of each window is scored (every\n"
      "scored token sees at least ctx/2 tokens of context). --stride S instead starts a window every S tokens\n"
      "and scores its last S predictions. Reference run: --save-logits FILE; compared run: --kld-base FILE\n"
      "(same text, --ctx, --stride, --chunks and vocabulary).");
  sub->add_option("-m,--model", a->model, "GGUF model")->required();
  sub->add_option("-f,--file", a->text_file, "Text file to score")->required();
  sub->add_option("-c,--ctx", a->ctx, "Tokens per window")->capture_default_str();
  sub->add_option("--stride", a->stride, "Start a window every N tokens, scoring its last N (0 = llama.cpp's halves)")
      ->capture_default_str();
  sub->add_option("-b,--batch", a->batch, "Tokens per forward pass")->capture_default_str();
  sub->add_option("-t,--threads", a->threads, "Threads (0 = physical cores)")->capture_default_str();
  sub->add_option("--chunks", a->chunks, "Score at most N windows (0 = all)")->capture_default_str();
  sub->add_option("--save-logits", a->save_logits, "Write this run's log-probabilities (a reference for --kld-base)");
  sub->add_option("--kld-base", a->kld_base, "Compare with a file written by --save-logits: KLD, top-1, PPL ratio");
  sub->add_flag("--json", a->json, "Print the result as JSON on stdout (no progress)");
  sub->callback([a, &action] { action = [a] { return perplexity(*a); }; });
}

}  // namespace edgellm::cli
