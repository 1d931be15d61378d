// Perplexity and KL-divergence arithmetic, with llama.cpp's llama-perplexity method: the token stream is cut
// into windows of n_ctx tokens, each run from an empty context with BOS in its first position, and only the
// second half of each window is scored, so that every scored prediction sees at least n_ctx/2 tokens of
// context. The scoring of a model (perplexity_run.h) and the logits file (perplexity_file.h) build on this.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace edgellm {

// How a token stream is cut into windows. In window w (tokens [w*step, w*step + n_ctx)), the logits at
// positions j in [first, n_ctx - 1) are scored against the token at j + 1.
struct PerplexityPlan {
  int n_ctx = 0;                                      // tokens per window
  int step = 0;                                       // tokens between the starts of two windows
  int first = 0;                                      // first scored logit position of a window
  int n_windows = 0;                                  // windows that fit the stream (or the requested maximum)
  int n_scored() const { return n_ctx - 1 - first; }  // predictions scored per window
};

// stride 0: llama.cpp's default, windows back to back scoring their second half (first = n_ctx/2).
// stride S in [1, n_ctx - 1]: windows start every S tokens and score their last S predictions, so every token
// after the first window's unscored prefix is scored exactly once, with at least n_ctx - 1 - S tokens of context.
// max_windows 0 means all that fit. Errors (with the numbers): n_ctx < 4, a stride out of range, a negative
// max_windows, fewer than n_ctx tokens.
Result<PerplexityPlan> plan_perplexity(size_t n_tokens, int n_ctx, int stride, int max_windows);

// The n_ctx tokens of window w, the first replaced by `bos` when bos >= 0 (as llama.cpp does).
// `tokens` must hold the whole stream the plan was made for.
std::vector<int32_t> window_tokens(std::span<const int32_t> tokens, const PerplexityPlan& plan, int w, int32_t bos);

// out[i] = logits[i] - log(sum_j exp(logits[j])), computed stably (max subtracted, sums in double).
// out.size() must equal logits.size() (>= 1); the two may alias.
void log_softmax(std::span<const float> logits, std::span<float> out);

// KL(base || cur) = sum_i p_base[i] (log p_base[i] - log p_cur[i]) for two rows of log-probabilities over the
// same vocabulary (same size). Non-negative up to rounding for normalized inputs; in nats.
double kl_divergence(std::span<const float> base_logprobs, std::span<const float> logprobs);

// Running statistics of negative log-likelihoods (nats). PPL = exp(mean NLL); its standard error comes from the
// standard error of the mean NLL by the delta method (d exp(x) = exp(x) dx), as llama.cpp reports it.
class PplStats {
 public:
  void add(double nll);
  int64_t count() const { return n_; }
  double mean_nll() const;
  double ppl() const;
  double ppl_error() const;  // 0 with fewer than two samples

 private:
  int64_t n_ = 0;
  double sum_ = 0, sum2_ = 0;
};

// Everything `edgellm perplexity --kld-base` reports about a model against the base model's log-probabilities.
struct KldSummary {
  int64_t n = 0;                                 // predictions compared
  double mean = 0, mean_error = 0;               // mean KLD (nats) and its standard error
  double median = 0, p90 = 0, p99 = 0, max = 0;  // of the per-prediction KLDs
  double top1_percent = 0;                       // predictions whose most likely token is the base's
  double rms_dp = 0;                             // RMS of p(next token) minus the base's, in percentage points
  double ppl = 0, ppl_error = 0;                 // this model
  double ppl_base = 0, ppl_base_error = 0;       // the base, from its saved log-probabilities
  double ppl_ratio = 0;                          // ppl / ppl_base
};

// Accumulates predictions of a model and a base model over the same tokens.
class KldStats {
 public:
  // One prediction: both rows of log-probabilities (same size) and the token that actually came next
  // (0 <= next_token < size).
  void add(std::span<const float> base_logprobs, std::span<const float> logprobs, int32_t next_token);
  int64_t count() const { return static_cast<int64_t>(kld_.size()); }
  // Percentiles are nearest-rank on the sorted per-prediction values; all zero when nothing was added.
  KldSummary summary() const;

 private:
  std::vector<double> kld_;
  double sum_dp2_ = 0;
  int64_t top1_same_ = 0;
  PplStats base_, cur_;
};

}  // namespace edgellm
