// Sessions over tiny random llama/qwen2/qwen3 models: batched prefill vs single decodes, logits vs a naive
// float forward pass, and the session's input validation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgellm/edgellm.h"
#include "model/tiny_model.h"

namespace edgellm {
namespace {

using test::TinySpec;
using ::testing::HasSubstr;

std::shared_ptr<Model> load_tiny(const test::TinyModel& m) {
  Result<std::vector<uint8_t>> bytes = test::tiny_writer(m).write_bytes();
  EXPECT_TRUE(bytes) << bytes.status().message();
  Result<std::shared_ptr<Model>> model = Model::load_from_bytes(std::move(bytes).value(), "tiny-" + m.spec.arch);
  EXPECT_TRUE(model) << model.status().message();
  return model ? *model : nullptr;
}

std::unique_ptr<Session> make_session(std::shared_ptr<Model> m, int n_batch, int n_threads, int n_ctx = 64) {
  SessionOptions o;
  o.n_batch = n_batch;
  o.n_threads = n_threads;
  o.n_ctx = n_ctx;
  Result<std::unique_ptr<Session>> s = Session::create(std::move(m), o);
  EXPECT_TRUE(s) << s.status().message();
  return s ? std::move(s).value() : nullptr;
}

// max |a-b| / max(1, max |b|): the relative error of a logits vector.
double rel_error(std::span<const float> a, std::span<const float> b) {
  double diff = 0, scale = 1;
  for (size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

const std::vector<int32_t> kTokens = {1, 5, 66, 0, 23, 23, 42, 7, 13, 60, 2};

TinySpec spec_for(const std::string& arch) {
  TinySpec s;
  s.arch = arch;
  if (arch == "llama") s.rope_freqs = true;
  if (arch == "qwen2") s.tied = true;
  if (arch == "qwen3") s.head_dim = 24;
  return s;
}

class SessionArch : public ::testing::TestWithParam<std::string> {};

TEST_P(SessionArch, BatchedPrefillEqualsSingleDecodes) {
  std::shared_ptr<Model> model = load_tiny(test::make_tiny_model(spec_for(GetParam())));
  ASSERT_TRUE(model);
  auto batched = make_session(model, 4, 2);  // 11 tokens: batches of 4, 4, 3
  auto single = make_session(model, 1, 1);
  ASSERT_TRUE(batched && single);
  ASSERT_TRUE(batched->prefill(kTokens));
  for (int32_t t : kTokens) ASSERT_TRUE(single->decode(t));
  EXPECT_EQ(batched->n_past(), 11);
  EXPECT_EQ(single->n_past(), 11);
  ASSERT_EQ(batched->logits().size(), 67u);
  EXPECT_LT(rel_error(batched->logits(), single->logits()), 1e-4);
}

TEST_P(SessionArch, LogitsMatchNaiveReference) {
  test::TinyModel tm = test::make_tiny_model(spec_for(GetParam()));
  std::shared_ptr<Model> model = load_tiny(tm);
  ASSERT_TRUE(model);
  auto s = make_session(model, 5, 2);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->prefill(std::span(kTokens).first(8)));
  std::vector<int32_t> seq(kTokens.begin(), kTokens.begin() + 8);
  EXPECT_LT(rel_error(s->logits(), test::reference_logits(tm, seq)), 1e-4);
  for (size_t i = 8; i < kTokens.size(); ++i) {  // decode continues from the prefilled cache
    ASSERT_TRUE(s->decode(kTokens[i]));
    seq.push_back(kTokens[i]);
    EXPECT_LT(rel_error(s->logits(), test::reference_logits(tm, seq)), 1e-4) << "after " << seq.size();
  }
  s->truncate(3);  // rewinding and re-decoding reuses the first 3 positions
  EXPECT_TRUE(s->logits().empty());
  ASSERT_TRUE(s->decode(9));
  EXPECT_LT(rel_error(s->logits(), test::reference_logits(tm, {1, 5, 66, 9})), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Archs, SessionArch, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(Session, InfoDescribesTheModel) {
  std::shared_ptr<Model> model = load_tiny(test::make_tiny_model(spec_for("qwen3")));
  ASSERT_TRUE(model);
  const ModelInfo& i = model->info();
  EXPECT_EQ(i.architecture, "qwen3");
  EXPECT_EQ(i.name, "tiny-qwen3");
  EXPECT_EQ(i.weight_type, "f32");
  EXPECT_EQ(i.n_vocab, 67);
  EXPECT_EQ(i.head_dim, 24);
  EXPECT_GT(i.n_params, 67 * 64 * 2);
  EXPECT_EQ(model->bos_token(), -1);  // no tokenizer in this file
}

TEST(Session, RejectsBadTokensWithoutChangingContext) {
  std::shared_ptr<Model> model = load_tiny(test::make_tiny_model(spec_for("llama")));
  ASSERT_TRUE(model);
  auto s = make_session(model, 8, 1, 16);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->prefill(std::vector<int32_t>{1, 2, 3}));
  const std::vector<float> before(s->logits().begin(), s->logits().end());
  Status st = s->prefill(std::vector<int32_t>{4, 67});
  EXPECT_THAT(st.message(), HasSubstr("id 67, outside the vocabulary [0, 67)"));
  EXPECT_THAT(s->decode(-1).message(), HasSubstr("id -1"));
  EXPECT_EQ(s->n_past(), 3);
  st = s->prefill(std::vector<int32_t>(14, 1));
  EXPECT_THAT(st.message(), HasSubstr("14 tokens do not fit in the context: 3 of 16 positions are used"));
  EXPECT_EQ(s->n_past(), 3);
  EXPECT_EQ(std::vector<float>(s->logits().begin(), s->logits().end()), before);
}

TEST(Session, AbsurdContextReportsTheMemoryNeeded) {
  std::shared_ptr<Model> model = load_tiny(test::make_tiny_model(spec_for("llama")));
  ASSERT_TRUE(model);
  SessionOptions o;
  o.n_ctx = 2000000000;
  auto s = Session::create(model, o);
  ASSERT_FALSE(s);
  EXPECT_THAT(s.status().message(), HasSubstr("the KV cache for a context of 2000000000 tokens needs 476.84 GiB"));
}

TEST(Session, DefaultsAndOptionValidation) {
  std::shared_ptr<Model> model = load_tiny(test::make_tiny_model(spec_for("llama")));
  ASSERT_TRUE(model);
  auto s = Session::create(model, SessionOptions{});
  ASSERT_TRUE(s) << s.status().message();
  EXPECT_EQ((*s)->n_ctx(), 128);  // the training context (below the 4096 cap)
  EXPECT_GE((*s)->n_threads(), 1);
  SessionOptions bad;
  bad.n_batch = 0;
  EXPECT_THAT(Session::create(model, bad).status().message(), HasSubstr("n_batch 0 must be > 0"));
}

}  // namespace
}  // namespace edgellm
