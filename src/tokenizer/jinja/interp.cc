// Statement execution and expression evaluation (filters, tests and methods live in builtins.cc).
#include "tokenizer/jinja/interp.h"

#include <cmath>

#include "tokenizer/jinja/builtins.h"

namespace edgellm::jinja {
namespace {

constexpr int kMaxDepth = 200;
constexpr size_t kMaxOutput = size_t{256} << 20;  // a template printing more than this is broken or hostile
// The work budget of one render: 256K loop iterations or 2M list elements, far beyond any chat template (a
// conversation of thousands of messages costs thousands of steps) and a fraction of a second of CPU time.
constexpr int64_t kMaxWork = int64_t{1} << 21;

// An undefined value carries the message Jinja gives when it is used ("'x' is undefined").
std::string undefined_message(const std::string& what) { return what.empty() ? "value is undefined" : what; }

}  // namespace

void Interp::charge(int64_t units, Pos pos) {
  work_ += units;
  if (work_ > kMaxWork) throw Error{"template does too much work (loops, recursion or data too large)", pos};
}

Value* Interp::Scope::find(const std::string& name) {
  for (Scope* s = this; s != nullptr; s = s->parent) {
    for (auto& [k, v] : s->vars) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Interp::Scope::set(const std::string& name, Value v) {
  for (auto& [k, old] : vars) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

Interp::Interp(const Value& globals, std::optional<std::tm> now) : now_(now) {
  install_globals(this, &root_.vars, now_);
  if (globals.is_dict()) {
    for (const auto& [k, v] : globals.as_dict().items) root_.set(k, v);
  }
}

std::string Interp::render(const Body& body) {
  std::string out;
  exec(body, &out);
  return out;
}

Interp::Flow Interp::exec(const Body& body, std::string* out) {
  for (const NodePtr& n : body) {
    const Flow f = exec_node(*n, out);
    if (f != Flow::kNormal) return f;
    if (out->size() > kMaxOutput) throw Error{"output exceeds 256 MiB", n->pos};
  }
  return Flow::kNormal;
}

Interp::Flow Interp::exec_node(const Node& n, std::string* out) {
  switch (n.kind) {
    case Node::Kind::kText:
      *out += n.text;
      break;
    case Node::Kind::kOutput:
      *out += eval(*n.expr).to_str();
      break;
    case Node::Kind::kIf:
      for (const auto& [cond, body] : n.branches) {
        if (!cond || eval(*cond).truthy()) return exec(body, out);
      }
      break;
    case Node::Kind::kFor:
      exec_for(n, out);
      break;
    case Node::Kind::kSet: {
      Value v = eval(*n.expr);
      if (n.target) {
        Value obj = eval(*n.target->kids[0]);
        if (!obj.is_dict() || !obj.as_dict().is_namespace) {
          throw Error{"cannot assign attribute '" + n.target->name + "' on a " + obj.type_name() +
                          " (only namespace() objects take attributes)",
                      n.pos};
        }
        obj.as_dict().set(n.target->name, std::move(v));
      } else {
        assign(n.targets, v, n.pos);
      }
      break;
    }
    case Node::Kind::kSetBlock: {
      std::string captured;
      exec(n.body, &captured);
      scope_->set(n.targets[0], Value(std::move(captured)));
      break;
    }
    case Node::Kind::kMacro:
      scope_->set(n.text, make_macro(n, scope_));
      break;
    case Node::Kind::kCallBlock: {
      const Expr& call_expr = *n.expr;
      Value fn = eval(*call_expr.kids[0]);
      CallArgs args;
      args.pos = call_expr.pos;
      for (size_t i = 1; i < call_expr.kids.size(); ++i) args.args.push_back(eval(*call_expr.kids[i]));
      for (const auto& [k, v] : call_expr.kwargs) args.kwargs.emplace_back(k, eval(*v));
      args.kwargs.emplace_back("caller", make_macro(n, scope_));
      *out += call(fn, args, call_expr.pos).to_str();
      break;
    }
    case Node::Kind::kFilterBlock: {
      std::string captured;
      exec(n.body, &captured);
      Scope s;
      s.parent = scope_;
      s.set(kFilterInput, Value(std::move(captured)));
      scope_ = &s;
      Value v = eval(*n.expr);
      scope_ = s.parent;
      *out += v.to_str();
      break;
    }
    case Node::Kind::kBreak:
      return Flow::kBreak;
    case Node::Kind::kContinue:
      return Flow::kContinue;
  }
  return Flow::kNormal;
}

void Interp::assign(const std::vector<std::string>& targets, const Value& v, Pos pos) {
  if (targets.size() == 1) {
    scope_->set(targets[0], v);
    return;
  }
  if (!v.is_list() || v.as_list().size() != targets.size()) {
    throw Error{"cannot unpack " + v.type_name() + " into " + std::to_string(targets.size()) + " names", pos};
  }
  for (size_t i = 0; i < targets.size(); ++i) scope_->set(targets[i], v.as_list()[i]);
}

void Interp::exec_for(const Node& n, std::string* out) {
  Value seq = eval(*n.expr);
  List items = iterate(seq, n.expr->pos);
  Scope s;
  s.parent = scope_;
  scope_ = &s;
  struct Restore {
    Interp* self;
    Scope* parent;
    ~Restore() { self->scope_ = parent; }
  } restore{this, s.parent};
  if (n.cond) {
    List kept;
    for (const Value& item : items) {
      charge(kStepCost, n.pos);
      s.vars.clear();
      assign(n.targets, item, n.pos);
      if (eval(*n.cond).truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  const int64_t len = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < len; ++i) {
    charge(kStepCost, n.pos);
    s.vars.clear();
    Value loop = Value::new_dict();
    Dict& d = loop.as_dict();
    d.set("index", Value(i + 1));
    d.set("index0", Value(i));
    d.set("revindex", Value(len - i));
    d.set("revindex0", Value(len - i - 1));
    d.set("first", Value(i == 0));
    d.set("last", Value(i == len - 1));
    d.set("length", Value(len));
    d.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("'previtem' is undefined"));
    d.set("nextitem", i + 1 < len ? items[static_cast<size_t>(i + 1)] : Value::undefined("'nextitem' is undefined"));
    d.set("cycle", Value::function("cycle", [i](CallArgs& a) {
            if (a.args.empty()) throw Error{"loop.cycle() needs at least one argument", a.pos};
            return a.args[static_cast<size_t>(i) % a.args.size()];
          }));
    s.set("loop", loop);
    assign(n.targets, items[static_cast<size_t>(i)], n.pos);
    if (exec(n.body, out) == Flow::kBreak) break;
  }
  if (len == 0) {
    s.vars.clear();
    exec(n.else_body, out);
  }
}

Value Interp::make_macro(const Node& n, Scope* defining_scope) {
  const Node* node = &n;
  // The body sees the variables visible where it was defined (a call block sees the loop around it). They
  // are copied, not referenced: the function value may outlive that scope (e.g. stored in a namespace).
  auto closure = std::make_shared<Scope>();
  closure->parent = &root_;
  for (Scope* s = defining_scope; s != nullptr && s != &root_; s = s->parent) {
    for (const auto& [k, v] : s->vars) {
      bool shadowed = false;  // an inner scope's variable of the same name was copied already
      for (const auto& kv : closure->vars) shadowed = shadowed || kv.first == k;
      if (!shadowed) closure->vars.emplace_back(k, v);
    }
  }
  return Value::function(n.text.empty() ? "caller" : n.text, [this, node, closure](CallArgs& a) {
    Scope* root = closure.get();
    charge(kStepCost, a.pos);
    if (++depth_ > kMaxDepth) {
      --depth_;
      throw Error{"macro recursion deeper than " + std::to_string(kMaxDepth), a.pos};
    }
    Scope s;
    s.parent = root;
    Scope* saved = scope_;
    scope_ = &s;
    struct Restore {
      Interp* self;
      Scope* saved;
      ~Restore() {
        self->scope_ = saved;
        --self->depth_;
      }
    } restore{this, saved};
    List varargs;
    for (size_t i = 0; i < a.args.size(); ++i) {
      if (i < node->params.size())
        s.set(node->params[i], a.args[i]);
      else
        varargs.push_back(a.args[i]);
    }
    Value kwargs = Value::new_dict();
    for (auto& [k, v] : a.kwargs) {
      bool is_param = false;
      for (const std::string& p : node->params) is_param = is_param || p == k;
      if (is_param || k == "caller")
        s.set(k, v);
      else
        kwargs.as_dict().set(k, v);
    }
    for (size_t i = 0; i < node->params.size(); ++i) {
      bool given = false;
      for (const auto& [k, v] : s.vars) given = given || k == node->params[i];
      if (given) continue;
      s.set(node->params[i],
            node->defaults[i] ? eval(*node->defaults[i]) : Value::undefined("'" + node->params[i] + "' is undefined"));
    }
    s.set("varargs", Value::tuple(std::move(varargs)));
    s.set("kwargs", kwargs);
    std::string out;
    exec(node->body, &out);
    return Value(std::move(out));
  });
}

Value Interp::lookup(const std::string& name) {
  if (Value* v = scope_->find(name)) return *v;
  return Value::undefined("'" + name + "' is undefined");
}

Value Interp::call(const Value& fn, CallArgs& args, Pos pos) {
  if (fn.is_undefined()) throw Error{undefined_message(fn.undefined_name()) + " (called as a function)", pos};
  if (!fn.is_function()) throw Error{"'" + fn.type_name() + "' object is not callable", pos};
  args.pos = pos;
  try {
    return fn.as_function()(args);
  } catch (Error& e) {
    if (e.pos.line == 0) e.pos = pos;
    throw;
  }
}

Value Interp::eval(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kLiteral:
      return e.literal;
    case Expr::Kind::kName:
      return lookup(e.name);
    case Expr::Kind::kList: {
      List l;
      for (const ExprPtr& k : e.kids) l.push_back(eval(*k));
      return e.name == "tuple" ? Value::tuple(std::move(l)) : Value(std::move(l));
    }
    case Expr::Kind::kDict: {
      Value d = Value::new_dict();
      for (size_t i = 0; i + 1 < e.kids.size(); i += 2) {
        Value k = eval(*e.kids[i]);
        if (!k.is_string()) throw Error{"dict keys must be strings, got " + k.type_name(), e.kids[i]->pos};
        d.as_dict().set(k.as_string(), eval(*e.kids[i + 1]));
      }
      return d;
    }
    case Expr::Kind::kNeg:
    case Expr::Kind::kPos: {
      Value v = eval(*e.kids[0]);
      if (v.is_undefined()) throw Error{undefined_message(v.undefined_name()), e.pos};
      if (!v.is_number())
        throw Error{"bad operand type for unary " + std::string(e.kind == Expr::Kind::kNeg ? "-" : "+") + ": '" +
                        v.type_name() + "'",
                    e.pos};
      if (e.kind == Expr::Kind::kPos) return v;
      if (v.is_float()) return Value(-v.as_double());
      if (v.as_int() == INT64_MIN) throw Error{"integer overflow", e.pos};
      return Value(-v.as_int());
    }
    case Expr::Kind::kNot:
      return Value(!eval(*e.kids[0]).truthy());
    case Expr::Kind::kAnd: {
      Value a = eval(*e.kids[0]);
      return a.truthy() ? eval(*e.kids[1]) : a;
    }
    case Expr::Kind::kOr: {
      Value a = eval(*e.kids[0]);
      return a.truthy() ? a : eval(*e.kids[1]);
    }
    case Expr::Kind::kBinary:
      return binary(e);
    case Expr::Kind::kCompare: {
      Value a = eval(*e.kids[0]);
      Value b = eval(*e.kids[1]);
      return Value(compare(e.name, a, b, e.pos));
    }
    case Expr::Kind::kCond:
      if (eval(*e.kids[1]).truthy()) return eval(*e.kids[0]);
      return e.kids[2] ? eval(*e.kids[2]) : Value::undefined("the conditional expression had no else branch");
    case Expr::Kind::kAttr: {
      Value obj = eval(*e.kids[0]);
      if (obj.is_undefined()) throw Error{undefined_message(obj.undefined_name()), e.pos};
      return get_attr(obj, e.name, e.pos);
    }
    case Expr::Kind::kSubscript: {
      Value obj = eval(*e.kids[0]);
      Value key = eval(*e.kids[1]);
      if (obj.is_undefined()) throw Error{undefined_message(obj.undefined_name()), e.pos};
      return get_item(obj, key, e.pos);
    }
    case Expr::Kind::kSlice: {
      Value obj = eval(*e.kids[0]);
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (e.kids[static_cast<size_t>(i) + 1]) parts[i] = eval(*e.kids[static_cast<size_t>(i) + 1]);
      }
      if (obj.is_undefined()) throw Error{undefined_message(obj.undefined_name()), e.pos};
      return slice(obj, parts[0], parts[1], parts[2], e.pos);
    }
    case Expr::Kind::kCall: {
      Value fn = eval(*e.kids[0]);
      CallArgs args;
      for (size_t i = 1; i < e.kids.size(); ++i) args.args.push_back(eval(*e.kids[i]));
      for (const auto& [k, v] : e.kwargs) args.kwargs.emplace_back(k, eval(*v));
      return call(fn, args, e.pos);
    }
    case Expr::Kind::kFilter: {
      Value input = eval(*e.kids[0]);
      CallArgs args;
      args.pos = e.pos;
      for (size_t i = 1; i < e.kids.size(); ++i) args.args.push_back(eval(*e.kids[i]));
      for (const auto& [k, v] : e.kwargs) args.kwargs.emplace_back(k, eval(*v));
      return filter(e.name, input, args, e.pos);
    }
    case Expr::Kind::kTest: {
      Value operand = eval(*e.kids[0]);
      CallArgs args;
      args.pos = e.pos;
      for (size_t i = 1; i < e.kids.size(); ++i) args.args.push_back(eval(*e.kids[i]));
      for (const auto& [k, v] : e.kwargs) args.kwargs.emplace_back(k, eval(*v));
      return Value(test(e.name, operand, args, e.pos) != e.negated);
    }
  }
  return Value();
}

Value Interp::binary(const Expr& e) {
  Value a = eval(*e.kids[0]);
  Value b = eval(*e.kids[1]);
  const std::string& op = e.name;
  if (op == "~") {
    std::string s = a.to_str() + b.to_str();
    charge(static_cast<int64_t>(s.size() / 16), e.pos);
    return Value(std::move(s));
  }
  if (a.is_undefined()) throw Error{undefined_message(a.undefined_name()), e.pos};
  if (b.is_undefined()) throw Error{undefined_message(b.undefined_name()), e.pos};
  auto type_error = [&]() -> Error {
    return Error{"unsupported operand types for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'",
                 e.pos};
  };
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      charge(static_cast<int64_t>((a.as_string().size() + b.as_string().size()) / 16), e.pos);
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list()) {
      charge(static_cast<int64_t>(a.as_list().size() + b.as_list().size()), e.pos);
      List l = a.as_list();
      l.insert(l.end(), b.as_list().begin(), b.as_list().end());
      return Value(std::move(l));
    }
  }
  const bool a_seq = a.is_string() || a.is_list();
  const bool b_seq = b.is_string() || b.is_list();
  if (op == "*" && ((a_seq && b.is_int()) || (b_seq && a.is_int()))) {
    const Value& seq = a.is_int() ? b : a;
    const int64_t n = std::max<int64_t>(0, a.is_int() ? a.as_int() : b.as_int());
    const size_t unit = seq.is_string() ? seq.as_string().size() : seq.as_list().size();
    if (unit == 0) return seq.is_string() ? Value("") : Value(List{});
    if (static_cast<uint64_t>(n) > (size_t{64} << 20) / unit) throw Error{"repetition too large", e.pos};
    charge(static_cast<int64_t>(static_cast<uint64_t>(n) * unit / (seq.is_string() ? 16 : 1)), e.pos);
    if (seq.is_string()) {
      std::string s;
      for (int64_t i = 0; i < n; ++i) s += seq.as_string();
      return Value(std::move(s));
    }
    List l;
    for (int64_t i = 0; i < n; ++i) l.insert(l.end(), seq.as_list().begin(), seq.as_list().end());
    return Value(std::move(l));
  }
  if (!a.is_number() || !b.is_number()) throw type_error();
  const bool ints = a.is_int() && b.is_int();
  // Python integers do not overflow; 64-bit ones report it instead of wrapping.
  if (ints && (op == "+" || op == "-" || op == "*")) {
    int64_t r = 0;
    const bool overflow = op == "+"   ? __builtin_add_overflow(a.as_int(), b.as_int(), &r)
                          : op == "-" ? __builtin_sub_overflow(a.as_int(), b.as_int(), &r)
                                      : __builtin_mul_overflow(a.as_int(), b.as_int(), &r);
    if (overflow) throw Error{"integer overflow in " + op, e.pos};
    return Value(r);
  }
  if (op == "+") return Value(a.as_double() + b.as_double());
  if (op == "-") return Value(a.as_double() - b.as_double());
  if (op == "*") return Value(a.as_double() * b.as_double());
  if (op == "**") {
    if (ints && b.as_int() >= 0) {
      const int64_t base = a.as_int(), exp = b.as_int();
      if (base == 0) return Value(int64_t{exp == 0 ? 1 : 0});
      if (base == 1) return Value(int64_t{1});
      if (base == -1) return Value(int64_t{exp % 2 == 0 ? 1 : -1});
      int64_t acc = 1;  // |base| >= 2 overflows within 63 steps
      for (int64_t i = 0; i < exp; ++i) {
        if (__builtin_mul_overflow(acc, base, &acc)) throw Error{"integer overflow in **", e.pos};
      }
      return Value(acc);
    }
    return Value(std::pow(a.as_double(), b.as_double()));
  }
  if ((op == "/" || op == "//" || op == "%") && b.as_double() == 0) throw Error{"division by zero", e.pos};
  if (op == "/") return Value(a.as_double() / b.as_double());
  if (ints && (op == "//" || op == "%") && a.as_int() == INT64_MIN && b.as_int() == -1) {
    throw Error{"integer overflow in " + op, e.pos};
  }
  if (op == "//") {
    if (ints) {
      int64_t q = a.as_int() / b.as_int();
      if ((a.as_int() % b.as_int() != 0) && ((a.as_int() < 0) != (b.as_int() < 0))) --q;
      return Value(q);
    }
    return Value(std::floor(a.as_double() / b.as_double()));
  }
  if (op == "%") {
    if (ints) {
      int64_t r = a.as_int() % b.as_int();
      if (r != 0 && ((r < 0) != (b.as_int() < 0))) r += b.as_int();
      return Value(r);
    }
    double r = std::fmod(a.as_double(), b.as_double());
    if (r != 0 && ((r < 0) != (b.as_double() < 0))) r += b.as_double();
    return Value(r);
  }
  throw type_error();
}

bool Interp::compare(const std::string& op, const Value& a, const Value& b, Pos pos) {
  if (op == "==") return a.equals(b);
  if (op == "!=") return !a.equals(b);
  if (op == "in" || op == "notin") return contains(b, a, pos) == (op == "in");
  if (op == "<") return value_less(a, b, pos);
  if (op == ">") return value_less(b, a, pos);
  if (op == "<=") return !value_less(b, a, pos);
  if (op == ">=") return !value_less(a, b, pos);
  throw Error{"unknown comparison " + op, pos};
}

bool value_less(const Value& a, const Value& b, Pos pos) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int();
    return a.as_double() < b.as_double();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (value_less(x[i], y[i], pos)) return true;
      if (value_less(y[i], x[i], pos)) return false;
    }
    return x.size() < y.size();
  }
  throw Error{"'<' not supported between instances of '" + a.type_name() + "' and '" + b.type_name() + "'", pos};
}

}  // namespace edgellm::jinja
