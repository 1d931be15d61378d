// The sampling chain: each sampler on known distributions, then the chain through the public Sampler.
#include "runtime/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "edgellm/edgellm.h"

namespace edgellm {
namespace {

Candidates from_probs(const std::vector<float>& p) {
  Candidates c;
  for (size_t i = 0; i < p.size(); ++i) c.push_back({static_cast<int32_t>(i), std::log(p[i]), 0.0f});
  softmax_candidates(c);
  return c;
}

std::vector<int32_t> ids(const Candidates& c) {
  std::vector<int32_t> v;
  for (const Candidate& x : c) v.push_back(x.id);
  return v;
}

TEST(Sampling, ArgmaxTiesGoToLowestId) {
  EXPECT_EQ(argmax(std::vector<float>{0.5f, 2.0f, -1.0f, 2.0f}), 1);
  EXPECT_EQ(argmax(std::vector<float>{}), -1);
}

TEST(Sampling, TopKKeepsHighestSorted) {
  Candidates c = from_probs({0.1f, 0.4f, 0.2f, 0.3f});
  top_k(c, 2);
  EXPECT_EQ(ids(c), (std::vector<int32_t>{1, 3}));
  Candidates all = from_probs({0.1f, 0.4f, 0.2f, 0.3f});
  top_k(all, 0);
  EXPECT_EQ(ids(all), (std::vector<int32_t>{1, 3, 2, 0}));
}

TEST(Sampling, TopPKeepsSmallestPrefixReachingMass) {
  Candidates c = from_probs({0.1f, 0.4f, 0.2f, 0.3f});
  top_p(c, 0.65f);  // 0.4 + 0.3 = 0.7 >= 0.65
  EXPECT_EQ(ids(c), (std::vector<int32_t>{1, 3}));
  Candidates d = from_probs({0.1f, 0.4f, 0.2f, 0.3f});
  top_p(d, 0.05f);
  EXPECT_EQ(ids(d), (std::vector<int32_t>{1}));
}

TEST(Sampling, MinPKeepsRelativeToTop) {
  Candidates c = from_probs({0.1f, 0.4f, 0.2f, 0.3f});
  min_p(c, 0.45f);  // threshold 0.18: keeps 0.4, 0.3, 0.2
  EXPECT_EQ(ids(c), (std::vector<int32_t>{1, 3, 2}));
  Candidates d = from_probs({0.1f, 0.4f, 0.2f, 0.3f});
  min_p(d, 0.55f);  // threshold 0.22: drops 0.2
  EXPECT_EQ(ids(d), (std::vector<int32_t>{1, 3}));
}

TEST(Sampling, TemperatureSharpensAndDrawFollowsProbabilities) {
  Candidates c = from_probs({0.25f, 0.75f});
  temperature(c, 0.5f);
  softmax_candidates(c);
  EXPECT_NEAR(c[0].p, 0.9, 1e-5);  // 0.75² / (0.75² + 0.25²)
  Candidates d = from_probs({0.25f, 0.75f});
  EXPECT_EQ(draw(d, 0.70), 1);
  EXPECT_EQ(draw(d, 0.80), 0);
}

TEST(Sampling, PenaltiesFollowLlamaCppSemantics) {
  std::vector<float> l = {2.0f, -2.0f, 1.0f, 3.0f};
  std::vector<int32_t> counts(4, 0);
  const std::vector<int32_t> window = {0, 1, 0, 0};  // token 0 three times, token 1 once
  apply_penalties(l, window, counts, 2.0f, 0.5f, 0.25f);
  EXPECT_FLOAT_EQ(l[0], 2.0f / 2 - 3 * 0.5f - 0.25f);   // positive: divided
  EXPECT_FLOAT_EQ(l[1], -2.0f * 2 - 1 * 0.5f - 0.25f);  // negative: multiplied
  EXPECT_FLOAT_EQ(l[2], 1.0f);
  EXPECT_FLOAT_EQ(l[3], 3.0f);
  EXPECT_EQ(counts, (std::vector<int32_t>(4, 0)));
}

std::unique_ptr<Sampler> make(SamplerParams p, int n_vocab) {
  auto s = Sampler::create(p, n_vocab);
  EXPECT_TRUE(s) << s.status().message();
  return std::move(s).value();
}

const std::vector<float> kLogits = {0.1f, 1.5f, 1.4f, -0.3f, 1.45f, 0.0f, 0.9f};

TEST(Sampler, GreedyAndTopKOneAgree) {
  SamplerParams greedy;
  greedy.temperature = 0;
  EXPECT_EQ(make(greedy, 7)->sample(kLogits), 1);
  SamplerParams k1;
  k1.top_k = 1;
  k1.temperature = 1.5f;
  auto s = make(k1, 7);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s->sample(kLogits), 1);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDiffers) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  auto a = make(p, 7), b = make(p, 7);
  std::vector<int32_t> sa, sb, sc;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a->sample(kLogits));
    sb.push_back(b->sample(kLogits));
  }
  EXPECT_EQ(sa, sb);
  a->reset();  // reseeds
  for (int i = 0; i < 64; ++i) sc.push_back(a->sample(kLogits));
  EXPECT_EQ(sa, sc);
  p.seed = 1234;
  auto c = make(p, 7);
  std::vector<int32_t> sd;
  for (int i = 0; i < 64; ++i) sd.push_back(c->sample(kLogits));
  EXPECT_NE(sa, sd);
}

