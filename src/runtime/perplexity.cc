#include "runtime/perplexity.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

#include "runtime/sampling.h"  // argmax

namespace edgellm {

Result<PerplexityPlan> plan_perplexity(size_t n_tokens, int n_ctx, int stride, int max_windows) {
  // Below 4 tokens the scored half would be empty or score a single prediction without context.
  if (n_ctx < 4) return Status::error("context " + std::to_string(n_ctx) + " is too small: it must be at least 4");
  if (stride < 0 || stride > n_ctx - 1)
    return Status::error("stride " + std::to_string(stride) + " must be between 1 and the context minus one (" +
                         std::to_string(n_ctx - 1) + "), or 0 for windows back to back");
  if (max_windows < 0) return Status::error("chunk count " + std::to_string(max_windows) + " must be >= 0");
  if (n_tokens < static_cast<size_t>(n_ctx))
    return Status::error("the text has " + std::to_string(n_tokens) + " tokens, fewer than one window of " +
                         std::to_string(n_ctx) + ": give a longer text or a smaller context");
  PerplexityPlan p;
  p.n_ctx = n_ctx;
  p.step = stride == 0 ? n_ctx : stride;
  p.first = stride == 0 ? n_ctx / 2 : n_ctx - 1 - stride;
  const size_t fit = (n_tokens - static_cast<size_t>(n_ctx)) / static_cast<size_t>(p.step) + 1;
  p.n_windows = static_cast<int>(std::min<size_t>(fit, max_windows > 0 ? static_cast<size_t>(max_windows) : fit));
  return p;
}

std::vector<int32_t> window_tokens(std::span<const int32_t> tokens, const PerplexityPlan& plan, int w, int32_t bos) {
  const size_t begin = static_cast<size_t>(w) * static_cast<size_t>(plan.step);
  assert(begin + static_cast<size_t>(plan.n_ctx) <= tokens.size());
  std::vector<int32_t> out(tokens.begin() + static_cast<std::ptrdiff_t>(begin),
                           tokens.begin() + static_cast<std::ptrdiff_t>(begin + static_cast<size_t>(plan.n_ctx)));
  if (bos >= 0) out[0] = bos;
  return out;
}

void log_softmax(std::span<const float> logits, std::span<float> out) {
  assert(logits.size() == out.size() && !logits.empty());
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - mx));
  const double log_z = static_cast<double>(mx) + std::log(sum);
  for (size_t i = 0; i < logits.size(); ++i) out[i] = static_cast<float>(static_cast<double>(logits[i]) - log_z);
}

double kl_divergence(std::span<const float> base_logprobs, std::span<const float> logprobs) {
  assert(base_logprobs.size() == logprobs.size());
  double kl = 0;
  for (size_t i = 0; i < base_logprobs.size(); ++i) {
    const double b = base_logprobs[i];
    kl += std::exp(b) * (b - static_cast<double>(logprobs[i]));
  }
  return kl;
}

void PplStats::add(double nll) {
  ++n_;
  sum_ += nll;
  sum2_ += nll * nll;
}

double PplStats::mean_nll() const { return n_ ? sum_ / static_cast<double>(n_) : 0; }

double PplStats::ppl() const { return std::exp(mean_nll()); }

double PplStats::ppl_error() const {
  if (n_ < 2) return 0;
  const double mean = mean_nll();
  const double var = std::max(0.0, sum2_ / static_cast<double>(n_) - mean * mean);
  return ppl() * std::sqrt(var / static_cast<double>(n_ - 1));
}

void KldStats::add(std::span<const float> base_logprobs, std::span<const float> logprobs, int32_t next_token) {
  assert(base_logprobs.size() == logprobs.size());
  assert(next_token >= 0 && static_cast<size_t>(next_token) < logprobs.size());
  kld_.push_back(kl_divergence(base_logprobs, logprobs));
  const size_t t = static_cast<size_t>(next_token);
  base_.add(-static_cast<double>(base_logprobs[t]));
  cur_.add(-static_cast<double>(logprobs[t]));
  const double dp = std::exp(static_cast<double>(logprobs[t])) - std::exp(static_cast<double>(base_logprobs[t]));
  sum_dp2_ += dp * dp;
  if (argmax(base_logprobs) == argmax(logprobs)) ++top1_same_;
}

KldSummary KldStats::summary() const {
  KldSummary s;
  s.n = count();
  if (s.n == 0) return s;
  const double n = static_cast<double>(s.n);
  double sum = 0, sum2 = 0;
  for (double k : kld_) {
    sum += k;
    sum2 += k * k;
  }
  s.mean = sum / n;
  s.mean_error = s.n > 1 ? std::sqrt(std::max(0.0, sum2 / n - s.mean * s.mean) / (n - 1)) : 0;
  std::vector<double> sorted = kld_;
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const auto pct = [&](double q) {
    const size_t rank = static_cast<size_t>(std::ceil(q * n));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
  };
  s.median = pct(0.5);
  s.p90 = pct(0.9);
  s.p99 = pct(0.99);
  s.max = sorted.back();
  s.top1_percent = 100.0 * static_cast<double>(top1_same_) / n;
  s.rms_dp = 100.0 * std::sqrt(sum_dp2_ / n);
  s.ppl = cur_.ppl();
  s.ppl_error = cur_.ppl_error();
  s.ppl_base = base_.ppl();
  s.ppl_base_error = base_.ppl_error();
  s.ppl_ratio = s.ppl / s.ppl_base;
  return s;
}

}  // namespace edgellm
