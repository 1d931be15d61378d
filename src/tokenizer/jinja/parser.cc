// Recursive-descent parser following Jinja2's grammar (jinja2/parser.py precedence levels):
// conditional < or < and < not < comparison < + - < ~ < * / // % < ** < unary - + < postfix/filters/tests.
#include "tokenizer/jinja/parser.h"

#include <initializer_list>
#include <string_view>

namespace edgellm::jinja {
namespace {

class Parser {
 public:
  explicit Parser(const std::vector<Token>& toks) : t_(toks) {}

  Body parse_all() {
    std::string_view end;
    Body body = parse_body({}, &end);
    if (!end.empty()) throw Error{"unexpected '" + std::string(end) + "'", cur().pos};
    return body;
  }

 private:
  const Token& cur() const { return t_[i_]; }
  const Token& next() { return t_[i_++]; }
  bool is_op(std::string_view op) const { return cur().type == Tok::kOp && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::kName && cur().text == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    ++i_;
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    ++i_;
    return true;
  }
  [[noreturn]] void unexpected(std::string_view wanted) const {
    std::string got;
    switch (cur().type) {
      case Tok::kEof: got = "end of template"; break;
      case Tok::kExprEnd: got = "end of print statement"; break;
      case Tok::kStmtEnd: got = "end of statement block"; break;
      case Tok::kText: got = "text"; break;
      default: got = "'" + cur().text + "'";
    }
    throw Error{"expected " + std::string(wanted) + ", got " + got, cur().pos};
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) unexpected("'" + std::string(op) + "'");
  }
  std::string expect_name() {
    if (cur().type != Tok::kName) unexpected("a name");
    return next().text;
  }
  void expect_stmt_end() {
    if (cur().type != Tok::kStmtEnd) unexpected("end of statement block");
    ++i_;
  }

  static ExprPtr make(Expr::Kind k, Pos p) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->pos = p;
    return e;
  }
  static ExprPtr binary(Expr::Kind k, std::string op, ExprPtr a, ExprPtr b, Pos p) {
    ExprPtr e = make(k, p);
    e->name = std::move(op);
    e->kids.push_back(std::move(a));
    e->kids.push_back(std::move(b));
    return e;
  }

  // Parses nodes until a `{% name %}` whose name is in `ends` (left unconsumed: *end names it) or EOF.
  Body parse_body(std::initializer_list<std::string_view> ends, std::string_view* end) {
    Body body;
    *end = {};
    while (cur().type != Tok::kEof) {
      const Token& tok = cur();
      if (tok.type == Tok::kText) {
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::kText;
        n->pos = tok.pos;
        n->text = tok.text;
        body.push_back(std::move(n));
        ++i_;
      } else if (tok.type == Tok::kExprBegin) {
        ++i_;
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::kOutput;
        n->pos = tok.pos;
        n->expr = parse_expr();
        if (cur().type != Tok::kExprEnd) unexpected("end of print statement");
        ++i_;
        body.push_back(std::move(n));
      } else if (tok.type == Tok::kStmtBegin) {
        const Token& kw = t_[i_ + 1];
        if (kw.type != Tok::kName) throw Error{"expected a statement name", kw.pos};
        for (std::string_view e : ends) {
          if (kw.text == e) {
            ++i_;
            *end = e;
            return body;
          }
        }
        i_ += 2;
        body.push_back(parse_statement(kw, tok.pos));
      } else {
        unexpected("text or a tag");
      }
    }
    return body;
  }

  // After the block body: consumes `name %}` of the ending tag (the `{%` is already consumed).
  void end_tag() {
    ++i_;
    expect_stmt_end();
  }

