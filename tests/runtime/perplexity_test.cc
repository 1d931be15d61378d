// Perplexity and KLD: the arithmetic on cases computed by hand, the window scorer against a session's
// logits, whole runs on tiny models (a uniform model's PPL is its vocabulary size; a model against itself has
// zero KLD), and the log-probability file's round trip and every error path.
#include "runtime/perplexity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "api/impl.h"
#include "edgellm/edgellm.h"
#include "model/tiny_model.h"
#include "runtime/perplexity_file.h"
#include "runtime/perplexity_run.h"
#include "test_util.h"

namespace edgellm {
namespace {

using ::testing::HasSubstr;

// ---- arithmetic

TEST(PerplexityPlan, DefaultScoresSecondHalfOfBackToBackWindows) {
  Result<PerplexityPlan> p = plan_perplexity(100, 16, 0, 0);
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->step, 16);
  EXPECT_EQ(p->first, 8);
  EXPECT_EQ(p->n_scored(), 7);  // logits 8..14 predict tokens 9..15
  EXPECT_EQ(p->n_windows, 6);   // 6 * 16 = 96 <= 100
  EXPECT_EQ(plan_perplexity(100, 16, 0, 2)->n_windows, 2);
}

TEST(PerplexityPlan, StrideScoresEveryTokenOnce) {
  Result<PerplexityPlan> p = plan_perplexity(40, 16, 4, 0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->step, 4);
  EXPECT_EQ(p->n_scored(), 4);
  EXPECT_EQ(p->n_windows, 7);  // starts 0, 4, ..., 24
  // Window w predicts absolute tokens [w*4 + first + 1, w*4 + 16): consecutive windows touch, never overlap.
  EXPECT_EQ(p->step + p->first + 1, 16 - p->n_scored() + p->step);
}

TEST(PerplexityPlan, Errors) {
  EXPECT_THAT(plan_perplexity(10, 16, 0, 0).status().message(), HasSubstr("10 tokens, fewer than one window of 16"));
  EXPECT_THAT(plan_perplexity(100, 3, 0, 0).status().message(), HasSubstr("context 3 is too small"));
  EXPECT_THAT(plan_perplexity(100, 16, 16, 0).status().message(), HasSubstr("stride 16"));
  EXPECT_THAT(plan_perplexity(100, 16, -1, 0).status().message(), HasSubstr("stride -1"));
  EXPECT_THAT(plan_perplexity(100, 16, 0, -2).status().message(), HasSubstr("chunk count -2"));
}

TEST(PerplexityMath, WindowTokensPutBosFirst) {
  const std::vector<int32_t> t = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  const PerplexityPlan p = *plan_perplexity(t.size(), 4, 0, 0);
  EXPECT_EQ(window_tokens(t, p, 1, 1), (std::vector<int32_t>{1, 4, 3, 2}));
  EXPECT_EQ(window_tokens(t, p, 0, -1), (std::vector<int32_t>{9, 8, 7, 6}));
}

TEST(PerplexityMath, LogSoftmaxByHand) {
  const std::vector<float> logits = {0.0f, std::log(3.0f), 1000.0f - 1000.0f};
  std::vector<float> out(3);
  log_softmax(logits, out);
  EXPECT_NEAR(out[0], std::log(0.2), 1e-6);
  EXPECT_NEAR(out[1], std::log(0.6), 1e-6);
  // Large logits must not overflow.
  const std::vector<float> big = {1000.0f, 1000.0f};
  log_softmax(big, std::span<float>(out.data(), 2));
  EXPECT_NEAR(out[0], -std::log(2.0), 1e-6);
}

TEST(PerplexityMath, KlDivergenceByHand) {
  const std::vector<float> p = {std::log(0.5f), std::log(0.5f)}, q = {std::log(0.25f), std::log(0.75f)};
  EXPECT_NEAR(kl_divergence(p, q), 0.5 * std::log(4.0 / 3.0), 1e-7);
  EXPECT_NEAR(kl_divergence(p, p), 0.0, 1e-12);
}

TEST(PerplexityMath, PplAndErrorByHand) {
  PplStats s;
  s.add(std::log(2.0));
  s.add(std::log(8.0));
  EXPECT_NEAR(s.ppl(), 4.0, 1e-12);  // exp(mean(ln 2, ln 8)) = exp(2 ln 2)
  // Variance of the NLLs is (ln 2)^2, the mean's standard error ln 2, so PPL's error is 4 ln 2.
  EXPECT_NEAR(s.ppl_error(), 4.0 * std::log(2.0), 1e-12);
  PplStats one;
  one.add(1.0);
  EXPECT_EQ(one.ppl_error(), 0.0);
}

TEST(PerplexityMath, KldStatsByHand) {
  const std::vector<float> half = {std::log(0.5f), std::log(0.5f)}, skew = {std::log(0.25f), std::log(0.75f)};
  KldStats k;
  k.add(half, half, 0);
  k.add(half, skew, 0);  // p(next) goes 0.5 -> 0.25; argmax 0 (tie) vs 1
  const KldSummary s = k.summary();
  EXPECT_EQ(s.n, 2);
  EXPECT_NEAR(s.mean, 0.25 * std::log(4.0 / 3.0), 1e-7);
  EXPECT_NEAR(s.max, 0.5 * std::log(4.0 / 3.0), 1e-7);
  EXPECT_NEAR(s.median, 0.0, 1e-7);
  EXPECT_NEAR(s.p99, s.max, 1e-12);
  EXPECT_NEAR(s.top1_percent, 50.0, 1e-9);
  EXPECT_NEAR(s.rms_dp, 100.0 * std::sqrt(0.25 * 0.25 / 2), 1e-5);
  EXPECT_NEAR(s.ppl_base, 2.0, 1e-6);
  EXPECT_NEAR(s.ppl, std::sqrt(2.0 * 4.0), 1e-5);
  EXPECT_NEAR(s.ppl_ratio, std::sqrt(2.0), 1e-5);
  EXPECT_EQ(KldStats().summary().n, 0);
}

// ---- scoring models

std::shared_ptr<Model> load(const test::TinyModel& m) {
  Result<std::vector<uint8_t>> bytes = test::tiny_writer(m).write_bytes();
  EXPECT_TRUE(bytes) << bytes.status().message();
  Result<std::shared_ptr<Model>> model = Model::load_from_bytes(std::move(bytes).value(), "tiny");
  EXPECT_TRUE(model) << model.status().message();
  return model ? *model : nullptr;
}

std::vector<int32_t> stream(int n, int n_vocab, uint32_t seed) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  uint32_t s = seed;
  for (int32_t& x : t) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<int32_t>((s >> 8) % static_cast<uint32_t>(n_vocab));
  }
  return t;
}

