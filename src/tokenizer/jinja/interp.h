// Evaluates a parsed template against a context, with Jinja2's scoping: loop bodies and macros get their own
// scope, `if` does not; `set` writes the innermost scope; namespace attributes are shared.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/value.h"

namespace edgellm::jinja {

class Interp {
 public:
  // `globals` is a dict of the variables and functions the template sees; `now` is the time strftime_now
  // formats (local time when absent). Not thread-safe; one Interp per render.
  Interp(const Value& globals, std::optional<std::tm> now);

  // Renders `body`. Throws Error with a position on failures (raise_exception, type errors, ...).
  std::string render(const Body& body);

  Value eval(const Expr& e);
  // Calls a function value (macro, builtin or bound method).
  Value call(const Value& fn, CallArgs& args, Pos pos);
  // obj.name: methods of str/list/dict first, then dict keys; undefined when absent.
  Value get_attr(const Value& obj, const std::string& name, Pos pos);
  // obj[key]: dict keys, list/str indices (negative from the end); undefined when absent.
  Value get_item(const Value& obj, const Value& key, Pos pos);
  // Runs filter `name` (builtins.cc) / test `name`.
  Value filter(const std::string& name, const Value& input, CallArgs& args, Pos pos);
  bool test(const std::string& name, const Value& operand, CallArgs& args, Pos pos);
  // Counts `units` of work against the render's budget and throws Error at `pos` once it is spent, so a
  // hostile template (nested loops, exponential macro recursion, doubling strings) fails in bounded time
  // instead of hanging the caller. A loop iteration or macro call costs kStepCost; building a list costs
  // one unit per element, a string one per 16 bytes.
  void charge(int64_t units, Pos pos);
  static constexpr int64_t kStepCost = 8;

 private:
  struct Scope {
    std::vector<std::pair<std::string, Value>> vars;
    Scope* parent = nullptr;
    Value* find(const std::string& name);
    void set(const std::string& name, Value v);
  };
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec(const Body& body, std::string* out);
  Flow exec_node(const Node& n, std::string* out);
  void exec_for(const Node& n, std::string* out);
  Value make_macro(const Node& n, Scope* defining_scope);
  Value lookup(const std::string& name);
  Value binary(const Expr& e);
  bool compare(const std::string& op, const Value& a, const Value& b, Pos pos);
  void assign(const std::vector<std::string>& targets, const Value& v, Pos pos);

  Scope root_;
  Scope* scope_ = &root_;
  int depth_ = 0;     // macro nesting, bounded so runaway recursion errors instead of overflowing the stack
  int64_t work_ = 0;  // units charged so far, see charge()
  std::optional<std::tm> now_;
};

// Comparison used by sort filters: numbers, strings, lists; throws Error for other kinds.
bool value_less(const Value& a, const Value& b, Pos pos);

}  // namespace edgellm::jinja