// The chain's top-k selection must keep exactly what top_k() keeps over all candidates, ties included: replay the
// chain's documented draw (53 bits of its mt19937_64) over the reference candidates.
TEST(Sampler, TopKSelectionMatchesFullSortWithTies) {
  std::mt19937 gen(5);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  for (int n_vocab : {7, 1000, 32000}) {
    std::vector<float> logits(static_cast<size_t>(n_vocab));
    for (float& x : logits) x = std::round(nd(gen) * 2.0f) / 2.0f;  // many equal logits
    for (int k : {1, 2, 40, std::min(n_vocab - 1, 999)}) {
      SamplerParams p;
      p.temperature = 1.0f;
      p.top_k = k;
      p.top_p = 1.0f;
      p.min_p = 0.0f;
      p.seed = 99;
      auto s = make(p, n_vocab);
      Candidates ref;
      for (int i = 0; i < n_vocab; ++i) ref.push_back({i, logits[static_cast<size_t>(i)], 0.0f});
      top_k(ref, k);
      std::mt19937_64 rng(p.seed);
      for (int t = 0; t < 10; ++t) {
        Candidates c = ref;  // draw() rewrites the probabilities
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
        ASSERT_EQ(s->sample(logits), draw(c, u)) << "vocab " << n_vocab << " k " << k << " draw " << t;
      }
    }
  }
}

TEST(Sampler, DrawFrequenciesMatchSoftmax) {
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  auto s = make(p, 3);
  const std::vector<float> l = {0.0f, std::log(2.0f), std::log(7.0f)};  // probabilities 0.1, 0.2, 0.7
  std::map<int32_t, int> hist;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++hist[s->sample(l)];
  EXPECT_NEAR(hist[0] / double(n), 0.1, 0.015);
  EXPECT_NEAR(hist[1] / double(n), 0.2, 0.015);
  EXPECT_NEAR(hist[2] / double(n), 0.7, 0.015);
}

TEST(Sampler, RepeatPenaltyMovesGreedyOffAcceptedToken) {
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 1.5f;
  p.repeat_last_n = 2;
  auto s = make(p, 7);
  s->accept(1);  // 1.5 / 1.5 = 1.0 < 1.45
  EXPECT_EQ(s->sample(kLogits), 4);
  s->accept(4);
  s->accept(0);  // window of 2: token 1 has left it, 4 is penalised
  EXPECT_EQ(s->sample(kLogits), 1);
}

TEST(Sampler, InvalidParametersAreNamed) {
  SamplerParams p;
  p.repeat_penalty = 0;
  EXPECT_EQ(Sampler::create(p, 7).status().message(), "sampler: repeat_penalty 0.000000 must be > 0");
  SamplerParams q;
  q.top_p = NAN;
  EXPECT_EQ(Sampler::create(q, 7).status().message(), "sampler: top_p must be a finite number");
  EXPECT_FALSE(Sampler::create(SamplerParams{}, 0));
}

}  // namespace
}  // namespace edgellm