TEST(WindowScorer, EveryRowMatchesTheSessionsLogitsForThatPrefix) {
  std::shared_ptr<Model> model = load(test::make_tiny_model({}));
  ASSERT_TRUE(model);
  const TransformerModel& tm = *model->impl()->model;
  const std::vector<int32_t> toks = stream(13, tm.hp.n_vocab, 3);
  // A batch of 5 splits the 13 tokens so that scored rows fall in every batch.
  Result<std::unique_ptr<WindowScorer>> sc = WindowScorer::create(tm, 16, 5, 1);
  ASSERT_TRUE(sc) << sc.status().message();
  std::vector<float> lp;
  ASSERT_TRUE((*sc)->score(toks, 2, &lp).is_ok());
  const size_t nv = static_cast<size_t>(tm.hp.n_vocab);
  ASSERT_EQ(lp.size(), 10 * nv);
  std::vector<float> want(nv);
  for (int j = 2; j < 12; ++j) {
    SessionOptions o;
    o.n_ctx = 16;
    o.n_threads = 1;
    auto s = Session::create(model, o);
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->prefill(std::span<const int32_t>(toks.data(), static_cast<size_t>(j + 1))).is_ok());
    log_softmax((*s)->logits(), want);
    for (size_t v = 0; v < nv; ++v)
      ASSERT_NEAR(lp[static_cast<size_t>(j - 2) * nv + v], want[v], 2e-4) << j << " " << v;
  }
  EXPECT_THAT((*sc)->score(toks, 12, &lp).message(), HasSubstr("first scored position 12"));
  const std::vector<int32_t> bad = {1, 2, 999};
  EXPECT_THAT((*sc)->score(bad, 0, &lp).message(), HasSubstr("token 2 has id 999"));
  EXPECT_THAT((*sc)->score(stream(17, 10, 1), 0, &lp).message(), HasSubstr("17 tokens do not fit"));
}

