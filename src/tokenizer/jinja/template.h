// A compiled Jinja2 chat template: parse once, render many times. This is the entry point of the template
// engine; lexer.h, parser.h and interp.h are its internals.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace edgellm::jinja {

struct RenderOptions {
  // The time strftime_now() formats; the local time when absent (tests pin it).
  std::optional<std::tm> now;
};

class Template {
 public:
  // Parses `source` with Hugging Face's settings (trim_blocks, lstrip_blocks, loopcontrols). Syntax errors
  // read "line L, column C: what".
  static Result<Template> parse(std::string_view source);

  // Renders with `context` (a dict: messages, add_generation_prompt, bos_token, ...). Runtime errors,
  // including raise_exception(msg), read "line L, column C: msg". Thread-safe: rendering does not
  // modify the template.
  Result<std::string> render(const Value& context, const RenderOptions& opts = {}) const;

 private:
  std::shared_ptr<const Body> body_;
};

// Converts JSON text into template values (objects keep their key order). Errors name the byte offset.
Result<Value> value_from_json(std::string_view json);

}  // namespace edgellm::jinja
