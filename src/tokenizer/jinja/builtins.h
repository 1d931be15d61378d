// Jinja's builtin globals, filters, tests and the Python methods templates call on str, list and dict values.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace edgellm::jinja {

class Interp;

// Adds range, namespace, dict, raise_exception and strftime_now (formatting `now`, else the local time).
void install_globals(Interp* interp, std::vector<std::pair<std::string, Value>>* vars,
                     const std::optional<std::tm>& now);

// The items a for loop visits: list items, dict keys, string characters; undefined gives none.
// Throws Error for values that are not iterable.
List iterate(const Value& v, Pos pos);
// Python's `item in container` (substring for strings, key for dicts).
bool contains(const Value& container, const Value& item, Pos pos);
// obj[start:stop:step] for strings (by code point) and lists; bounds may be undefined/None.
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step, Pos pos);
// The bound method `name` of obj (str, list or dict), or an undefined value if there is none.
Value method(const Value& obj, const std::string& name);

// UTF-8 text split into code points (ill-formed bytes are single units).
std::vector<std::string_view> code_points(std::string_view s);
// Python's str.strip(chars) family; `chars` empty means whitespace. which: 'l', 'r' or 'b' (both).
std::string py_strip(std::string_view s, std::string_view chars, char which);

}  // namespace edgellm::jinja
