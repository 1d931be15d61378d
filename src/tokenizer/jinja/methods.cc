// Attribute and item access, iteration, slicing, and the Python methods of str, list and dict values.
#include <algorithm>
#include <cctype>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/interp.h"

namespace edgellm::jinja {
namespace {

bool py_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

std::string type_object(const Value& v) {
  std::string s = "'";  // built by appends: g++ 12 warns falsely (-Wrestrict) on "'" + std::string
  s += v.type_name();
  s += " object'";
  return s;
}

const std::string& want_string(const Value& v, const char* what, Pos pos) {
  if (!v.is_string()) throw Error{std::string(what) + " must be a string, not " + v.type_name(), pos};
  return v.as_string();
}

// Python's split(sep, maxsplit): on runs of whitespace when sep is absent.
List py_split(const std::string& s, const Value& sep_v, int64_t maxsplit, Pos pos) {
  List out;
  if (sep_v.is_undefined() || sep_v.is_none()) {
    size_t i = 0;
    while (true) {
      while (i < s.size() && py_space(s[i])) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
        size_t e = s.size();
        while (e > i && py_space(s[e - 1])) --e;
        out.emplace_back(s.substr(i, e - i));
        break;
      }
      size_t j = i;
      while (j < s.size() && !py_space(s[j])) ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    }
    return out;
  }
  const std::string& sep = want_string(sep_v, "split separator", pos);
  if (sep.empty()) throw Error{"empty separator", pos};
  size_t i = 0;
  while (true) {
    const size_t j = s.find(sep, i);
    if (j == std::string::npos || (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit)) {
      out.emplace_back(s.substr(i));
      return out;
    }
    out.emplace_back(s.substr(i, j - i));
    i = j + sep.size();
  }
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  std::string out;
  size_t i = 0;
  int64_t done = 0;
  if (from.empty()) {
    for (size_t k = 0; k <= s.size(); ++k) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (k < s.size()) out += s[k];
    }
    return out;
  }
  while (count < 0 || done < count) {
    const size_t j = s.find(from, i);
    if (j == std::string::npos) break;
    out.append(s, i, j - i);
    out += to;
    i = j + from.size();
    ++done;
  }
  out.append(s, i, std::string::npos);
  return out;
}

std::string ascii_map(std::string s, int (*f)(int)) {
  for (char& c : s) c = static_cast<char>(f(static_cast<unsigned char>(c)));
  return s;
}

std::string py_title(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& c : out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalpha(u)) {
      c = static_cast<char>(prev_cased ? std::tolower(u) : std::toupper(u));
      prev_cased = true;
    } else {
      prev_cased = u >= 0x80;  // letters outside ASCII keep the word going
    }
  }
  return out;
}

bool starts_or_ends(const std::string& s, const Value& arg, bool start, Pos pos) {
  auto one = [&](const Value& v) {
    const std::string& p = want_string(v, start ? "startswith argument" : "endswith argument", pos);
    return start ? s.starts_with(p) : s.ends_with(p);
  };
  if (arg.is_list()) {
    for (const Value& v : arg.as_list()) {
      if (one(v)) return true;
    }
    return false;
  }
  return one(arg);
}

// str.format with positional "{}"/"{0}" and keyword "{name}" fields (no format specs).
std::string py_format(const std::string& fmt, CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if ((c == '{' || c == '}') && i + 1 < fmt.size() && fmt[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) throw Error{"format string: single '{' without '}'", a.pos};
    const std::string field = fmt.substr(i + 1, close - i - 1);
    Value v;
    if (field.empty()) {
      v = a.get(auto_index++, "\x01");
    } else if (std::all_of(field.begin(), field.end(),
                           [](char d) { return std::isdigit(static_cast<unsigned char>(d)); })) {
      v = a.get(std::stoul(field), "\x01");
    } else {
      v = a.get(SIZE_MAX, field);
    }
    if (v.is_undefined()) throw Error{"format string: no argument for field {" + field + "}", a.pos};
    out += v.to_str();
    i = close;
  }
  return out;
}

}  // namespace

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) n = 1;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) n = 1;
    }
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string py_strip(std::string_view s, std::string_view chars, char which) {
  auto strip_char = [&](char c) { return chars.empty() ? py_space(c) : chars.find(c) != std::string_view::npos; };
  size_t b = 0, e = s.size();
  if (which != 'r') {
    while (b < e && strip_char(s[b])) ++b;
  }
  if (which != 'l') {
    while (e > b && strip_char(s[e - 1])) --e;
  }
  return std::string(s.substr(b, e - b));
}

List iterate(const Value& v, Pos pos) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      return v.as_list();
    case Value::Kind::kDict: {
      List keys;
      for (const auto& kv : v.as_dict().items) keys.emplace_back(kv.first);
      return keys;
    }
    case Value::Kind::kString: {
      List chars;
      for (std::string_view c : code_points(v.as_string())) chars.emplace_back(c);
      return chars;
    }
    default:
      throw Error{"'" + v.type_name() + "' object is not iterable", pos};
  }
}

bool contains(const Value& container, const Value& item, Pos pos) {
  if (container.is_string()) {
    if (!item.is_string()) throw Error{"'in <string>' requires string as left operand, not " + item.type_name(), pos};
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_dict()) return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
  for (const Value& v : iterate(container, pos)) {
    if (v.equals(item)) return true;
  }
  return false;
}

Value slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v, Pos pos) {
  auto opt = [&](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int()) throw Error{std::string("slice ") + what + " must be an integer", pos};
    return v.as_int();
  };
  const int64_t step = opt(step_v, "step").value_or(1);
  if (step == 0) throw Error{"slice step cannot be zero", pos};
  std::vector<std::string_view> cps;
  if (obj.is_string())
    cps = code_points(obj.as_string());
  else if (!obj.is_list())
    throw Error{"'" + obj.type_name() + "' object is not subscriptable", pos};
  const int64_t len = static_cast<int64_t>(obj.is_string() ? cps.size() : obj.as_list().size());
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + len : *v;
    if (step > 0) return std::clamp<int64_t>(x, 0, len);
    return std::clamp<int64_t>(x, -1, len - 1);
  };
  const int64_t start = clamp(opt(start_v, "start"), step > 0 ? 0 : len - 1);
  const int64_t stop = clamp(opt(stop_v, "stop"), step > 0 ? len : -1);
  std::string s;
  List l;
  // i stays within [-1, len] and |step| can be huge: step in 128 bits so it cannot overflow.
  for (__int128 i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (obj.is_string())
      s += cps[static_cast<size_t>(i)];
    else
      l.push_back(obj.as_list()[static_cast<size_t>(i)]);
  }
  return obj.is_string() ? Value(std::move(s)) : Value(std::move(l));
}

