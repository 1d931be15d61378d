// Jinja lexer: text between tags, then the tokens inside `{{ }}` and `{% %}`; comments are dropped.
#include "tokenizer/jinja/lexer.h"

#include <algorithm>
#include <cctype>

namespace edgellm::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  Lexer(std::string_view src, const LexOptions& opts) : src_(src), opts_(opts) {
    if (!src_.empty() && src_.back() == '\n') src_.remove_suffix(1);
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    size_t i = 0;
    bool line_starting = true;
    while (i <= src_.size()) {
      size_t j = find_tag(i);
      std::string_view text = src_.substr(i, j - i);
      if (j == src_.size()) {
        emit_text(text, i);
        break;
      }
      const char kind = src_[j + 1];  // '{', '%' or '#'
      const char sign = j + 2 < src_.size() ? src_[j + 2] : '\0';
      if (sign == '-') {
        while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
      } else if (sign != '+' && kind != '{' && opts_.lstrip_blocks) {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
            std::all_of(text.begin() + static_cast<long>(l_pos), text.end(), is_space)) {
          text = text.substr(0, l_pos);
        }
      }
      emit_text(text, i);
      size_t k = j + 2 + ((sign == '-' || sign == '+') ? 1 : 0);
      bool strip_after = false;
      bool keep_newline = false;
      if (kind == '#') {
        const size_t end = src_.find("#}", k);
        if (end == std::string_view::npos) throw Error{"unterminated comment", pos(j)};
        strip_after = end > k && src_[end - 1] == '-';
        keep_newline = end > k && src_[end - 1] == '+';
        k = end + 2;
      } else {
        const bool expr = kind == '{';
        push(expr ? Tok::kExprBegin : Tok::kStmtBegin, "", j);
        k = lex_tag(k, expr, &strip_after, &keep_newline);
      }
      const size_t after_tag = k;
      if (strip_after) {
        while (k < src_.size() && is_space(src_[k])) ++k;
      } else if (kind != '{' && opts_.trim_blocks && !keep_newline) {
        if (k < src_.size() && src_[k] == '\n') {
          ++k;
        } else if (k + 1 < src_.size() && src_[k] == '\r' && src_[k + 1] == '\n') {
          k += 2;
        }
      }
      line_starting = k > after_tag ? src_[k - 1] == '\n' : false;
      i = k;
    }
    push(Tok::kEof, "", src_.size());
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t j = from; j + 1 < src_.size(); ++j) {
      if (src_[j] == '{' && (src_[j + 1] == '{' || src_[j + 1] == '%' || src_[j + 1] == '#')) return j;
    }
    return src_.size();
  }

  Pos pos(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    return Pos{static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  void push(Tok t, std::string text, size_t offset) { tokens_.push_back(Token{t, std::move(text), pos(offset)}); }

  void emit_text(std::string_view text, size_t offset) {
    if (!text.empty()) push(Tok::kText, std::string(text), offset);
  }

  // Lexes the inside of a tag from k; returns the offset after its closing delimiter.
  size_t lex_tag(size_t k, bool expr, bool* strip_after, bool* keep_newline) {
    const char close = expr ? '}' : '%';
    std::string open;  // open brackets: a `}}` inside `{'a': {'b': 1}}` does not end the tag
    const size_t start = k;
    while (true) {
      while (k < src_.size() && is_space(src_[k])) ++k;
      if (k >= src_.size())
        throw Error{expr ? "unterminated '{{' (missing '}}')" : "unterminated '{%' (missing '%}')", pos(start - 2)};
      if (open.empty()) {
        size_t m = k;
        if (src_[m] == '-' || (src_[m] == '+' && !expr)) ++m;
        if (m + 1 < src_.size() && src_[m] == close && src_[m + 1] == '}') {
          *strip_after = src_[k] == '-';
          *keep_newline = src_[k] == '+';
          push(expr ? Tok::kExprEnd : Tok::kStmtEnd, "", k);
          return m + 2;
        }
      }
      const char c = src_[k];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t e = k;
        while (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
        push(Tok::kName, std::string(src_.substr(k, e - k)), k);
        k = e;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        k = lex_number(k);
      } else if (c == '\'' || c == '"') {
        k = lex_string(k);
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                           ">",  "=",  "(",  ")",  "[",  "]",  "{", "}", ".", ",", ":", "|"};
        const char* op = nullptr;
        for (const char* o : kOps) {
          if (src_.substr(k).starts_with(o)) {
            op = o;
            break;
          }
        }
        if (op == nullptr) throw Error{std::string("unexpected character '") + c + "'", pos(k)};
        if (*op == '(' || *op == '[' || *op == '{') open.push_back(*op);
        if (*op == ')' || *op == ']' || *op == '}') {
          const char want = open.empty() ? '\0' : open.back() == '(' ? ')' : open.back() == '[' ? ']' : '}';
          if (*op != want) {
            throw Error{
                std::string("unexpected '") + *op + "'" + (want ? std::string(", expected '") + want + "'" : ""),
                pos(k)};
          }
          open.pop_back();
        }
        push(Tok::kOp, op, k);
        k += std::char_traits<char>::length(op);
      }
    }
  }

  size_t lex_number(size_t k) {
    size_t e = k;
    auto digits = [&] {
      while (e < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
    };
    digits();
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      is_float = true;
      ++e;
      digits();
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t m = e + 1;
      if (m < src_.size() && (src_[m] == '+' || src_[m] == '-')) ++m;
      if (m < src_.size() && std::isdigit(static_cast<unsigned char>(src_[m]))) {
        is_float = true;
        e = m;
        digits();
      }
    }
    std::string text;
    for (size_t i = k; i < e; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    Token t{is_float ? Tok::kFloat : Tok::kInt, text, pos(k)};
    try {
      if (is_float)
        t.d = std::stod(text);
      else
        t.i = std::stoll(text);
    } catch (const std::exception&) {
      throw Error{"number out of range: " + text, pos(k)};
    }
    tokens_.push_back(std::move(t));
    return e;
  }

  size_t lex_string(size_t k) {
    const char q = src_[k];
    std::string out;
    size_t e = k + 1;
    while (true) {
      if (e >= src_.size()) throw Error{"unterminated string", pos(k)};
      const char c = src_[e];
      if (c == q) break;
      if (c == '\\' && e + 1 < src_.size()) {
        const char n = src_[e + 1];
        e += 2;
        switch (n) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
            out += '\\';
            break;
          case '\'':
            out += '\'';
            break;
          case '"':
            out += '"';
            break;
          case '\n':
            break;  // line continuation
          default:
            out += '\\';
            out += n;
        }
        continue;
      }
      out += c;
      ++e;
    }
    push(Tok::kString, std::move(out), k);
    return e + 1;
  }

  std::string_view src_;
  LexOptions opts_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> lex(std::string_view source, const LexOptions& opts) { return Lexer(source, opts).run(); }

}  // namespace edgellm::jinja
