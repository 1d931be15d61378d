// The sampling chain: small samplers over a candidate list, applied in llama.cpp's order
// (penalties -> top-k -> top-p -> min-p -> temperature -> seeded draw), or greedy argmax when the
// temperature is <= 0. Each sampler is a free function so tests can check it on known distributions.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/status.h"

namespace edgellm {

struct Candidate {
  int32_t id;
  float logit;
  float p;  // probability after the last softmax_candidates(); 0 before
};

// Candidates sorted by descending logit (ties: lower id first), the order every filter keeps.
using Candidates = std::vector<Candidate>;

// llama.cpp penalties for tokens seen `count[id]` times in the recent window: a positive logit is
// divided by `repeat`, a negative one multiplied by it; then logit -= count * frequency + presence.
// `window` lists the recent tokens (repeats included); `counts` is n_vocab zeros (returned zeroed).
void apply_penalties(std::span<float> logits, std::span<const int32_t> window, std::span<int32_t> counts, float repeat,
                     float frequency, float presence);
// Keeps the k highest logits (k <= 0 or k >= size keeps all) and sorts the candidates.
void top_k(Candidates& c, int k);
// Sorts the candidates and sets p to softmax(logit).
void softmax_candidates(Candidates& c);
// Keeps the smallest prefix whose probability mass reaches p (at least one). Needs softmax_candidates().
void top_p(Candidates& c, float p);
// Keeps candidates whose probability is >= p × the top probability. Needs softmax_candidates().
void min_p(Candidates& c, float p);
// Divides every logit by t (> 0).
void temperature(Candidates& c, float t);
// Draws one candidate in proportion to softmax(logit) with a uniform u in [0, 1).
int32_t draw(Candidates& c, double u);
// The highest logit's id (ties -> lowest id); -1 for an empty span.
int32_t argmax(std::span<const float> logits);

struct SamplingParams {
  float temperature = 0.8f;
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int repeat_last_n = 64;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0xC0FFEE;
};

// The chain with its state (penalty window, RNG). Buffers are sized at create(); sample() does not allocate.
class SamplingChain {
 public:
  // Errors name the parameter: non-positive n_vocab or repeat_penalty, negative repeat_last_n, NaN values.
  static Result<SamplingChain> create(const SamplingParams& params, int n_vocab);

  // Picks the next token from n_vocab logits (a shorter span is treated as the first logits.size() ids).
  // Returns -1 for an empty span.
  int32_t sample(std::span<const float> logits);
  // Records a token (prompt or generated) in the penalty window.
  void accept(int32_t token);
  // Clears the window and reseeds the RNG.
  void reset();

 private:
  SamplingParams params_;
  int n_vocab_ = 0;
  std::vector<float> logits_;
  std::vector<int32_t> counts_;
  std::vector<int32_t> window_;  // ring buffer of the last repeat_last_n tokens
  size_t window_pos_ = 0, window_len_ = 0;
  std::vector<int32_t> window_linear_;
  Candidates cand_;
  std::mt19937_64 rng_;
};

}  // namespace edgellm
