// The parsed form of a template: expressions and statements, each with its source position.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace edgellm::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,    // literal
    kName,       // name
    kList,       // kids = items; name "tuple" for (a, b)
    kDict,       // kids = key, value, key, value ...
    kNeg,        // kids[0]
    kPos,        // kids[0]
    kNot,        // kids[0]
    kBinary,     // name = operator (+ - * / // % ** ~), kids = lhs, rhs
    kAnd,        // kids = lhs, rhs
    kOr,         // kids = lhs, rhs
    kCompare,    // name = operator (== != < > <= >= in notin), kids = lhs, rhs
    kCond,       // kids = then, condition, else (else may be null)
    kAttr,       // kids[0].name
    kSubscript,  // kids[0][kids[1]]
    kSlice,      // kids = object, start, stop, step (null when absent)
    kCall,       // kids[0] = callee, kids[1..] = positional args, kwargs
    kFilter,     // name = filter, kids[0] = input, kids[1..] = args, kwargs
    kTest,       // name = test, kids[0] = operand, kids[1..] = args; negated for `is not`
  };
  Kind kind;
  Pos pos;
  std::string name;
  Value literal;
  std::vector<ExprPtr> kids;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  bool negated = false;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ expr }}
    kIf,           // branches: (condition or null for else, body)
    kFor,          // for targets in expr [if cond] body [else else_body]
    kSet,          // set target = expr; target is a kName or a kAttr (namespace attribute)
    kSetBlock,     // set targets[0] %} body {% endset
    kMacro,        // macro name(params = defaults) body
    kCallBlock,    // call(params) expr body: expr is a call that receives `caller`
    kFilterBlock,  // filter: expr is a filter chain whose innermost input is the rendered body
    kBreak,
    kContinue,
  };
  Kind kind;
  Pos pos;
  std::string text;  // text, or the macro name
  ExprPtr expr;
  ExprPtr target;
  ExprPtr cond;
  std::vector<std::string> targets;  // loop variable names (more than one: tuple unpacking)
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body, else_body;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // per param, null when it has no default
};

// The name a filter block's body is bound to while its filter chain runs.
inline constexpr const char* kFilterInput = "\x01filter_input";

}  // namespace edgellm::jinja
