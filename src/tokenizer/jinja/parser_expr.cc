// Expression parsing, level by level as in jinja2/parser.py: conditional < or < and < not < comparison < + -
// < ~ < * / // % < ** < unary - + < postfix (attributes, subscripts, calls), filters and tests.
#include "tokenizer/jinja/parser_impl.h"

namespace edgellm::jinja {

ExprPtr Parser::parse_cond_expr(bool with_cond) {
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

ExprPtr Parser::parse_or() {
  ExprPtr e = parse_and();
  while (is_name("or")) {
    const Pos p = next().pos;
    e = binary(Expr::Kind::kOr, "or", std::move(e), parse_and(), p);
  }
  return e;
}

ExprPtr Parser::parse_and() {
  ExprPtr e = parse_not();
  while (is_name("and")) {
    const Pos p = next().pos;
    e = binary(Expr::Kind::kAnd, "and", std::move(e), parse_not(), p);
  }
  return e;
}

ExprPtr Parser::parse_not() {
  if (is_name("not")) {
    ExprPtr e = make(Expr::Kind::kNot, next().pos);
    e->kids.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr Parser::parse_compare() {
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

ExprPtr Parser::parse_math1() {
  ExprPtr e = parse_concat();
  while (is_op("+") || is_op("-")) {
    const Token& op = next();
    e = binary(Expr::Kind::kBinary, op.text, std::move(e), parse_concat(), op.pos);
  }
  return e;
}

ExprPtr Parser::parse_concat() {
  ExprPtr e = parse_math2();
  while (is_op("~")) {
    const Token& op = next();
    e = binary(Expr::Kind::kBinary, "~", std::move(e), parse_math2(), op.pos);
  }
  return e;
}

ExprPtr Parser::parse_math2() {
  ExprPtr e = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    const Token& op = next();
    e = binary(Expr::Kind::kBinary, op.text, std::move(e), parse_pow(), op.pos);
  }
  return e;
}

ExprPtr Parser::parse_pow() {
  ExprPtr e = parse_unary(true);
  while (is_op("**")) {
    const Token& op = next();
    e = binary(Expr::Kind::kBinary, "**", std::move(e), parse_unary(true), op.pos);
  }
  return e;
}

ExprPtr Parser::parse_unary(bool with_filter) {
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

ExprPtr Parser::parse_filter(ExprPtr input) {
  ExprPtr f = make(Expr::Kind::kFilter, cur().pos);
  f->name = expect_name();
  f->kids.push_back(std::move(input));
  if (is_op("(")) parse_args(f.get());
  return f;
}

ExprPtr Parser::parse_test(ExprPtr operand) {
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

ExprPtr Parser::parse_call(ExprPtr callee) {
  ExprPtr c = make(Expr::Kind::kCall, cur().pos);
  c->kids.push_back(std::move(callee));
  parse_args(c.get());
  return c;
}

void Parser::parse_args(Expr* e) {
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

ExprPtr Parser::parse_postfix(ExprPtr e) {
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

ExprPtr Parser::parse_subscript(ExprPtr obj) {
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

ExprPtr Parser::parse_primary() {
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
    default:
      break;
  }
  unexpected("an expression");
}

}  // namespace edgellm::jinja
