// Cross-check against llama.cpp on a TRAINED model: llama2.c's aidreams260K (../shared/testdata/llama2c)
// converted with convert_llama2c at every weight type it writes for this model. Unlike the random-weight
// synth models of llamacpp_crosscheck_test.cc, whose near-flat logits make near-ties common, a trained
// model has clear winners, so here the 32 greedy tokens must be exactly equal.
//
// Tolerances, as a fraction of the logit range (max - min over the vocabulary), with their reasons in
// docs/crosscheck.md; the values observed are printed per type.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "edgellm/edgellm.h"
#include "format/llama2c.h"
#include "peer_util.h"
#include "test_util.h"

namespace edgellm::test {
namespace {

constexpr int kSteps = 32;
// "The robot" with BOS, as llama2.c's run.c (and edgellm's tokenizer) encode it.
const std::vector<int32_t> kPrompt = {1, 368, 430, 429, 302, 450, 437, 434};
// llama2.c's run.c, temperature 0, from that prompt: the first 32 tokens after the prompt
// (../shared/testdata/llama2c/README.md).
const std::vector<int32_t> kRunC = {353, 325, 266, 386, 269, 293, 446, 279, 317, 442, 447, 425, 275, 280, 302, 450,
                                    405, 403, 399, 422, 448, 429, 465, 265, 434, 317, 431, 434, 289, 408, 326, 446};

struct TypeTol {
  const char* type;
  double rel_tol;  // max |Δlogit| allowed, as a fraction of the logit range
};
// K-quants and TQ types are absent: their 256-element blocks do not divide this model's rows (dim 64),
// so convert_llama2c stores every matrix as F16 and the model would be the f16 one again.
const TypeTol kTypes[] = {
    {"f32", 2e-4},  {"f16", 2e-3},  {"bf16", 1e-2}, {"q8_0", 1e-2},
    {"q4_0", 1e-2}, {"q4_1", 1e-2}, {"q5_0", 1e-2}, {"q5_1", 1e-2},
};

TEST(LlamaCppLlama2cCrossCheck, GreedyTokensEqualAndTopLogitsAgree) {
  EL_REQUIRE_SHARED("testdata/llama2c/aidreams260K.bin");
  EL_REQUIRE_SHARED("testdata/llama2c/tok512.bin");
  const std::string dir = peer_dir();
  EL_REQUIRE_PEER(dir);

  std::vector<std::string> paths;
  for (const TypeTol& t : kTypes) {
    paths.push_back(temp_dir() + "/aidreams260K-" + t.type + ".gguf");
    const Status st =
        convert_llama2c(shared_path("testdata/llama2c/aidreams260K.bin"), shared_path("testdata/llama2c/tok512.bin"),
                        paths.back(), *ggml_type_from_name(t.type));
    ASSERT_TRUE(st.is_ok()) << t.type << ": " << st.message();
  }
  std::string error;
  const std::vector<PeerRun> peer = run_peer_greedy(dir, paths, kPrompt, kSteps, 5, &error);
  ASSERT_TRUE(error.empty()) << error;

  int exempt_total = 0;  // different picks excused by a near-tie, over all types (observed: none)
  for (size_t ti = 0; ti < paths.size(); ++ti) {
    const TypeTol& tt = kTypes[ti];
    SCOPED_TRACE(std::string("aidreams260K ") + tt.type);
    const PeerRun& ref = peer[ti];
    ASSERT_EQ(ref.tokens.size(), static_cast<size_t>(kSteps));
    ASSERT_EQ(ref.steps.size(), static_cast<size_t>(kSteps));
    auto model = Model::load(paths[ti]);
    ASSERT_TRUE(model.is_ok()) << model.status().message();
    SessionOptions so;
    so.n_threads = 1;
    so.n_ctx = 64;
    auto session = Session::create(*model, so);
    ASSERT_TRUE(session.is_ok()) << session.status().message();
    ASSERT_TRUE((*session)->prefill(kPrompt).is_ok());

    std::vector<int32_t> ours;
    double worst = 0;          // max |Δlogit| / range over the top-5 of every step
    double min_margin = 1e30;  // smallest llama.cpp top-2 margin / range
    double min_range = 1e30;
    int near_ties = 0;  // steps whose llama.cpp top-2 margin is below the tolerance
    int exempt = 0;     // of those, steps where the engines picked different tokens
    for (int i = 0; i < kSteps; ++i) {
      const std::span<const float> logits = (*session)->logits();
      const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
      const double range = static_cast<double>(*hi) - *lo;
      const double tol = tt.rel_tol * range;
      min_range = std::min(min_range, range);
      ASSERT_GE(ref.steps[i].top.size(), 2u);
      for (const auto& [id, logit] : ref.steps[i].top) {
        const double d = std::fabs(static_cast<double>(logits[id]) - logit);
        worst = std::max(worst, d / range);
        EXPECT_LE(d, tol) << "step " << i << " token " << id << ": edgellm " << logits[id] << " llama.cpp " << logit;
      }
      const double margin = ref.steps[i].top[0].second - ref.steps[i].top[1].second;
      min_margin = std::min(min_margin, margin / range);
      if (margin < tol) ++near_ties;
      ours.push_back(static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin()));
      // A different pick is a failure unless llama.cpp's own top-2 margin is inside the tolerance.
      if (ours.back() != ref.tokens[i]) {
        exempt += margin < tol ? 1 : 0;
        EXPECT_LT(margin, tol) << "step " << i << ": edgellm picked " << ours.back() << ", llama.cpp " << ref.tokens[i]
                               << " with a top-2 margin of " << margin << " (tolerance " << tol << ")";
      }
      // Feed llama.cpp's token so that an exempt near-tie does not misalign the rest of the comparison.
      if (i + 1 < kSteps) {
        ASSERT_TRUE((*session)->decode(ref.tokens[i]).is_ok());
      }
    }
    int equal = 0;
    for (int i = 0; i < kSteps; ++i) equal += ours[i] == ref.tokens[i] ? 1 : 0;
    if (std::string(tt.type) == "f32") {
      EXPECT_EQ(ours, kRunC) << "edgellm f32 differs from llama2.c's run.c";
      EXPECT_EQ(ref.tokens, kRunC) << "llama.cpp f32 differs from llama2.c's run.c";
    }
    exempt_total += exempt;
    std::printf(
        "[ crosscheck ] aidreams260K %-5s %2d/%d tokens equal, max |dlogit|/range %.2e (tolerance %.0e), "
        "logit range >= %.1f, min top-2 margin/range %.1e, near-ties %d (%d picked differently), "
        "tokens %s run.c\n",
        tt.type, equal, kSteps, worst, tt.rel_tol, min_range, min_margin, near_ties, exempt,
        ours == kRunC ? "==" : "!=");
  }
  std::printf("[ crosscheck ] aidreams260K: %d of %zu steps picked differently (each excused by a near-tie)\n",
              exempt_total, paths.size() * kSteps);
}

}  // namespace
}  // namespace edgellm::test
