// Statement parsing: text, output tags and the block statements (if, for, set, macro, call, filter ...).
#include "tokenizer/jinja/parser.h"

#include "tokenizer/jinja/parser_impl.h"

namespace edgellm::jinja {

Body Parser::parse_body(std::initializer_list<std::string_view> ends, std::string_view* end) {
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

void Parser::end_tag() {
  ++i_;
  expect_stmt_end();
}

NodePtr Parser::parse_statement(const Token& kw, Pos tag) {
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

void Parser::parse_params(Node* n) {
  expect_op("(");
  while (!skip_op(")")) {
    if (!n->params.empty()) expect_op(",");
    if (skip_op(")")) break;
    n->params.push_back(expect_name());
    n->defaults.push_back(skip_op("=") ? parse_expr() : nullptr);
  }
}

ExprPtr Parser::parse_tuple_or_expr() {
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

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_all(); }

}  // namespace edgellm::jinja
