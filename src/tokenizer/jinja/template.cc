// Template: the Status-returning face of the lexer, parser and interpreter, which report errors by throwing
// jinja::Error internally.
#include "tokenizer/jinja/template.h"

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/interp.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"

namespace edgellm::jinja {
namespace {

Status located(const Error& e) {
  if (e.pos.line <= 0) return Status::error(e.message);
  return Status::error("line " + std::to_string(e.pos.line) + ", column " + std::to_string(e.pos.col) + ": " +
                       e.message);
}

Value from_json(const nlohmann::ordered_json& j, int depth = 0) {
  if (depth > 512) throw Error{"JSON nested deeper than 512 levels", {}};
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List l;
      for (const auto& item : j) l.push_back(from_json(item, depth + 1));
      return Value(std::move(l));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = Value::new_dict();
      for (const auto& [k, v] : j.items()) d.as_dict().set(k, from_json(v, depth + 1));
      return d;
    }
    default:
      return Value::none();
  }
}

}  // namespace

Result<Template> Template::parse(std::string_view source) {
  try {
    Template t;
    t.body_ = std::make_shared<const Body>(jinja::parse(lex(source, LexOptions{})));
    return t;
  } catch (const Error& e) {
    return located(e);
  }
}

Result<std::string> Template::render(const Value& context, const RenderOptions& opts) const {
  try {
    Interp interp(context, opts.now);
    return interp.render(*body_);
  } catch (const Error& e) {
    return located(e);
  }
}

Result<Value> value_from_json(std::string_view json) {
  try {
    return from_json(nlohmann::ordered_json::parse(json));
  } catch (const nlohmann::json::exception& e) {
    return Status::error(std::string("invalid JSON: ") + e.what());
  } catch (const Error& e) {
    return Status::error("invalid JSON: " + e.message);
  }
}

}  // namespace edgellm::jinja
