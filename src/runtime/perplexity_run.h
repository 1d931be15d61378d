// Scoring a model on a token stream (`edgellm perplexity`): every window is prefilled in batches and the
// logits of all scored positions are computed at once (one output-head GEMM per batch), then turned into
// log-probabilities for PPL, for a saved reference file, or for KL divergence against one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "model/blocks.h"
#include "model/model.h"
#include "runtime/kv_cache.h"
#include "runtime/perplexity.h"

namespace edgellm {

// Runs windows of a model and returns the log-probabilities of the predictions at every position from a given
// one on. Owns its KV cache, activations and thread pool (allocated once). Not thread-safe.
class WindowScorer {
 public:
  // `model` must outlive the scorer. Errors: bad sizes (n_ctx < 2, n_batch < 1, n_threads < 0), out of memory.
  static Result<std::unique_ptr<WindowScorer>> create(const TransformerModel& model, int n_ctx, int n_batch,
                                                      int n_threads);
  // Runs `tokens` (1..n_ctx ids) from an empty context and writes, for positions j in [first, size - 1), the
  // log-softmax of the logits at j into out: (size - 1 - first) rows of n_vocab floats. Errors: an id outside
  // the vocabulary, too many tokens, first outside [0, size - 1).
  Status score(std::span<const int32_t> tokens, int first, std::vector<float>* out);
  int n_threads() const { return pool_->size(); }

 private:
  WindowScorer(const TransformerModel& m, KvCache kv, ForwardScratch s, std::unique_ptr<ThreadPool> pool)
      : m_(m), kv_(std::move(kv)), s_(std::move(s)), pool_(std::move(pool)) {}
  const TransformerModel& m_;
  KvCache kv_;
  ForwardScratch s_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<float> normed_, logits_;  // [n_batch][n_embd], [n_batch][n_vocab]
};

struct PerplexityOptions {
  int n_ctx = 512;
  int stride = 0;           // 0: llama.cpp's back-to-back windows scoring their second half (plan_perplexity)
  int n_batch = 512;        // tokens per forward pass (clamped to n_ctx)
  int n_threads = 0;        // 0 = physical cores
  int max_chunks = 0;       // 0 = every window that fits
  std::string model_name;   // stored in a saved file, for messages
  std::string save_logits;  // write the log-probabilities here ("" = no)
  std::string kld_base;     // compare with this saved file ("" = no)
};

struct PerplexityReport {
  PerplexityPlan plan;
  size_t n_text_tokens = 0;
  int64_t n_scored = 0;
  double ppl = 0, ppl_error = 0;
  bool has_kld = false;
  KldSummary kld;
};

// After each window: windows done, of total, and the running PPL and its error.
using PerplexityProgress = std::function<void(int done, int total, double ppl, double ppl_error)>;

// Scores `tokens` (the whole text, BOS not needed: each window gets `bos` in front when bos >= 0) with `model`.
// With save_logits, writes the reference file; with kld_base, checks it matches this run (vocabulary, context,
// windows, tokens) before any compute and adds the KLD summary. Errors: the plan's (text too short ...), the
// files', the model's.
Result<PerplexityReport> run_perplexity(const TransformerModel& model, std::span<const int32_t> tokens, int32_t bos,
                                        const PerplexityOptions& opts, const PerplexityProgress& progress = {});

}  // namespace edgellm
