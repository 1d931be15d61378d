// libFuzzer target for the Jinja chat-template engine: the input bytes are the template source, parsed and
// rendered against a fixed small chat context. Templates come from GGUF metadata and tokenizer_config.json,
// i.e. from downloaded files, so parse and render must fail with a Status, never crash or hang (the engine's
// output and recursion caps bound what a hostile template can do).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenizer/jinja/template.h"

namespace {

// A typical conversation with a system prompt, a tool-ish message and an empty content, so templates that
// branch on roles, loop over messages or test fields see realistic data.
constexpr std::string_view kContext = R"({
  "messages": [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hi <b>there</b> \u00e9\u4e16"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "tool", "content": "", "name": "search"},
    {"role": "user", "content": "1 + 2 = ?"}
  ],
  "bos_token": "<s>",
  "eos_token": "</s>",
  "add_generation_prompt": true,
  "tools": [{"name": "search", "parameters": {"q": "string"}}]
})";

const edgellm::jinja::Value& context() {
  static const edgellm::jinja::Value ctx = [] {
    auto v = edgellm::jinja::value_from_json(kContext);
    if (!v.is_ok()) std::abort();  // the fixed context above is valid JSON
    return std::move(v).value();
  }();
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tmpl = edgellm::jinja::Template::parse(source);
  if (!tmpl.is_ok()) {
    if (tmpl.status().message().empty()) __builtin_trap();  // every error must say what went wrong
    return 0;
  }
  edgellm::jinja::RenderOptions opts;
  opts.now = std::tm{};  // strftime_now() must not depend on the clock: findings have to reproduce
  auto out = tmpl->render(context(), opts);
  if (!out.is_ok() && out.status().message().empty()) __builtin_trap();
  volatile size_t sink = out.is_ok() ? out->size() : 0;
  (void)sink;
  return 0;
}
