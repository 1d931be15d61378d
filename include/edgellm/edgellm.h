// edgellm public API: load a model, run sessions, sample tokens. Opaque handles, plain functions;
// no tensor or SIMD internals here. Errors are returned as Status/Result, never thrown.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgellm/status.h"

namespace edgellm {

struct ModelInfo {
  std::string path;          // file path, or a name for in-memory models
  std::string architecture;  // "llama", "qwen2", "qwen3"
  std::string name;          // general.name, if present
  std::string weight_type;   // dominant weight type, e.g. "q4_0"
  int64_t n_params = 0;
  uint64_t file_bytes = 0;
  uint64_t weight_bytes = 0;  // bytes of all weight tensors
  int n_vocab = 0, n_ctx_train = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
};

struct LoadOptions {
  bool verbose = false;
};

class Model {
 public:
  // Loads a GGUF file by mmap (weights are not copied). Errors name the file and what is wrong.
  static Result<std::shared_ptr<Model>> load(const std::string& path, const LoadOptions& opts = {});
  // Loads a GGUF image held in memory (e.g. a model synthesized by edgellm bench); takes the bytes.
  static Result<std::shared_ptr<Model>> load_from_bytes(std::vector<uint8_t> bytes, const std::string& name,
                                                        const LoadOptions& opts = {});
  ~Model();

  const ModelInfo& info() const;

  // Tokenizer. encode() adds BOS when the vocabulary asks for it and add_special is true.
  std::vector<int32_t> tokenize(const std::string& text, bool add_special) const;
  // The bytes of one token as text (byte-fallback tokens give the raw byte; may be partial UTF-8).
  std::string token_to_piece(int32_t token) const;
  bool is_end_of_generation(int32_t token) const;
  int32_t bos_token() const;  // -1 if none

  struct Impl;
  Impl* impl() const { return impl_.get(); }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SessionOptions {
  int n_threads = 0;   // 0 = physical cores
  int n_ctx = 0;       // 0 = min(model's training context, 4096)
  int n_batch = 512;   // tokens per forward pass during prompt processing
};

// One sequence of tokens with its KV cache. Buffers are allocated once at creation.
// Not thread-safe; use one Session per thread.
class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<Model> model, const SessionOptions& opts);
  ~Session();

  // Appends `tokens` to the context (in batches of n_batch) and computes the logits of the last one.
  // Fails, without changing the context, if the tokens do not fit or an id is out of range.
  Status prefill(std::span<const int32_t> tokens);
  // Appends one token and computes its logits.
  Status decode(int32_t token);
  // Logits of the last processed token (n_vocab floats); empty before the first call.
  std::span<const float> logits() const;
  int n_past() const;
  int n_ctx() const;
  int n_threads() const;
  // Drops the last n tokens from the context (n <= n_past), or all with reset().
  void truncate(int n_past);
  void reset() { truncate(0); }

  struct Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SamplerParams {
  float temperature = 0.8f;  // <= 0 means greedy
  int top_k = 40;            // <= 0 disables
  float top_p = 0.95f;       // >= 1 disables
  float min_p = 0.05f;       // <= 0 disables
  float repeat_penalty = 1.0f;    // 1 disables
  int repeat_last_n = 64;         // window for the penalties
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0xC0FFEE;
};

// A chain of small samplers (penalties -> top-k -> top-p -> min-p -> temperature -> draw), seeded.
class Sampler {
 public:
  static Result<std::unique_ptr<Sampler>> create(const SamplerParams& params, int n_vocab);
  ~Sampler();
  int32_t sample(std::span<const float> logits);
  void accept(int32_t token);  // records a token in the penalty window (prompt and generated)
  void reset();

  struct Impl;

 private:
  explicit Sampler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgellm
