// Jinja2's builtin filters and tests (jinja2/filters.py, jinja2/tests.py) as Hugging Face's environment has
// them, plus its globals (raise_exception, strftime_now) and Jinja's range/namespace/dict.
#include "tokenizer/jinja/builtins.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "tokenizer/jinja/interp.h"

namespace edgellm::jinja {
namespace {

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int64_t want_int(const Value& v, const char* what, Pos pos) {
  if (!v.is_int()) throw Error{std::string(what) + " must be an integer, not " + v.type_name(), pos};
  return v.as_int();
}

int64_t length_of(const Value& v, Pos pos) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(code_points(v.as_string()).size());
    case Value::Kind::kList:
      return static_cast<int64_t>(v.as_list().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.as_dict().items.size());
    default:
      throw Error{"object of type '" + v.type_name() + "' has no len()", pos};
  }
}

// Jinja's attribute getter for filters: "a.b" walks nested attributes, digit parts index lists.
Value attr_path(Interp* in, const Value& item, const std::string& path, Pos pos) {
  Value v = item;
  size_t i = 0;
  while (true) {
    const size_t dot = path.find('.', i);
    const std::string part = path.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    v = in->get_item(v, digits ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part), pos);
    if (dot == std::string::npos || v.is_undefined()) return v;
    i = dot + 1;
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] != '\n' && s[j] != '\r') ++j;
    lines.push_back(s.substr(i, j - i));
    if (j < s.size() && s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') ++j;
    i = j + 1;
  }
  return lines;
}

// jinja2 do_indent: the text gets a newline appended before splitting, so a trailing newline survives.
std::string indent(const std::string& text, const std::string& pad, bool first, bool blank) {
  std::vector<std::string> lines = split_lines(text + "\n");
  std::string rv;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) rv += "\n";
    if (i > 0 && (blank || !lines[i].empty())) rv += pad;
    rv += lines[i];
  }
  if (first) rv = pad + rv;
  return rv;
}

Value round_value(const Value& v, int64_t precision, const std::string& method, Pos pos) {
  if (!v.is_number()) throw Error{"round: expected a number, got " + v.type_name(), pos};
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_double() * scale;
  double r;
  if (method == "common")
    r = std::nearbyint(x);  // Python's round(): halves go to the even neighbour
  else if (method == "ceil")
    r = std::ceil(x);
  else if (method == "floor")
    r = std::floor(x);
  else
    throw Error{"round: method must be 'common', 'ceil' or 'floor'", pos};
  return Value(r / scale);
}

Value to_int(const Value& v, const Value& dflt) {
  if (v.is_int()) return Value(v.as_int());
  auto from_double = [&](double d) {
    // Beyond int64 (Python would give a big integer) or NaN: the default, as for unparsable input.
    return std::isfinite(d) && std::fabs(d) < 9.2e18 ? Value(static_cast<int64_t>(d)) : dflt;
  };
  if (v.is_float()) return from_double(v.as_double());
  if (v.is_string()) {
    const std::string s = py_strip(v.as_string(), "", 'b');
    char* end = nullptr;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(static_cast<int64_t>(i));
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return from_double(d);
  }
  return dflt;
}

Value to_float(const Value& v, const Value& dflt) {
  if (v.is_number()) return Value(v.as_double());
  if (v.is_string()) {
    const std::string s = py_strip(v.as_string(), "", 'b');
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
  }
  return dflt;
}

}  // namespace

void install_globals(Interp* interp, std::vector<std::pair<std::string, Value>>* vars,
                     const std::optional<std::tm>& now) {
  vars->emplace_back(
      "range", Value::function("range", [interp](CallArgs& a) {
        if (a.args.empty() || a.args.size() > 3) throw Error{"range expects 1 to 3 integer arguments", a.pos};
        int64_t start = 0, stop, step = 1;
        if (a.args.size() == 1) {
          stop = want_int(a.args[0], "range argument", a.pos);
        } else {
          start = want_int(a.args[0], "range argument", a.pos);
          stop = want_int(a.args[1], "range argument", a.pos);
          if (a.args.size() == 3) step = want_int(a.args[2], "range argument", a.pos);
        }
        if (step == 0) throw Error{"range() arg 3 must not be zero", a.pos};
        const __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
        const __int128 count = span <= 0 ? 0
                                         : (span + (step > 0 ? step : -static_cast<__int128>(step)) - 1) /
                                               (step > 0 ? step : -static_cast<__int128>(step));
        if (count > 10'000'000) throw Error{"range too large", a.pos};
        interp->charge(static_cast<int64_t>(count), a.pos);
        List out;
        for (int64_t k = 0; k < static_cast<int64_t>(count); ++k)
          out.emplace_back(static_cast<int64_t>(start + static_cast<__int128>(k) * step));
        return Value(std::move(out));
      }));
  auto make_dict = [](bool ns) {
    return [ns](CallArgs& a) {
      Value d = ns ? Value::new_namespace() : Value::new_dict();
      for (const Value& init : a.args) {
        if (!init.is_dict()) throw Error{"expected a mapping argument", a.pos};
        for (const auto& [k, v] : init.as_dict().items) d.as_dict().set(k, v);
      }
      for (const auto& [k, v] : a.kwargs) d.as_dict().set(k, v);
      return d;
    };
  };
  vars->emplace_back("namespace", Value::function("namespace", make_dict(true)));
  vars->emplace_back("dict", Value::function("dict", make_dict(false)));
  vars->emplace_back("raise_exception", Value::function("raise_exception", [](CallArgs& a) -> Value {
                       throw Error{a.get(0, "message").to_str(), a.pos};
                     }));
  vars->emplace_back("strftime_now", Value::function("strftime_now", [now](CallArgs& a) {
                       Value fmt = a.get(0, "format");
                       if (!fmt.is_string()) throw Error{"strftime_now expects a format string", a.pos};
                       std::tm tm{};
                       if (now) {
                         tm = *now;
                       } else {
                         const std::time_t t = std::time(nullptr);
                         localtime_r(&t, &tm);
                       }
                       char buf[512];
                       const size_t n = std::strftime(buf, sizeof buf, fmt.as_string().c_str(), &tm);
                       return Value(std::string(buf, n));
                     }));
}

Value Interp::filter(const std::string& name, const Value& in, CallArgs& a, Pos pos) {
  const std::string& n = name;
  if (n == "tojson") {
    Value ind = a.get(SIZE_MAX, "indent");
    Value seps = a.get(SIZE_MAX, "separators");
    std::string item_sep, key_sep;
    if (seps.is_list() && seps.as_list().size() == 2) {
      item_sep = seps.as_list()[0].to_str();
      key_sep = seps.as_list()[1].to_str();
    }
    try {
      return Value(in.to_json(ind.is_int() ? static_cast<int>(std::clamp<int64_t>(ind.as_int(), 0, 64)) : -1,
                              a.get(SIZE_MAX, "sort_keys").truthy(), item_sep, key_sep));
    } catch (Error& e) {
      e.pos = pos;
      throw;
    }
  }
  if (n == "trim") {
    Value chars = a.get(0, "chars");
    return Value(py_strip(in.to_str(), chars.is_string() ? chars.as_string() : "", 'b'));
  }
  if (n == "length" || n == "count") return Value(length_of(in, pos));
  if (n == "string") return Value(in.to_str());
  if (n == "safe") return in;
  if (n == "escape" || n == "e") return Value(html_escape(in.to_str()));
  if (n == "lower" || n == "upper" || n == "title" || n == "capitalize") {
    CallArgs none;
    none.pos = pos;
    return call(method(Value(in.to_str()), n), none, pos);
  }
  if (n == "replace") {
    CallArgs args = a;
    return call(method(Value(in.to_str()), "replace"), args, pos);
  }
  if (n == "default" || n == "d") {
    const bool boolean = a.get(1, "boolean").truthy();
    if (in.is_undefined() || (boolean && !in.truthy())) return a.get(0, "default_value", Value(""));
    return in;
  }
  if (n == "join") {
    Value sep = a.get(0, "d", Value(""));
    Value attr = a.get(1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& v : iterate(in, pos)) {
      if (!first) out += sep.to_str();
      first = false;
      out += attr.is_string() ? attr_path(this, v, attr.as_string(), pos).to_str() : v.to_str();
    }
    return Value(std::move(out));
  }
  if (n == "first" || n == "last") {
    List items = iterate(in, pos);
    if (items.empty()) return Value::undefined("no " + n + " item, sequence was empty");
    return n == "first" ? items.front() : items.back();
  }
  if (n == "list") return Value(iterate(in, pos));
  if (n == "reverse") {
    if (in.is_string()) {
      std::vector<std::string_view> cps = code_points(in.as_string());
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value(std::move(out));
    }
    List items = iterate(in, pos);
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (n == "items") {
    if (in.is_undefined()) return Value(List{});
    if (!in.is_dict()) throw Error{"items: expected a mapping, got " + in.type_name(), pos};
    CallArgs none;
    return call(method(in, "items"), none, pos);
  }
  if (n == "dictsort") {
    if (!in.is_dict()) throw Error{"dictsort: expected a mapping, got " + in.type_name(), pos};
    const bool cs = a.get(0, "case_sensitive").truthy();
    const bool by_value = a.get(1, "by", Value("key")).to_str() == "value";
    const bool rev = a.get(2, "reverse").truthy();
    List items;
    for (const auto& [k, v] : in.as_dict().items) items.push_back(Value::tuple(List{Value(k), v}));
    auto key = [&](const Value& pair) {
      Value k = pair.as_list()[by_value ? 1 : 0];
      return k.is_string() && !cs ? Value(lower_ascii(k.as_string())) : k;
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      return rev ? value_less(key(y), key(x), pos) : value_less(key(x), key(y), pos);
    });
    return Value(std::move(items));
  }
  if (n == "sort") {
    const bool rev = a.get(0, "reverse").truthy();
    const bool cs = a.get(1, "case_sensitive").truthy();
    Value attr = a.get(2, "attribute");
    List items = iterate(in, pos);
    auto key = [&](const Value& v) {
      Value k = attr.is_string() ? attr_path(this, v, attr.as_string(), pos) : v;
      return k.is_string() && !cs ? Value(lower_ascii(k.as_string())) : k;
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      return rev ? value_less(key(y), key(x), pos) : value_less(key(x), key(y), pos);
    });
    return Value(std::move(items));
  }
  if (n == "unique") {
    const bool cs = a.get(0, "case_sensitive").truthy();
    Value attr = a.get(1, "attribute");
    List out, seen;
    for (const Value& v : iterate(in, pos)) {
      Value k = attr.is_string() ? attr_path(this, v, attr.as_string(), pos) : v;
      if (k.is_string() && !cs) k = Value(lower_ascii(k.as_string()));
      if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return s.equals(k); })) continue;
      seen.push_back(k);
      out.push_back(v);
    }
    return Value(std::move(out));
  }
  if (n == "map") {
    Value attr = a.get(SIZE_MAX, "attribute");
    List out;
    if (attr.is_string()) {
      Value dflt = a.get(SIZE_MAX, "default");
      for (const Value& v : iterate(in, pos)) {
        Value r = attr_path(this, v, attr.as_string(), pos);
        out.push_back(r.is_undefined() && !dflt.is_undefined() ? dflt : r);
      }
      return Value(std::move(out));
    }
    if (a.args.empty() || !a.args[0].is_string()) throw Error{"map: expected a filter name or attribute=", pos};
    CallArgs rest;
    rest.args.assign(a.args.begin() + 1, a.args.end());
    rest.kwargs = a.kwargs;
    for (const Value& v : iterate(in, pos)) {
      CallArgs each = rest;
      out.push_back(filter(a.args[0].as_string(), v, each, pos));
    }
    return Value(std::move(out));
  }
  if (n == "select" || n == "reject" || n == "selectattr" || n == "rejectattr") {
    const bool by_attr = n.ends_with("attr");
    const bool keep = n[0] == 's';
    size_t first_arg = 0;
    std::string attr;
    if (by_attr) {
      if (a.args.empty() || !a.args[0].is_string()) throw Error{n + ": expected an attribute name", pos};
      attr = a.args[0].as_string();
      first_arg = 1;
    }
    List out;
    for (const Value& v : iterate(in, pos)) {
      Value x = by_attr ? attr_path(this, v, attr, pos) : v;
      bool ok;
      if (a.args.size() <= first_arg) {
        ok = x.truthy();
      } else {
        if (!a.args[first_arg].is_string()) throw Error{n + ": the test name must be a string", pos};
        CallArgs targs;
        targs.args.assign(a.args.begin() + static_cast<long>(first_arg) + 1, a.args.end());
        targs.kwargs = a.kwargs;
        ok = test(a.args[first_arg].as_string(), x, targs, pos);
      }
      if (ok == keep) out.push_back(v);
    }
    return Value(std::move(out));
  }
  if (n == "int") return to_int(in, a.get(0, "default", Value(0)));
  if (n == "float") return to_float(in, a.get(0, "default", Value(0.0)));
  if (n == "abs") {
    if (!in.is_number()) throw Error{"bad operand type for abs(): '" + in.type_name() + "'", pos};
    if (in.is_float()) return Value(std::fabs(in.as_double()));
    if (in.as_int() == INT64_MIN) throw Error{"integer overflow in abs", pos};
    return Value(static_cast<int64_t>(std::llabs(in.as_int())));
  }
  if (n == "round") {
    Value p = a.get(0, "precision", Value(0));
    return round_value(in, p.is_int() ? p.as_int() : 0, a.get(1, "method", Value("common")).to_str(), pos);
  }
  if (n == "indent") {
    Value w = a.get(0, "width", Value(4));
    const std::string pad =
        w.is_string()
            ? w.as_string()
            : std::string(static_cast<size_t>(std::clamp<int64_t>(w.is_int() ? w.as_int() : 4, 0, 1024)), ' ');
    return Value(indent(in.to_str(), pad, a.get(1, "first").truthy(), a.get(2, "blank").truthy()));
  }
  if (n == "wordcount") {
    int64_t words = 0;
    bool in_word = false;
    for (char c : in.to_str()) {
      const bool w = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (static_cast<unsigned char>(c) >= 0x80);
      if (w && !in_word) ++words;
      in_word = w;
    }
    return Value(words);
  }
  if (n == "sum" || n == "min" || n == "max") {
    Value attr = a.get(n == "sum" ? 0 : 2, "attribute");
    List items = iterate(in, pos);
    if (attr.is_string()) {
      for (Value& v : items) v = attr_path(this, v, attr.as_string(), pos);
    }
    if (n == "sum") {
      Value total = a.get(1, "start", Value(0));
      for (const Value& v : items) {
        if (!v.is_number() || !total.is_number()) throw Error{"sum: items must be numbers", pos};
        int64_t r = 0;
        if (total.is_int() && v.is_int()) {
          if (__builtin_add_overflow(total.as_int(), v.as_int(), &r)) throw Error{"integer overflow in sum", pos};
          total = Value(r);
        } else {
          total = Value(total.as_double() + v.as_double());
        }
      }
      return total;
    }
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    Value best = items[0];
    for (const Value& v : items) {
      if (n == "min" ? value_less(v, best, pos) : value_less(best, v, pos)) best = v;
    }
    return best;
  }
  if (n == "attr") return get_attr(in, a.get(0, "name").to_str(), pos);
  throw Error{"no filter named '" + n + "'", pos};
}

