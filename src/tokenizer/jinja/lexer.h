// Splits Jinja template source into text and tag tokens, applying whitespace control the way Jinja2 does
// with Hugging Face's settings: `{%-`/`-%}` (and the `{{`/`{#` forms) strip whitespace beside a tag,
// trim_blocks drops the first newline after a block or comment tag, lstrip_blocks drops the spaces and tabs
// before a block or comment tag that starts its line (`{%+` and `+%}` opt out), and one trailing newline of the
// template is dropped (keep_trailing_newline=False).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace edgellm::jinja {

enum class Tok { kText, kExprBegin, kExprEnd, kStmtBegin, kStmtEnd, kName, kString, kInt, kFloat, kOp, kEof };

struct Token {
  Tok type;
  std::string text;  // text, name, string contents (unescaped) or operator
  Pos pos;
  int64_t i = 0;
  double d = 0;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Tokens ending with kEof. Throws Error (unterminated tags, strings, bad characters) with the position.
std::vector<Token> lex(std::string_view source, const LexOptions& opts);

}  // namespace edgellm::jinja