  // `kw` is the tag's name; `tag` is where its `{%` starts (errors about the whole tag point there).
  NodePtr parse_statement(const Token& kw, Pos tag) {
    auto n = std::make_unique<Node>();
    n->pos = tag;
    const std::string& k = kw.text;
    std::string_view end;
    if (k == "if") {
      n->kind = Node::Kind::kIf;
      ExprPtr cond = parse_expr();
      expect_stmt_end();
      while (true) {
        Body b = parse_body({"elif", "else", "endif"}, &end);
        n->branches.emplace_back(std::move(cond), std::move(b));
        if (end.empty()) throw Error{"unclosed 'if' (missing endif)", tag};
        ++i_;
        if (end == "elif") {
          cond = parse_expr();
          expect_stmt_end();
        } else if (end == "else") {
          expect_stmt_end();
          Body eb = parse_body({"endif"}, &end);
          if (end.empty()) throw Error{"unclosed 'if' (missing endif)", tag};
          n->branches.emplace_back(nullptr, std::move(eb));
          end_tag();
          break;
        } else {
          expect_stmt_end();
          break;
        }
      }
    } else if (k == "for") {
      n->kind = Node::Kind::kFor;
      n->targets.push_back(expect_name());
      while (skip_op(",")) n->targets.push_back(expect_name());
      if (!skip_name("in")) unexpected("'in'");
      n->expr = parse_cond_expr(false);
      if (skip_name("if")) n->cond = parse_expr();
      if (skip_name("recursive")) throw Error{"recursive loops are not supported", kw.pos};
      expect_stmt_end();
      n->body = parse_body({"else", "endfor"}, &end);
      if (end.empty()) throw Error{"unclosed 'for' (missing endfor)", tag};
      if (end == "else") {
        end_tag();
        n->else_body = parse_body({"endfor"}, &end);
        if (end.empty()) throw Error{"unclosed 'for' (missing endfor)", tag};
      }
      end_tag();
    } else if (k == "set") {
      const Pos tp = cur().pos;
      std::string name = expect_name();
      if (skip_op(".")) {
        n->target = make(Expr::Kind::kAttr, tp);
        ExprPtr obj = make(Expr::Kind::kName, tp);
        obj->name = std::move(name);
        n->target->kids.push_back(std::move(obj));
        n->target->name = expect_name();
        n->kind = Node::Kind::kSet;
      } else {
        n->targets.push_back(std::move(name));
        while (skip_op(",")) n->targets.push_back(expect_name());
        n->kind = is_op("=") ? Node::Kind::kSet : Node::Kind::kSetBlock;
      }
      if (n->kind == Node::Kind::kSet) {
        expect_op("=");
        n->expr = parse_tuple_or_expr();
        expect_stmt_end();
      } else {
        if (n->targets.size() != 1) unexpected("'='");
        expect_stmt_end();
        n->body = parse_body({"endset"}, &end);
        if (end.empty()) throw Error{"unclosed 'set' (missing endset)", tag};
        end_tag();
      }
    } else if (k == "macro") {
      n->kind = Node::Kind::kMacro;
      n->text = expect_name();
      parse_params(n.get());
      expect_stmt_end();
      n->body = parse_body({"endmacro"}, &end);
      if (end.empty()) throw Error{"unclosed 'macro' (missing endmacro)", tag};
      end_tag();
    } else if (k == "call") {
      n->kind = Node::Kind::kCallBlock;
      if (is_op("(")) parse_params(n.get());
      n->expr = parse_expr();
      if (n->expr->kind != Expr::Kind::kCall) throw Error{"expected a call after 'call'", n->expr->pos};
      expect_stmt_end();
      n->body = parse_body({"endcall"}, &end);
      if (end.empty()) throw Error{"unclosed 'call' (missing endcall)", tag};
      end_tag();
    } else if (k == "filter") {
      n->kind = Node::Kind::kFilterBlock;
      ExprPtr input = make(Expr::Kind::kName, kw.pos);
      input->name = kFilterInput;
      n->expr = parse_filter(std::move(input));
      while (skip_op("|")) n->expr = parse_filter(std::move(n->expr));
      expect_stmt_end();
      n->body = parse_body({"endfilter"}, &end);
      if (end.empty()) throw Error{"unclosed 'filter' (missing endfilter)", tag};
      end_tag();
    } else if (k == "generation") {
      // Hugging Face's extension marking assistant text; it renders its body unchanged.
      n->kind = Node::Kind::kIf;
      expect_stmt_end();
      Body b = parse_body({"endgeneration"}, &end);
      if (end.empty()) throw Error{"unclosed 'generation' (missing endgeneration)", tag};
      end_tag();
      ExprPtr yes = make(Expr::Kind::kLiteral, tag);
      yes->literal = Value(true);
      n->branches.emplace_back(std::move(yes), std::move(b));
    } else if (k == "break" || k == "continue") {
      n->kind = k == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      expect_stmt_end();
    } else if (k.starts_with("end") || k == "elif" || k == "else") {
      throw Error{"unexpected '" + k + "' (no open block it could close)", tag};
    } else {
      throw Error{"unknown tag '" + k + "'", kw.pos};
    }
    return n;
  }

