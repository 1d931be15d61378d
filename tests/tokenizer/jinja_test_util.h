// Helpers for the Jinja tests: render a template source with a JSON context.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tokenizer/jinja/template.h"

namespace edgellm::jinja::test {

// One expectation: template source, context as JSON, exact output (from Python's jinja2 3.1 with Hugging
// Face's environment: trim_blocks, lstrip_blocks, loopcontrols, tojson with ensure_ascii=False).
struct RenderCase {
  const char* source;
  const char* context_json;
  const char* expected;
};

inline Result<std::string> render(const std::string& source, const std::string& context_json = "{}") {
  Result<Template> t = Template::parse(source);
  if (!t.is_ok()) return t.status();
  Result<Value> ctx = value_from_json(context_json);
  if (!ctx.is_ok()) return ctx.status();
  return t->render(*ctx);
}

inline void check_cases(const RenderCase* cases, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    SCOPED_TRACE(cases[i].source);
    Result<std::string> out = render(cases[i].source, cases[i].context_json);
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(*out, cases[i].expected);
  }
}

}  // namespace edgellm::jinja::test
