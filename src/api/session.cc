// Session and Sampler: thin wrappers over runtime::Engine and runtime::SamplingChain.
#include <utility>

#include "api/impl.h"

namespace edgellm {

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<Model> model, const SessionOptions& opts) {
  if (!model) return Status::error("Session::create: no model");
  EngineOptions eo;
  eo.n_threads = opts.n_threads;
  eo.n_ctx = opts.n_ctx;
  eo.n_batch = opts.n_batch;
  auto impl = std::make_unique<Impl>();
  EL_ASSIGN_OR_RETURN(impl->engine, Engine::create(*model->impl()->model, eo));
  impl->model = std::move(model);
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Status Session::prefill(std::span<const int32_t> tokens) { return impl_->engine->prefill(tokens); }
Status Session::decode(int32_t token) { return impl_->engine->decode(token); }
std::span<const float> Session::logits() const { return impl_->engine->logits(); }
int Session::n_past() const { return impl_->engine->n_past(); }
int Session::n_ctx() const { return impl_->engine->n_ctx(); }
int Session::n_threads() const { return impl_->engine->n_threads(); }
void Session::truncate(int n_past) { impl_->engine->truncate(n_past); }

Sampler::Sampler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sampler::~Sampler() = default;

Result<std::unique_ptr<Sampler>> Sampler::create(const SamplerParams& params, int n_vocab) {
  SamplingParams p;
  p.temperature = params.temperature;
  p.top_k = params.top_k;
  p.top_p = params.top_p;
  p.min_p = params.min_p;
  p.repeat_penalty = params.repeat_penalty;
  p.repeat_last_n = params.repeat_last_n;
  p.frequency_penalty = params.frequency_penalty;
  p.presence_penalty = params.presence_penalty;
  p.seed = params.seed;
  EL_ASSIGN_OR_RETURN(SamplingChain chain, SamplingChain::create(p, n_vocab));
  return std::unique_ptr<Sampler>(new Sampler(std::make_unique<Impl>(Impl{std::move(chain)})));
}

int32_t Sampler::sample(std::span<const float> logits) { return impl_->chain.sample(logits); }
void Sampler::accept(int32_t token) { impl_->chain.accept(token); }
void Sampler::reset() { impl_->chain.reset(); }

}  // namespace edgellm
