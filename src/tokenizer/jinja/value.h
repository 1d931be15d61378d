// The values a Jinja template computes with, modelled on the Python objects Jinja2 sees when Hugging Face
// renders a chat template: undefined, None, bool, int, float, str, list (and tuple), dict (insertion
// ordered), callables (macros, globals, bound methods) and namespace objects. Lists, dicts and namespaces are
// shared by reference like Python objects, so `ns.x = ...` and `list.append(...)` are seen by every holder.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgellm::jinja {

// A position in the template source, 1-based; line 0 means "unknown".
struct Pos {
  int line = 0;
  int col = 0;
};

// Thrown inside the engine only; render() turns it into a Status naming the line and column.
struct Error {
  std::string message;
  Pos pos;
};

class Value;
using List = std::vector<Value>;
struct Dict;
struct CallArgs;
using Function = std::function<Value(CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // undefined
  static Value undefined(std::string message) {
    Value v;
    v.str_ = std::make_shared<std::string>(std::move(message));
    return v;
  }
  static Value none() { return Value(Kind::kNone); }
  Value(bool b) : kind_(Kind::kBool), i_(b) {}     // NOLINT: implicit like Python literals
  Value(int64_t i) : kind_(Kind::kInt), i_(i) {}   // NOLINT
  Value(int i) : kind_(Kind::kInt), i_(i) {}       // NOLINT
  Value(double d) : kind_(Kind::kFloat), d_(d) {}  // NOLINT
  Value(std::string s) : kind_(Kind::kString), str_(std::make_shared<std::string>(std::move(s))) {}  // NOLINT
  Value(const char* s) : Value(std::string(s)) {}                                                    // NOLINT
  Value(std::string_view s) : Value(std::string(s)) {}                                               // NOLINT
  Value(List l) : kind_(Kind::kList), list_(std::make_shared<List>(std::move(l))) {}                 // NOLINT
  Value(std::shared_ptr<Dict> d) : kind_(Kind::kDict), dict_(std::move(d)) {}                        // NOLINT
  // A tuple: a list that prints as (a, b) the way Python shows tuples (items(), varargs, `(a, b)`).
  static Value tuple(List l) {
    Value v(std::move(l));
    v.tuple_ = true;
    return v;
  }
  static Value function(std::string name, Function f);
  static Value new_dict();
  static Value new_namespace();

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }  // Python: bool is an int
  bool is_number() const { return is_int() || kind_ == Kind::kFloat; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_function() const { return kind_ == Kind::kFunction; }
  bool is_tuple() const { return tuple_; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return i_; }
  double as_double() const { return kind_ == Kind::kFloat ? d_ : static_cast<double>(i_); }
  const std::string& as_string() const { return *str_; }
  List& as_list() const { return *list_; }
  Dict& as_dict() const { return *dict_; }
  const Function& as_function() const { return *fn_; }
  // What an undefined value stands for, as the error its use raises ("'x' is undefined").
  std::string undefined_name() const { return str_ ? *str_ : std::string(); }
  // The name of a function value (macro or builtin).
  const std::string& function_name() const { return *str_; }

  // Python truthiness: undefined, None, False, 0, "", [] and {} are false.
  bool truthy() const;
  // str(x) as Jinja prints it: None → "None", True → "True", lists and dicts as Python repr; undefined → "".
  std::string to_str() const;
  // repr(x): strings quoted the way Python does.
  std::string repr() const;
  // json.dumps(x, ensure_ascii=False, indent=indent (<0: none), separators=(item_sep, key_sep), sort_keys);
  // empty separators mean Python's defaults (", " or "," with an indent, and ": "). Throws Error for values
  // JSON cannot hold (functions, undefined).
  std::string to_json(int indent, bool sort_keys, std::string item_sep = "", std::string key_sep = "") const;
  // Python ==, with 1 == 1.0 and True == 1; undefined equals only undefined.
  bool equals(const Value& o) const;
  // The Python type name, for error messages ("str", "int", "dict" ...).
  std::string type_name() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kUndefined;
  bool tuple_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::shared_ptr<std::string> str_;  // string text, undefined's name, or function name
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// An insertion-ordered mapping with string keys (what templates and JSON messages use).
struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;  // namespace(): attributes may be assigned with {% set ns.x = ... %}

  // The value under `key`, or nullptr.
  const Value* find(std::string_view key) const;
  // Sets or replaces `key`, keeping the original insertion position.
  void set(const std::string& key, Value v);
};

// Arguments of a call: positional, then keyword in source order.
struct CallArgs {
  List args;
  std::vector<std::pair<std::string, Value>> kwargs;
  Pos pos;

  // Positional i, else keyword `name`, else `fallback`.
  Value get(size_t i, std::string_view name, Value fallback = Value()) const;
};

// Python's repr of a float (shortest round-trip digits, "1.0", "1e-05", "inf").
std::string format_float(double d);

}  // namespace edgellm::jinja