Value method(const Value& obj, const std::string& name) {
  auto bind = [&](auto f) { return Value::function(name, [obj, f](CallArgs& a) { return f(obj, a); }); };
  if (obj.is_string()) {
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      const char which = name[0] == 's' ? 'b' : name[0];
      return bind([which](const Value& o, CallArgs& a) {
        Value chars = a.get(0, "chars");
        return Value(py_strip(o.as_string(), chars.is_string() ? chars.as_string() : "", which));
      });
    }
    if (name == "startswith" || name == "endswith") {
      const bool start = name[0] == 's';
      return bind([start](const Value& o, CallArgs& a) {
        return Value(starts_or_ends(o.as_string(), a.get(0, "prefix"), start, a.pos));
      });
    }
    if (name == "split") {
      return bind([](const Value& o, CallArgs& a) {
        Value m = a.get(1, "maxsplit", Value(-1));
        return Value(py_split(o.as_string(), a.get(0, "sep"), m.is_int() ? m.as_int() : -1, a.pos));
      });
    }
    if (name == "upper")
      return bind([](const Value& o, CallArgs&) { return Value(ascii_map(o.as_string(), ::toupper)); });
    if (name == "lower")
      return bind([](const Value& o, CallArgs&) { return Value(ascii_map(o.as_string(), ::tolower)); });
    if (name == "title") return bind([](const Value& o, CallArgs&) { return Value(py_title(o.as_string())); });
    if (name == "capitalize") {
      return bind([](const Value& o, CallArgs&) {
        std::string s = ascii_map(o.as_string(), ::tolower);
        if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
        return Value(std::move(s));
      });
    }
    if (name == "replace") {
      return bind([](const Value& o, CallArgs& a) {
        const std::string& from = want_string(a.get(0, "old"), "replace argument", a.pos);
        const std::string& to = want_string(a.get(1, "new"), "replace argument", a.pos);
        Value n = a.get(2, "count", Value(-1));
        return Value(py_replace(o.as_string(), from, to, n.is_int() ? n.as_int() : -1));
      });
    }
    if (name == "format") return bind([](const Value& o, CallArgs& a) { return Value(py_format(o.as_string(), a)); });
    if (name == "join") {
      return bind([](const Value& o, CallArgs& a) {
        std::string out;
        bool first = true;
        for (const Value& v : iterate(a.get(0, "iterable"), a.pos)) {
          if (!first) out += o.as_string();
          first = false;
          out += want_string(v, "join item", a.pos);
        }
        return Value(std::move(out));
      });
    }
    if (name == "find" || name == "count") {
      const bool find = name == "find";
      return bind([find](const Value& o, CallArgs& a) {
        const std::string& sub = want_string(a.get(0, "sub"), "argument", a.pos);
        const std::string& s = o.as_string();
        if (find) {
          const size_t p = s.find(sub);
          return p == std::string::npos ? Value(-1) : Value(static_cast<int64_t>(code_points(s.substr(0, p)).size()));
        }
        if (sub.empty()) return Value(static_cast<int64_t>(code_points(s).size()) + 1);
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value(n);
      });
    }
  } else if (obj.is_dict() && !obj.as_dict().is_namespace) {
    if (name == "items" || name == "keys" || name == "values") {
      const char k = name[0];
      return bind([k](const Value& o, CallArgs&) {
        List out;
        for (const auto& [key, v] : o.as_dict().items) {
          if (k == 'i')
            out.push_back(Value::tuple(List{Value(key), v}));
          else if (k == 'k')
            out.emplace_back(key);
          else
            out.push_back(v);
        }
        return Value(std::move(out));
      });
    }
    if (name == "get") {
      return bind([](const Value& o, CallArgs& a) {
        Value key = a.get(0, "key");
        const Value* v = key.is_string() ? o.as_dict().find(key.as_string()) : nullptr;
        return v != nullptr ? *v : a.get(1, "default", Value::none());
      });
    }
  } else if (obj.is_list()) {
    if (name == "index" || name == "count") {
      const bool index = name == "index";
      return bind([index](const Value& o, CallArgs& a) {
        Value x = a.get(0, "value");
        int64_t n = 0;
        for (size_t i = 0; i < o.as_list().size(); ++i) {
          if (!o.as_list()[i].equals(x)) continue;
          if (index) return Value(static_cast<int64_t>(i));
          ++n;
        }
        if (index) throw Error{x.repr() + " is not in list", a.pos};
        return Value(n);
      });
    }
  }
  return Value::undefined(type_object(obj) + " has no attribute '" + name + "'");
}

Value Interp::get_attr(const Value& obj, const std::string& name, Pos pos) {
  Value m = method(obj, name);
  if (!m.is_undefined()) return m;
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
  }
  return m;
}

Value Interp::get_item(const Value& obj, const Value& key, Pos pos) {
  if (obj.is_dict()) {
    if (key.is_string()) {
      if (const Value* v = obj.as_dict().find(key.as_string())) return *v;
    }
    return Value::undefined(type_object(obj) + " has no attribute " + key.repr());
  }
  if (obj.is_list() || obj.is_string()) {
    if (!key.is_int()) {
      if (key.is_string()) return get_attr(obj, key.as_string(), pos);
      throw Error{obj.type_name() + " indices must be integers, not " + key.type_name(), pos};
    }
    std::vector<std::string_view> cps;
    if (obj.is_string()) cps = code_points(obj.as_string());
    const int64_t len = static_cast<int64_t>(obj.is_string() ? cps.size() : obj.as_list().size());
    int64_t i = key.as_int();
    if (i < 0) i += len;
    if (i < 0 || i >= len) return Value::undefined(type_object(obj) + " has no element " + key.to_str());
    if (obj.is_string()) return Value(cps[static_cast<size_t>(i)]);
    return obj.as_list()[static_cast<size_t>(i)];
  }
  return Value::undefined(type_object(obj) + " has no attribute " + key.repr());
}

}  // namespace edgellm::jinja
