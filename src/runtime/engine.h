// The runtime side of a session: one sequence, its KV cache, activation buffers and thread pool, and the
// prefill/decode loop over a TransformerModel. Everything is allocated in create(); prefill() and
// decode() do not allocate. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "core/thread_pool.h"
#include "model/blocks.h"
#include "model/model.h"
#include "runtime/kv_cache.h"

namespace edgellm {

struct EngineOptions {
  int n_threads = 0;  // 0 = physical cores
  int n_ctx = 0;      // 0 = min(training context, 4096)
  int n_batch = 512;  // tokens per forward pass in prefill (clamped to n_ctx)
};

class Engine {
 public:
  // `model` must outlive the engine. Errors: non-positive n_batch, negative n_ctx/n_threads, a KV cache
  // larger than RAM (with the size needed). A context beyond the training context only logs a warning.
  static Result<std::unique_ptr<Engine>> create(const TransformerModel& model, const EngineOptions& opts);

  // Appends tokens in batches of n_batch and computes the last one's logits. Validates every id and the
  // context room first, so a failure leaves the context unchanged.
  Status prefill(std::span<const int32_t> tokens);
  Status decode(int32_t token) { return prefill(std::span<const int32_t>(&token, 1)); }

  std::span<const float> logits() const;  // n_vocab floats; empty before the first forward
  int n_past() const { return n_past_; }
  int n_ctx() const { return kv_.n_ctx(); }
  int n_batch() const { return scratch_.n_batch; }
  int n_threads() const { return pool_->size(); }
  // Keeps the first n tokens (clamped to [0, n_past]); the logits become stale and are cleared.
  void truncate(int n);
  uint64_t kv_bytes() const { return kv_.bytes(); }

 private:
  Engine(const TransformerModel& m, KvCache kv, ForwardScratch s, std::unique_ptr<ThreadPool> pool)
      : model_(m), kv_(std::move(kv)), scratch_(std::move(s)), pool_(std::move(pool)) {}

  const TransformerModel& model_;
  KvCache kv_;
  ForwardScratch scratch_;
  std::unique_ptr<ThreadPool> pool_;
  int n_past_ = 0;
  bool has_logits_ = false;
};

}  // namespace edgellm