TEST(RunPerplexity, UniformModelHasPerplexityEqualToVocabularySize) {
  test::TinyModel m = test::make_tiny_model({});
  std::fill(m.w["output.weight"].begin(), m.w["output.weight"].end(), 0.0f);  // every logit 0
  std::shared_ptr<Model> model = load(m);
  ASSERT_TRUE(model);
  PerplexityOptions o;
  o.n_ctx = 16;
  o.n_threads = 1;
  Result<PerplexityReport> r = run_perplexity(*model->impl()->model, stream(50, 67, 5), 1, o);
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->plan.n_windows, 3);
  EXPECT_EQ(r->n_scored, 3 * 7);
  EXPECT_NEAR(r->ppl, 67.0, 1e-3);
  EXPECT_NEAR(r->ppl_error, 0.0, 1e-3);
}

TEST(RunPerplexity, BatchSizeDoesNotChangeTheResult) {
  std::shared_ptr<Model> model = load(test::make_tiny_model({}));
  ASSERT_TRUE(model);
  PerplexityOptions o;
  o.n_ctx = 24;
  o.n_threads = 1;
  const std::vector<int32_t> t = stream(80, 67, 9);
  o.n_batch = 24;
  const double whole = run_perplexity(*model->impl()->model, t, 1, o)->ppl;
  o.n_batch = 7;
  EXPECT_NEAR(run_perplexity(*model->impl()->model, t, 1, o)->ppl, whole, 1e-3 * whole);
  EXPECT_GT(whole, 1.0);
}

std::string tmp(const std::string& name) { return test::temp_dir() + "/" + name; }

TEST(RunPerplexity, SavedLogitsRoundTripAndKldAgainstItselfIsZero) {
  std::shared_ptr<Model> model = load(test::make_tiny_model({}));
  test::TinySpec other_spec;
  other_spec.seed = 8;
  std::shared_ptr<Model> other = load(test::make_tiny_model(other_spec));
  ASSERT_TRUE(model && other);
  const std::vector<int32_t> t = stream(70, 67, 11);
  PerplexityOptions o;
  o.n_ctx = 16;
  o.n_threads = 1;
  o.model_name = "tiny";
  o.save_logits = tmp("self.elp");
  Result<PerplexityReport> base = run_perplexity(*model->impl()->model, t, 1, o);
  ASSERT_TRUE(base) << base.status().message();

  Result<std::unique_ptr<LogitsReader>> rd = LogitsReader::open(o.save_logits);
  ASSERT_TRUE(rd) << rd.status().message();
  EXPECT_EQ((*rd)->header().model, "tiny");
  EXPECT_EQ((*rd)->header().n_vocab, 67u);
  EXPECT_EQ((*rd)->header().plan.n_windows, 4);
  EXPECT_EQ((*rd)->header().tokens[16], 1);  // BOS starts window 1
  EXPECT_EQ((*rd)->header().tokens[17], t[17]);

  o.kld_base = o.save_logits;
  o.save_logits.clear();
  Result<PerplexityReport> self = run_perplexity(*model->impl()->model, t, 1, o);
  ASSERT_TRUE(self) << self.status().message();
  ASSERT_TRUE(self->has_kld);
  EXPECT_NEAR(self->kld.mean, 0.0, 1e-9);
  EXPECT_NEAR(self->kld.max, 0.0, 1e-9);
  EXPECT_EQ(self->kld.top1_percent, 100.0);
  EXPECT_NEAR(self->kld.ppl_ratio, 1.0, 1e-9);
  EXPECT_NEAR(self->kld.ppl_base, base->ppl, 1e-9 * base->ppl);

  Result<PerplexityReport> vs = run_perplexity(*other->impl()->model, t, 1, o);
  ASSERT_TRUE(vs) << vs.status().message();
  EXPECT_GT(vs->kld.mean, 0.01);
  EXPECT_GE(vs->kld.max, vs->kld.p99);
  EXPECT_GE(vs->kld.p99, vs->kld.p90);
  EXPECT_GE(vs->kld.p90, vs->kld.median);
  EXPECT_LT(vs->kld.top1_percent, 100.0);
  EXPECT_NEAR(vs->kld.ppl_ratio, vs->ppl / base->ppl, 1e-9);
}

