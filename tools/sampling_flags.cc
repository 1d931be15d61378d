// Shared session and sampling flags.
#include "sampling_flags.h"

namespace edgellm::cli {

void SamplingFlags::add_to(CLI::App* sub) {
  sub->add_option("-t,--threads", threads, "Threads (default: physical cores)");
  sub->add_option("-c,--ctx-size", ctx, "Context size in tokens (0: the model's, at most 4096)")->capture_default_str();
  sub->add_option("-b,--batch-size", batch, "Prompt tokens per forward pass")->capture_default_str();
  sub->add_option("--temp", temp, "Temperature (0: greedy)")->capture_default_str();
  sub->add_option("--top-k", top_k, "Top-k (0: off)")->capture_default_str();
  sub->add_option("--top-p", top_p, "Top-p (1: off)")->capture_default_str();
  sub->add_option("--min-p", min_p, "Min-p (0: off)")->capture_default_str();
  sub->add_option("--repeat-penalty", repeat_penalty, "Repetition penalty (1: off)")->capture_default_str();
  sub->add_option("--repeat-last-n", repeat_last_n, "Penalty window in tokens")->capture_default_str();
  sub->add_option("--frequency-penalty", frequency_penalty, "Frequency penalty")->capture_default_str();
  sub->add_option("--presence-penalty", presence_penalty, "Presence penalty")->capture_default_str();
  sub->add_option("--seed", seed, "Sampling seed");
}

std::optional<UsageError> SamplingFlags::validate() const {
  if (threads_set) {
    if (auto e = check_int("-t", threads, 1, kMaxThreads, "threads")) return e;
  }
  if (auto e = check_int("-c", ctx, 0, kMaxContext, "the context size (0 = the model's, at most 4096)")) return e;
  if (auto e = check_int("-b", batch, 1, 65536, "the batch size")) return e;
  if (auto e = check_float("--temp", temp, 0.0, 100.0, "the temperature (0 = greedy)")) return e;
  if (auto e = check_int("--top-k", top_k, 0, kMaxTokens, "top-k (0 = off)")) return e;
  if (auto e = check_float("--top-p", top_p, 0.0, 1.0, "top-p (1 = off)")) return e;
  if (auto e = check_float("--min-p", min_p, 0.0, 1.0, "min-p (0 = off)")) return e;
  if (auto e = check_float("--repeat-penalty", repeat_penalty, 1e-3, 100.0, "the repeat penalty (1 = off)")) return e;
  if (auto e = check_int("--repeat-last-n", repeat_last_n, 0, kMaxTokens, "the penalty window")) return e;
  if (auto e = check_float("--frequency-penalty", frequency_penalty, -100.0, 100.0, "the frequency penalty")) return e;
  if (auto e = check_float("--presence-penalty", presence_penalty, -100.0, 100.0, "the presence penalty")) return e;
  return std::nullopt;
}

SessionOptions SamplingFlags::session_options() const {
  SessionOptions so;
  so.n_threads = static_cast<int>(threads);
  so.n_ctx = static_cast<int>(ctx);
  so.n_batch = static_cast<int>(batch);
  return so;
}

SamplerParams SamplingFlags::sampler_params() const {
  SamplerParams sp;
  sp.temperature = static_cast<float>(temp);
  sp.top_k = static_cast<int>(top_k);
  sp.top_p = static_cast<float>(top_p);
  sp.min_p = static_cast<float>(min_p);
  sp.repeat_penalty = static_cast<float>(repeat_penalty);
  sp.repeat_last_n = static_cast<int>(repeat_last_n);
  sp.frequency_penalty = static_cast<float>(frequency_penalty);
  sp.presence_penalty = static_cast<float>(presence_penalty);
  sp.seed = seed;
  return sp;
}

}  // namespace edgellm::cli