bool Interp::test(const std::string& name, const Value& v, CallArgs& a, Pos pos) {
  const std::string& n = name;
  if (n == "defined") return !v.is_undefined();
  if (n == "undefined") return v.is_undefined();
  if (n == "none") return v.is_none();
  if (n == "string") return v.is_string();
  if (n == "mapping") return v.is_dict() && !v.as_dict().is_namespace;
  if (n == "iterable") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (n == "sequence") return v.is_list() || v.is_dict() || v.is_string();
  if (n == "number") return v.is_number();
  if (n == "integer") return v.kind() == Value::Kind::kInt;
  if (n == "float") return v.is_float();
  if (n == "boolean") return v.is_bool();
  if (n == "true") return v.is_bool() && v.as_bool();
  if (n == "false") return v.is_bool() && !v.as_bool();
  if (n == "callable") return v.is_function();
  if (n == "odd" || n == "even") {
    if (!v.is_int()) throw Error{"the '" + n + "' test needs an integer, got " + v.type_name(), pos};
    return (v.as_int() % 2 != 0) == (n == "odd");
  }
  if (n == "divisibleby") {
    const int64_t d = want_int(a.get(0, "num"), "divisibleby argument", pos);
    if (!v.is_int()) throw Error{"the 'divisibleby' test needs an integer, got " + v.type_name(), pos};
    if (d == 0) throw Error{"division by zero", pos};
    return v.as_int() % d == 0;
  }
  if (n == "lower" || n == "upper") {
    if (!v.is_string()) return false;
    const std::string& s = v.as_string();
    bool cased = false;
    for (char c : s) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (n == "lower" ? std::isupper(u) : std::islower(u)) return false;
      cased = cased || std::isalpha(u);
    }
    return cased;
  }
  if (n == "in") return contains(a.get(0, "seq"), v, pos);
  const Value other = a.get(0, "other");
  if (n == "sameas") return v.kind() == other.kind() && v.equals(other);  // Python `is` on singletons
  if (n == "equalto" || n == "eq" || n == "==") return v.equals(other);
  if (n == "ne" || n == "!=") return !v.equals(other);
  if (n == "lt" || n == "lessthan" || n == "<") return value_less(v, other, pos);
  if (n == "gt" || n == "greaterthan" || n == ">") return value_less(other, v, pos);
  if (n == "le" || n == "<=") return !value_less(other, v, pos);
  if (n == "ge" || n == ">=") return !value_less(v, other, pos);
  throw Error{"no test named '" + n + "'", pos};
}

}  // namespace edgellm::jinja