TEST(RunPerplexity, MismatchedRunsNameWhatDiffers) {
  std::shared_ptr<Model> model = load(test::make_tiny_model({}));
  test::TinySpec wide;
  wide.n_vocab = 68;
  std::shared_ptr<Model> wide_model = load(test::make_tiny_model(wide));
  ASSERT_TRUE(model && wide_model);
  const std::vector<int32_t> t = stream(70, 67, 11);
  PerplexityOptions o;
  o.n_ctx = 16;
  o.n_threads = 1;
  o.save_logits = tmp("base.elp");
  ASSERT_TRUE(run_perplexity(*model->impl()->model, t, 1, o));
  o.kld_base = o.save_logits;
  o.save_logits.clear();
  const TransformerModel& tm = *model->impl()->model;
  EXPECT_THAT(run_perplexity(*wide_model->impl()->model, t, 1, o).status().message(),
              HasSubstr("vocabulary size differs: 67 in the base file"));
  PerplexityOptions c = o;
  c.n_ctx = 32;
  EXPECT_THAT(run_perplexity(tm, t, 1, c).status().message(), HasSubstr("context (--ctx) differs: 16"));
  c = o;
  c.stride = 4;
  EXPECT_THAT(run_perplexity(tm, t, 1, c).status().message(), HasSubstr("window step (--stride) differs"));
  c = o;
  c.max_chunks = 2;
  EXPECT_THAT(run_perplexity(tm, t, 1, c).status().message(), HasSubstr("number of chunks"));
  std::vector<int32_t> t2 = t;
  t2[35] = (t2[35] + 1) % 67;
  EXPECT_THAT(run_perplexity(tm, t2, 1, o).status().message(),
              HasSubstr("window 2, position 3: token " + std::to_string(t[35])));
}

// ---- file errors

std::string valid_file_bytes() {
  LogitsHeader h;
  h.model = "m";
  h.n_vocab = 3;
  h.plan = *plan_perplexity(8, 4, 0, 0);  // 2 windows of 4, 1 scored row each
  h.tokens = {1, 2, 0, 1, 1, 0, 0, 2};
  const std::string path = tmp("small.elp");
  auto w = LogitsWriter::create(path, h);
  EXPECT_TRUE(w);
  const std::vector<float> row = {std::log(0.5f), std::log(0.25f), std::log(0.25f)};
  EXPECT_TRUE((*w)->write_window(row).is_ok());
  EXPECT_THAT((*w)->finish().message(), HasSubstr("only 1 of 2 windows"));
  w = LogitsWriter::create(path, h);
  EXPECT_THAT((*w)->write_window(std::vector<float>(2)).message(), HasSubstr("2 values, expected 3"));
  EXPECT_TRUE((*w)->write_window(row).is_ok());
  EXPECT_TRUE((*w)->write_window(row).is_ok());
  EXPECT_THAT((*w)->write_window(row).message(), HasSubstr("more windows"));
  EXPECT_TRUE((*w)->finish().is_ok());
  return test::read_file(path);
}

