// The parser's class, shared by parser.cc (statements) and parser_expr.cc (expressions). Internal.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"

namespace edgellm::jinja {

// Recursive descent over the lexer's tokens; throws Error at the first problem.
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
  // 'text' (built by appends: g++ 12 warns falsely with -Wrestrict on "'" + std::string).
  static std::string quote(std::string_view text) {
    std::string s = "'";
    s += text;
    s += '\'';
    return s;
  }
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
      case Tok::kEof:
        got = "end of template";
        break;
      case Tok::kExprEnd:
        got = "end of print statement";
        break;
      case Tok::kStmtEnd:
        got = "end of statement block";
        break;
      case Tok::kText:
        got = "text";
        break;
      default:
        got = quote(cur().text);
    }
    throw Error{"expected " + std::string(wanted) + ", got " + got, cur().pos};
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) unexpected(quote(op));
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
  Body parse_body(std::initializer_list<std::string_view> ends, std::string_view* end);
  // After the block body: consumes `name %}` of the ending tag (the `{%` is already consumed).
  void end_tag();
  // `kw` is the tag's name; `tag` is where its `{%` starts (errors about the whole tag point there).
  NodePtr parse_statement(const Token& kw, Pos tag);
  void parse_params(Node* n);
  // `a, b` without brackets (set statements) is a tuple.
  ExprPtr parse_tuple_or_expr();
  ExprPtr parse_expr() { return parse_cond_expr(true); }
  ExprPtr parse_cond_expr(bool with_cond);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_filter(ExprPtr input);
  ExprPtr parse_test(ExprPtr operand);
  ExprPtr parse_call(ExprPtr callee);
  // `(a, b, k=v)` appended to e->kids / e->kwargs.
  void parse_args(Expr* e);
  ExprPtr parse_postfix(ExprPtr e);
  ExprPtr parse_subscript(ExprPtr obj);
  ExprPtr parse_primary();

  const std::vector<Token>& t_;
  size_t i_ = 0;
};

}  // namespace edgellm::jinja
