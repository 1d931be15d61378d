// Cross-check against llama.cpp (node-llama-cpp's prebuilt CPU build, see docs/crosscheck.md):
// the tiny llama and tiny-qwen2 presets are synthesized at every weight type edgellm writes, both
// engines run greedy generation from the same token ids, and their tokens and top logits must agree.
//
// Tolerances, as a fraction of the logit range (max - min over the vocabulary, ~2 for these models):
//  - f32: 2e-4. Both engines compute in f32; the differences are summation order and llama.cpp
//    rounding Q to f16 for the K·Q product against the f16 KV cache (edgellm keeps Q in f32).
//  - f16: 2e-3. llama.cpp rounds activations to f16 before every f16 matmul (vec_dot_type f16,
//    relative error 2^-11 per element); edgellm multiplies f16 weights by f32 activations.
//  - bf16: 1e-2. Same, with bf16 activations in llama.cpp (2^-8 relative per element).
//  - quantized types: 1e-2. Both engines quantize activations to 8 bits (q8_0 / q8_K) with the same
//    scheme, but a last-bit difference in an activation moves it across a rounding boundary, which
//    shifts a dot product by up to scale/2 per flipped element, and these errors compound over layers.
// The tokens must agree until llama.cpp's top-2 margin falls below the tolerance: from there on the
// two engines may legitimately pick different tokens, and the rest of that sequence is not compared.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "edgellm/edgellm.h"
#include "model/synth.h"
#include "peer_util.h"
#include "test_util.h"

namespace edgellm::test {
namespace {

constexpr int kSteps = 32;
const std::vector<int32_t> kPrompt = {1, 17, 300, 555, 1000, 1500, 2000, 42, 7, 1234};

struct TypeTol {
  const char* type;
  double rel_tol;  // max |Δlogit| allowed, as a fraction of the logit range
};
const TypeTol kTypes[] = {
    {"f32", 2e-4},  {"f16", 2e-3},  {"bf16", 1e-2}, {"q4_0", 1e-2}, {"q4_1", 1e-2},
    {"q5_0", 1e-2}, {"q5_1", 1e-2}, {"q8_0", 1e-2}, {"q2_K", 1e-2}, {"q3_K", 1e-2},
    {"q4_K", 1e-2}, {"q5_K", 1e-2}, {"q6_K", 1e-2},
};

class LlamaCppCrossCheck : public ::testing::TestWithParam<const char*> {};

TEST_P(LlamaCppCrossCheck, GreedyTokensAndTopLogitsAgree) {
  const std::string dir = peer_dir();
  EL_REQUIRE_PEER(dir);

  const std::string preset_name = GetParam();
  const Preset* preset = find_preset(preset_name);
  ASSERT_NE(preset, nullptr);
  std::vector<std::string> paths;
  for (const TypeTol& t : kTypes) {
    SynthOptions opts;
    opts.seed = 1234;
    auto writer = synthesize(*preset, *ggml_type_from_name(t.type), opts);
    ASSERT_TRUE(writer.is_ok()) << t.type << ": " << writer.status().message();
    paths.push_back(temp_dir() + "/" + preset_name + "-" + t.type + ".gguf");
    ASSERT_TRUE(writer->write_file(paths.back()).is_ok());
  }
  std::string error;
  const std::vector<PeerRun> peer = run_peer_greedy(dir, paths, kPrompt, kSteps, 5, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(peer.size(), paths.size());

  for (size_t ti = 0; ti < paths.size(); ++ti) {
    const TypeTol& tt = kTypes[ti];
    SCOPED_TRACE(preset_name + " " + tt.type);
    auto model = Model::load(paths[ti]);
    ASSERT_TRUE(model.is_ok()) << model.status().message();
    SessionOptions so;
    so.n_threads = 1;
    so.n_ctx = 64;
    auto session = Session::create(*model, so);
    ASSERT_TRUE(session.is_ok()) << session.status().message();
    ASSERT_TRUE((*session)->prefill(kPrompt).is_ok());
    const PeerRun& ref = peer[ti];
    ASSERT_EQ(ref.tokens.size(), static_cast<size_t>(kSteps));
    double worst = 0;
    int matched = 0;
    std::string diverged;
    for (int i = 0; i < kSteps; ++i) {
      const std::span<const float> logits = (*session)->logits();
      const auto [lo, hi] = std::minmax_element(logits.begin(), logits.end());
      const double tol = tt.rel_tol * (*hi - *lo);
      for (const auto& [id, logit] : ref.steps[i].top) {
        const double d = std::fabs(static_cast<double>(logits[id]) - logit);
        worst = std::max(worst, d / (*hi - *lo));
        EXPECT_LE(d, tol) << "step " << i << " token " << id << ": edgellm " << logits[id] << " llama.cpp " << logit;
      }
      const int32_t ours = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (ours != ref.tokens[i]) {
        const double margin = ref.steps[i].top[0].second - ref.steps[i].top[1].second;
        EXPECT_LT(margin, tol) << "step " << i << ": edgellm picked " << ours << ", llama.cpp " << ref.tokens[i]
                               << " with a top-2 margin of " << margin << " (tolerance " << tol << ")";
        diverged = " (diverged at step " + std::to_string(i) + ": top-2 margin " + std::to_string(margin) +
                   " < tolerance " + std::to_string(tol) + ")";
        break;
      }
      ++matched;
      if (i + 1 < kSteps) {
        ASSERT_TRUE((*session)->decode(ours).is_ok());
      }
    }
    std::printf("[ crosscheck ] %-10s %-5s %2d/%d tokens equal, max |dlogit|/range %.2e (tolerance %.0e)%s\n",
                preset_name.c_str(), tt.type, matched, kSteps, worst, tt.rel_tol, diverged.c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Presets, LlamaCppCrossCheck, ::testing::Values("tiny", "tiny-qwen2"),
                         [](const auto& info) { return std::string(info.param) == "tiny" ? "llama" : "qwen2"; });

}  // namespace
}  // namespace edgellm::test