std::string open_error(const std::string& bytes) {
  auto r = LogitsReader::from_bytes(bytes, "f.elp");
  return r ? "" : r.status().message();
}

void put32(std::string& s, size_t at, uint32_t v) { std::memcpy(s.data() + at, &v, 4); }

TEST(LogitsFile, SmallFileReadsBack) {
  const std::string b = valid_file_bytes();
  ASSERT_EQ(b.size(), 8 + 7 * 4 + 1 + 8 * 4 + 2 * 3 * 4);
  auto r = LogitsReader::from_bytes(b, "f.elp");
  ASSERT_TRUE(r) << r.status().message();
  std::vector<float> row;
  ASSERT_TRUE((*r)->read_window(&row).is_ok());
  EXPECT_NEAR(row[0], std::log(0.5f), 1e-7);
  ASSERT_TRUE((*r)->read_window(&row).is_ok());
  EXPECT_THAT((*r)->read_window(&row).message(), HasSubstr("no window left"));
}

TEST(LogitsFile, CorruptFilesAreClearErrors) {
  const std::string b = valid_file_bytes();
  EXPECT_THAT(open_error(""), HasSubstr("shorter than the header"));
  EXPECT_THAT(open_error(b.substr(0, b.size() - 1)), HasSubstr("the file has " + std::to_string(b.size() - 1)));
  EXPECT_THAT(open_error(b + "x"), HasSubstr("truncated or altered"));
  std::string m = b;
  m[0] = 'X';
  EXPECT_THAT(open_error(m), HasSubstr("wrong magic"));
  m = b;
  put32(m, 8, 2);
  EXPECT_THAT(open_error(m), HasSubstr("version 2"));
  const std::vector<std::pair<size_t, std::string>> fields = {
      {12, "vocabulary size"}, {16, "context"}, {24, "window step"}, {28, "window count"}};
  for (const auto& [at, what] : fields) {
    m = b;
    put32(m, at, 0);
    EXPECT_THAT(open_error(m), HasSubstr(what)) << at;
    put32(m, at, 0xffffffffu);
    EXPECT_THAT(open_error(m), HasSubstr(what)) << at;
  }
  m = b;
  put32(m, 20, 3);  // first scored position at the last token
  EXPECT_THAT(open_error(m), HasSubstr("first scored position 3"));
  m = b;
  put32(m, 32, 100000);
  EXPECT_THAT(open_error(m), HasSubstr("model name length"));
  m = b;
  put32(m, 8 + 28 + 1 + 4, 7);  // token 1 = 7, vocabulary 3
  EXPECT_THAT(open_error(m), HasSubstr("token 1 has id 7"));
  m = b;
  const float nan = std::numeric_limits<float>::quiet_NaN(), pos = 0.5f;
  std::memcpy(m.data() + m.size() - 4, &nan, 4);
  auto r = LogitsReader::from_bytes(m, "f.elp");
  ASSERT_TRUE(r);
  std::vector<float> row;
  EXPECT_TRUE((*r)->read_window(&row).is_ok());
  EXPECT_THAT((*r)->read_window(&row).message(), HasSubstr("window 1, row 0, token 2 holds nan"));
  std::memcpy(m.data() + m.size() - 4, &pos, 4);
  r = LogitsReader::from_bytes(m, "f.elp");
  EXPECT_TRUE((*r)->read_window(&row).is_ok());
  EXPECT_THAT((*r)->read_window(&row).message(), HasSubstr("not a log-probability"));
  EXPECT_THAT(LogitsReader::open(tmp("missing.elp")).status().message(), HasSubstr("cannot read"));
  EXPECT_THAT(LogitsWriter::create(tmp("no/such/dir.elp"), LogitsHeader{}).status().message(),
              HasSubstr("cannot create"));
}

}  // namespace
}  // namespace edgellm
