// Chat-template rendering with Hugging Face's conventions, conversation JSON, and the prefix arithmetic that
// lets a chat keep its KV cache across turns.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/jinja/template.h"

namespace edgellm {

// What a chat template sees besides the messages (Hugging Face's apply_chat_template variables).
struct ChatRenderInputs {
  bool add_generation_prompt = false;
  std::string bos_token, eos_token;
  std::optional<std::tm> now;  // strftime_now's time; local time when absent
};

// Renders `messages` (a list of message dicts, any JSON shape: role, content, tool_calls ...) with `tmpl`.
// Errors are the template's, with line and column.
Result<std::string> render_chat(const jinja::Template& tmpl, const jinja::Value& messages, const ChatRenderInputs& in);

// A role/content conversation as JSON text ([{"role": ..., "content": ...}, ...]) and back. Parsing checks
// the shape: an array of objects whose "role" and "content" are strings; errors name the index.
struct ChatTurn {
  std::string role;
  std::string content;
};
Result<std::vector<ChatTurn>> chat_turns_from_json(std::string_view json);
std::string chat_turns_to_json(const std::vector<ChatTurn>& turns);
jinja::Value chat_turns_to_value(const std::vector<ChatTurn>& turns);

// How many leading tokens of `prompt` can stay in a KV cache that holds `cached`: the common prefix, but at
// most prompt.size() - 1, because the last prompt token must be run again to get fresh logits.
size_t reusable_prefix(std::span<const int32_t> cached, std::span<const int32_t> prompt);

}  // namespace edgellm