  void parse_params(Node* n) {
    expect_op("(");
    while (!skip_op(")")) {
      if (!n->params.empty()) expect_op(",");
      if (skip_op(")")) break;
      n->params.push_back(expect_name());
      n->defaults.push_back(skip_op("=") ? parse_expr() : nullptr);
    }
  }

  // `a, b` without brackets (set statements) is a tuple.
  ExprPtr parse_tuple_or_expr() {
    const Pos p = cur().pos;
    ExprPtr first = parse_expr();
    if (!is_op(",")) return first;
    ExprPtr list = make(Expr::Kind::kList, p);
    list->name = "tuple";
    list->kids.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().type == Tok::kStmtEnd) break;
      list->kids.push_back(parse_expr());
    }
    return list;
  }

  ExprPtr parse_expr() { return parse_cond_expr(true); }

  ExprPtr parse_cond_expr(bool with_cond) {
    ExprPtr e = parse_or();
    if (!with_cond) return e;
    while (is_name("if")) {
      const Pos p = next().pos;
      ExprPtr c = make(Expr::Kind::kCond, p);
      ExprPtr cond = parse_or();
      ExprPtr other = skip_name("else") ? parse_cond_expr(true) : nullptr;
      c->kids.push_back(std::move(e));
      c->kids.push_back(std::move(cond));
      c->kids.push_back(std::move(other));
      e = std::move(c);
    }
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const Pos p = next().pos;
      e = binary(Expr::Kind::kOr, "or", std::move(e), parse_and(), p);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const Pos p = next().pos;
      e = binary(Expr::Kind::kAnd, "and", std::move(e), parse_not(), p);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      ExprPtr e = make(Expr::Kind::kNot, next().pos);
      e->kids.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr e = parse_math1();
    while (true) {
      const Pos p = cur().pos;
      std::string op;
      if (cur().type == Tok::kOp &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">="))) {
        op = next().text;
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && t_[i_ + 1].type == Tok::kName && t_[i_ + 1].text == "in") {
        i_ += 2;
        op = "notin";
      } else {
        return e;
      }
      e = binary(Expr::Kind::kCompare, op, std::move(e), parse_math1(), p);
    }
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& op = next();
      e = binary(Expr::Kind::kBinary, op.text, std::move(e), parse_concat(), op.pos);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const Token& op = next();
      e = binary(Expr::Kind::kBinary, "~", std::move(e), parse_math2(), op.pos);
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& op = next();
      e = binary(Expr::Kind::kBinary, op.text, std::move(e), parse_pow(), op.pos);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const Token& op = next();
      e = binary(Expr::Kind::kBinary, "**", std::move(e), parse_unary(true), op.pos);
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const Token& op = next();
      e = make(op.text == "-" ? Expr::Kind::kNeg : Expr::Kind::kPos, op.pos);
      e->kids.push_back(parse_unary(false));
    } else {
      e = parse_postfix(parse_primary());
    }
    if (!with_filter) return e;
    while (true) {
      if (skip_op("|")) {
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter(ExprPtr input) {
    ExprPtr f = make(Expr::Kind::kFilter, cur().pos);
    f->name = expect_name();
    f->kids.push_back(std::move(input));
    if (is_op("(")) parse_args(f.get());
    return f;
  }

  ExprPtr parse_test(ExprPtr operand) {
    const Pos p = next().pos;  // 'is'
    ExprPtr t = make(Expr::Kind::kTest, p);
    t->negated = skip_name("not");
    t->name = expect_name();
    t->kids.push_back(std::move(operand));
    if (is_op("(")) {
      parse_args(t.get());
    } else if ((cur().type == Tok::kName || cur().type == Tok::kString || cur().type == Tok::kInt ||
                cur().type == Tok::kFloat || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and") && !is_name("if") && !is_name("is") &&
               !is_name("in") && !is_name("not")) {
      t->kids.push_back(parse_postfix(parse_primary()));
    }
    return t;
  }

  ExprPtr parse_call(ExprPtr callee) {
    ExprPtr c = make(Expr::Kind::kCall, cur().pos);
    c->kids.push_back(std::move(callee));
    parse_args(c.get());
    return c;
  }

  // `(a, b, k=v)` appended to e->kids / e->kwargs.
  void parse_args(Expr* e) {
    expect_op("(");
    bool first = true;
    while (!skip_op(")")) {
      if (!first) {
        expect_op(",");
        if (skip_op(")")) break;
      }
      first = false;
      if (cur().type == Tok::kName && t_[i_ + 1].type == Tok::kOp && t_[i_ + 1].text == "=") {
        std::string key = next().text;
        ++i_;
        e->kwargs.emplace_back(std::move(key), parse_expr());
      } else {
        if (!e->kwargs.empty()) throw Error{"positional argument after keyword argument", cur().pos};
        e->kids.push_back(parse_expr());
      }
    }
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        const Pos p = next().pos;
        ExprPtr a = make(Expr::Kind::kAttr, p);
        if (cur().type == Tok::kInt) {
          a->kind = Expr::Kind::kSubscript;
          a->kids.push_back(std::move(e));
          ExprPtr idx = make(Expr::Kind::kLiteral, cur().pos);
          idx->literal = Value(next().i);
          a->kids.push_back(std::move(idx));
        } else {
          a->name = expect_name();
          a->kids.push_back(std::move(e));
        }
        e = std::move(a);
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const Pos p = next().pos;  // '['
    ExprPtr parts[3];
    int n = 0;
    bool slice = false;
    while (!is_op("]")) {
      if (skip_op(":")) {
        slice = true;
        if (++n > 2) unexpected("']'");
        continue;
      }
      if (parts[n]) unexpected("':' or ']'");
      parts[n] = parse_expr();
    }
    ++i_;
    if (!slice) {
      if (!parts[0]) throw Error{"empty subscript", p};
      return binary(Expr::Kind::kSubscript, "", std::move(obj), std::move(parts[0]), p);
    }
    ExprPtr s = make(Expr::Kind::kSlice, p);
    s->kids.push_back(std::move(obj));
    for (auto& part : parts) s->kids.push_back(std::move(part));
    return s;
  }

  ExprPtr parse_primary() {
    const Token& tok = cur();
    const Pos p = tok.pos;
    switch (tok.type) {
      case Tok::kName: {
        ++i_;
        ExprPtr e = make(Expr::Kind::kLiteral, p);
        if (tok.text == "true" || tok.text == "True") {
          e->literal = Value(true);
        } else if (tok.text == "false" || tok.text == "False") {
          e->literal = Value(false);
        } else if (tok.text == "none" || tok.text == "None") {
          e->literal = Value::none();
        } else {
          e->kind = Expr::Kind::kName;
          e->name = tok.text;
        }
        return e;
      }
      case Tok::kString: {
        std::string s;
        while (cur().type == Tok::kString) s += next().text;  // adjacent literals concatenate
        ExprPtr e = make(Expr::Kind::kLiteral, p);
        e->literal = Value(std::move(s));
        return e;
      }
      case Tok::kInt:
      case Tok::kFloat: {
        ++i_;
        ExprPtr e = make(Expr::Kind::kLiteral, p);
        e->literal = tok.type == Tok::kInt ? Value(tok.i) : Value(tok.d);
        return e;
      }
      case Tok::kOp:
        if (skip_op("(")) {
          ExprPtr list = make(Expr::Kind::kList, p);
          list->name = "tuple";
          if (skip_op(")")) return list;
          ExprPtr first = parse_expr();
          if (skip_op(")")) return first;
          list->kids.push_back(std::move(first));
          while (skip_op(",")) {
            if (is_op(")")) break;
            list->kids.push_back(parse_expr());
          }
          expect_op(")");
          return list;
        }
        if (skip_op("[")) {
          ExprPtr list = make(Expr::Kind::kList, p);
          while (!skip_op("]")) {
            if (!list->kids.empty()) {
              expect_op(",");
              if (skip_op("]")) break;
            }
            list->kids.push_back(parse_expr());
          }
          return list;
        }
        if (skip_op("{")) {
          ExprPtr dict = make(Expr::Kind::kDict, p);
          while (!skip_op("}")) {
            if (!dict->kids.empty()) {
              expect_op(",");
              if (skip_op("}")) break;
            }
            dict->kids.push_back(parse_expr());
            expect_op(":");
            dict->kids.push_back(parse_expr());
          }
          return dict;
        }
        break;
      default: break;
    }
    unexpected("an expression");
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_all(); }

}  // namespace edgellm::jinja
