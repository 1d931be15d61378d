// Jinja parser: tokens → statement tree, with Jinja2's operator precedence.
#pragma once

#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace edgellm::jinja {

// Parses a whole template. Throws Error (unexpected token, unclosed block, unknown tag) with its position.
Body parse(const std::vector<Token>& tokens);

}  // namespace edgellm::jinja
