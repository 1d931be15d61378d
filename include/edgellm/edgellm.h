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

  // tokenizer.chat_template from the file (Jinja source), "" if it has none.
  std::string chat_template() const;
  // Renders a conversation the way Hugging Face's apply_chat_template does, for users who debug templates.
  // `messages_json` is a JSON array of message objects (any fields: role, content, tool_calls ...), or an
  // object holding "messages" and further template variables ("tools", "add_generation_prompt" ...); `tmpl` is
  // Jinja source, "" for chat_template(); bos_token/eos_token are the vocabulary's texts. Errors: bad JSON,
  // no template, template syntax or runtime errors (with line and column).
  Result<std::string> render_chat(const std::string& messages_json, bool add_generation_prompt,
                                  const std::string& tmpl = "") const;

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

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" ...
  std::string content;
};

// A multi-turn conversation over one Session that keeps the KV cache across turns: each reply renders the
// whole conversation with the chat template, keeps the cached tokens it shares with the new rendering and
// prefills only the rest. Not thread-safe.
class Chat {
 public:
  // `session` must belong to `model`, outlive the Chat, and be driven only through it meanwhile. `tmpl` is
  // Jinja source, "" for the model's template; a model without one is an error that suggests a template file.
  static Result<std::unique_ptr<Chat>> create(std::shared_ptr<Model> model, Session* session,
                                              const std::string& tmpl = "");
  ~Chat();

  void add_message(std::string role, std::string content);
  const std::vector<ChatMessage>& messages() const;
  // Replaces the conversation (e.g. loaded from a file); the KV cache keeps whatever prefix still matches.
  void set_messages(std::vector<ChatMessage> messages);
  // Drops the messages and empties the KV cache.
  void reset();

  // Renders the conversation with the generation prompt and brings the session up to it: afterwards the
  // session's logits are those of the first reply token. Errors: template errors, a context that is full.
  Status prepare_reply();
  // Appends a generated token to the session (call it for every reply token that should stay in context).
  Status accept_token(int32_t token);
  // Tokens the last prepare_reply() prefilled, and how many it found already in the KV cache.
  int last_prefill_tokens() const;
  int last_reused_tokens() const;

  // A conversation as JSON ([{"role": ..., "content": ...}]) and back; errors name the bad message.
  static Result<std::vector<ChatMessage>> messages_from_json(const std::string& json);
  static std::string messages_to_json(const std::vector<ChatMessage>& messages);

  struct Impl;

 private:
  explicit Chat(std::unique_ptr<Impl> impl);
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
