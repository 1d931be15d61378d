#include "runtime/engine.h"

#include <algorithm>
#include <string>

#include "core/log.h"

namespace edgellm {

Result<std::unique_ptr<Engine>> Engine::create(const TransformerModel& m, const EngineOptions& opts) {
  if (opts.n_threads < 0) return Status::error("n_threads " + std::to_string(opts.n_threads) + " must be >= 0");
  if (opts.n_ctx < 0) return Status::error("n_ctx " + std::to_string(opts.n_ctx) + " must be >= 0");
  if (opts.n_batch <= 0) return Status::error("n_batch " + std::to_string(opts.n_batch) + " must be > 0");
  const int n_ctx = opts.n_ctx == 0 ? std::min(m.hp.n_ctx_train, 4096) : opts.n_ctx;
  if (n_ctx > m.hp.n_ctx_train) {
    EL_LOG_WARN("context size %d exceeds the model's training context %d; quality may degrade past it", n_ctx,
                m.hp.n_ctx_train);
  }
  const int n_threads = opts.n_threads == 0 ? ThreadPool::physical_cores() : opts.n_threads;
  const int n_batch = std::min(opts.n_batch, n_ctx);
  EL_ASSIGN_OR_RETURN(KvCache kv, KvCache::create(m.hp, n_ctx));
  EL_ASSIGN_OR_RETURN(ForwardScratch s, ForwardScratch::create(m, n_batch, n_ctx, n_threads));
  auto pool = std::make_unique<ThreadPool>(n_threads);
  return std::unique_ptr<Engine>(new Engine(m, std::move(kv), std::move(s), std::move(pool)));
}

Status Engine::prefill(std::span<const int32_t> tokens) {
  if (tokens.empty()) return Status::error("no tokens to process");
  const int n_vocab = model_.hp.n_vocab;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return Status::error("token " + std::to_string(i) + " has id " + std::to_string(tokens[i]) +
                           ", outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
    }
  }
  if (tokens.size() > static_cast<size_t>(n_ctx() - n_past_)) {
    return Status::error(std::to_string(tokens.size()) + " tokens do not fit in the context: " +
                         std::to_string(n_past_) + " of " + std::to_string(n_ctx()) + " positions are used");
  }
  const std::span<const KvLayerView> kv(kv_.layers());
  for (size_t b = 0; b < tokens.size(); b += static_cast<size_t>(scratch_.n_batch)) {
    const int n = static_cast<int>(std::min(tokens.size() - b, static_cast<size_t>(scratch_.n_batch)));
    const bool last_batch = b + static_cast<size_t>(n) == tokens.size();
    forward(model_, tokens.data() + b, n, n_past_, kv, scratch_, *pool_, last_batch);
    n_past_ += n;
  }
  has_logits_ = true;
  return Status::ok();
}

std::span<const float> Engine::logits() const {
  if (!has_logits_) return {};
  return {scratch_.logits.as<float>(), static_cast<size_t>(model_.hp.n_vocab)};
}

void Engine::truncate(int n) {
  n_past_ = std::clamp(n, 0, n_past_);
  has_logits_ = false;
}

}  // namespace edgellm
