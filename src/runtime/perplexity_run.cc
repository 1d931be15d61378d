#include "runtime/perplexity_run.h"

#include <algorithm>
#include <new>

#include "kernels/ops.h"
#include "runtime/perplexity_file.h"

namespace edgellm {

Result<std::unique_ptr<WindowScorer>> WindowScorer::create(const TransformerModel& model, int n_ctx, int n_batch,
                                                           int n_threads) {
  if (n_ctx < 2) return Status::error("context " + std::to_string(n_ctx) + " must be at least 2");
  if (n_batch < 1) return Status::error("batch " + std::to_string(n_batch) + " must be at least 1");
  if (n_threads < 0) return Status::error("threads " + std::to_string(n_threads) + " must be >= 0");
  const int threads = n_threads == 0 ? ThreadPool::physical_cores() : n_threads;
  const int batch = std::min(n_batch, n_ctx);
  EL_ASSIGN_OR_RETURN(KvCache kv, KvCache::create(model.hp, n_ctx));
  EL_ASSIGN_OR_RETURN(ForwardScratch s, ForwardScratch::create(model, batch, n_ctx, threads));
  std::unique_ptr<WindowScorer> w(
      new WindowScorer(model, std::move(kv), std::move(s), std::make_unique<ThreadPool>(threads)));
  try {
    w->normed_.resize(static_cast<size_t>(batch) * static_cast<size_t>(model.hp.n_embd));
    w->logits_.resize(static_cast<size_t>(batch) * static_cast<size_t>(model.hp.n_vocab));
  } catch (const std::bad_alloc&) {
    return Status::error("out of memory allocating logits for a batch of " + std::to_string(batch) + " tokens");
  }
  return w;
}

Status WindowScorer::score(std::span<const int32_t> tokens, int first, std::vector<float>* out) {
  const int n = static_cast<int>(tokens.size());
  const int n_vocab = m_.hp.n_vocab, d = m_.hp.n_embd;
  if (n < 1 || n > kv_.n_ctx())
    return Status::error(std::to_string(n) + " tokens do not fit a context of " + std::to_string(kv_.n_ctx()));
  if (first < 0 || first >= n - 1)
    return Status::error("first scored position " + std::to_string(first) + " is outside [0, " + std::to_string(n - 1) +
                         ")");
  for (int i = 0; i < n; ++i) {
    if (tokens[static_cast<size_t>(i)] < 0 || tokens[static_cast<size_t>(i)] >= n_vocab)
      return Status::error("token " + std::to_string(i) + " has id " + std::to_string(tokens[static_cast<size_t>(i)]) +
                           ", outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
  }
  out->resize(static_cast<size_t>(n - 1 - first) * static_cast<size_t>(n_vocab));
  const std::span<const KvLayerView> kv(kv_.layers());
  for (int b = 0; b < n; b += s_.n_batch) {
    const int nb = std::min(n - b, s_.n_batch);
    // The output head is skipped here and applied below to every scored row of the batch at once.
    forward(m_, tokens.data() + b, nb, b, kv, s_, *pool_, /*want_logits=*/false);
    const int lo = std::max(b, first), hi = std::min(b + nb, n - 1);  // scored positions in this batch
    if (lo >= hi) continue;
    // After forward(), s_.x holds the residual stream of every token of the batch, [nb][n_embd]
    // (model/blocks.h); the final norm and the output matrix turn the scored rows into logits.
    const float* x = s_.x.as<float>();
    for (int j = lo; j < hi; ++j)
      rms_norm(x + static_cast<int64_t>(j - b) * d, m_.output_norm.data(),
               normed_.data() + static_cast<size_t>(j - lo) * static_cast<size_t>(d), d, m_.hp.norm_eps);
    m_.output.forward(normed_.data(), hi - lo, logits_.data(), *pool_, s_.mm);
    for (int j = lo; j < hi; ++j) {
      const std::span<const float> row(logits_.data() + static_cast<size_t>(j - lo) * static_cast<size_t>(n_vocab),
                                       static_cast<size_t>(n_vocab));
      log_softmax(row, std::span<float>(out->data() + static_cast<size_t>(j - first) * static_cast<size_t>(n_vocab),
                                        static_cast<size_t>(n_vocab)));
    }
  }
  return Status::ok();
}

Result<PerplexityReport> run_perplexity(const TransformerModel& model, std::span<const int32_t> tokens, int32_t bos,
                                        const PerplexityOptions& opts, const PerplexityProgress& progress) {
  PerplexityReport rep;
  rep.n_text_tokens = tokens.size();
  EL_ASSIGN_OR_RETURN(rep.plan, plan_perplexity(tokens.size(), opts.n_ctx, opts.stride, opts.max_chunks));
  const PerplexityPlan& plan = rep.plan;
  const size_t n_vocab = static_cast<size_t>(model.hp.n_vocab);

  LogitsHeader mine;
  mine.model = opts.model_name;
  mine.n_vocab = static_cast<uint32_t>(n_vocab);
  mine.plan = plan;
  for (int w = 0; w < plan.n_windows; ++w) {
    const std::vector<int32_t> win = window_tokens(tokens, plan, w, bos);
    mine.tokens.insert(mine.tokens.end(), win.begin(), win.end());
  }
  // Open and check the base before any compute, so a mismatch costs nothing.
  std::unique_ptr<LogitsReader> base;
  if (!opts.kld_base.empty()) {
    EL_ASSIGN_OR_RETURN(base, LogitsReader::open(opts.kld_base));
    EL_RETURN_IF_ERROR(check_compatible(base->header(), mine).with_context(opts.kld_base));
  }
  std::unique_ptr<LogitsWriter> writer;
  if (!opts.save_logits.empty()) {
    EL_ASSIGN_OR_RETURN(writer, LogitsWriter::create(opts.save_logits, mine));
  }

  EL_ASSIGN_OR_RETURN(auto scorer, WindowScorer::create(model, plan.n_ctx, opts.n_batch, opts.n_threads));
  PplStats ppl;
  KldStats kld;
  std::vector<float> lp, base_lp;
  const size_t n_ctx = static_cast<size_t>(plan.n_ctx);
  for (int w = 0; w < plan.n_windows; ++w) {
    const std::span<const int32_t> win(mine.tokens.data() + static_cast<size_t>(w) * n_ctx, n_ctx);
    EL_RETURN_IF_ERROR(scorer->score(win, plan.first, &lp));
    if (base) EL_RETURN_IF_ERROR(base->read_window(&base_lp));
    for (int r = 0; r < plan.n_scored(); ++r) {
      const int32_t next = win[static_cast<size_t>(plan.first + r + 1)];
      const std::span<const float> row(lp.data() + static_cast<size_t>(r) * n_vocab, n_vocab);
      ppl.add(-static_cast<double>(row[static_cast<size_t>(next)]));
      if (base) kld.add(std::span<const float>(base_lp.data() + static_cast<size_t>(r) * n_vocab, n_vocab), row, next);
    }
    if (writer) EL_RETURN_IF_ERROR(writer->write_window(lp));
    if (progress) progress(w + 1, plan.n_windows, ppl.ppl(), ppl.ppl_error());
  }
  if (writer) EL_RETURN_IF_ERROR(writer->finish());
  rep.n_scored = ppl.count();
  rep.ppl = ppl.ppl();
  rep.ppl_error = ppl.ppl_error();
  if (base) {
    rep.has_kld = true;
    rep.kld = kld.summary();
  }
  return rep;
}

}  // namespace edgellm
