#include "tokenizer/spm.h"

#include <queue>
#include <string>

#include "tokenizer/utf8.h"

namespace edgellm {
namespace {

// A run of the input, linked to its live neighbours; n == 0 marks a symbol merged into its left one.
struct Symbol {
  size_t start;
  size_t n;
  int prev;
  int next;
};

struct Bigram {
  float score;
  int left;
  int right;
  size_t size;  // byte length of the merged text when queued; stale entries are detected by it
};

// Highest score on top; among equal scores the leftmost pair, as SentencePiece and llama.cpp do.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

bool mergeable(TokenType t) {
  return t == TokenType::kNormal || t == TokenType::kUserDefined || t == TokenType::kUnused ||
         t == TokenType::kUndefined;
}

class SpmSession {
 public:
  SpmSession(const Vocab& vocab, std::string_view text) : vocab_(vocab), text_(text) {}

  void tokenize(std::vector<int32_t>* out) {
    if (text_.empty()) return;
    for (size_t offs = 0; offs < text_.size();) {
      // Ill-formed UTF-8 splits at its maximal subparts (not at the length the lead byte claims, as
      // llama.cpp does), so a stray lead byte cannot swallow the escaped space that follows it.
      const size_t len = utf8_scan(text_.substr(offs)).len;
      const int index = static_cast<int>(symbols_.size());
      symbols_.push_back({offs, len, index - 1, offs + len == text_.size() ? -1 : index + 1});
      offs += len;
    }
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) try_add_bigram(i - 1, i);

    while (!queue_.empty()) {
      Bigram b = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[static_cast<size_t>(b.left)];
      Symbol& right = symbols_[static_cast<size_t>(b.right)];
      if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
      left.n += right.n;
      right.n = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[static_cast<size_t>(right.next)].prev = b.left;
      try_add_bigram(left.prev, b.left);
      try_add_bigram(b.left, left.next);
    }

    for (int i = 0; i != -1; i = symbols_[static_cast<size_t>(i)].next) emit(symbols_[static_cast<size_t>(i)], out);
  }

 private:
  int32_t lookup(std::string_view piece) const {
    int32_t id = vocab_.find(piece);
    return id != Vocab::kNoToken && mergeable(vocab_.type(id)) ? id : Vocab::kNoToken;
  }

  void try_add_bigram(int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols_[static_cast<size_t>(left)];
    const Symbol& r = symbols_[static_cast<size_t>(right)];
    std::string_view piece = text_.substr(l.start, l.n + r.n);
    int32_t id = lookup(piece);
    if (id == Vocab::kNoToken) return;
    queue_.push({vocab_.score(id), left, right, piece.size()});
  }

  // A final symbol is either a piece (every merge produced one) or a single character the vocabulary
  // lacks: spelled as byte tokens, or as one unknown token when the vocabulary has no byte fallback.
  void emit(const Symbol& s, std::vector<int32_t>* out) const {
    std::string_view piece = text_.substr(s.start, s.n);
    int32_t id = lookup(piece);
    if (id != Vocab::kNoToken) {
      out->push_back(id);
      return;
    }
    bool all_bytes = true;
    for (char c : piece) all_bytes = all_bytes && vocab_.byte_to_id[static_cast<unsigned char>(c)] != Vocab::kNoToken;
    if (!all_bytes) {
      if (vocab_.unk_id != Vocab::kNoToken) out->push_back(vocab_.unk_id);
      return;
    }
    for (char c : piece) out->push_back(vocab_.byte_to_id[static_cast<unsigned char>(c)]);
  }

  const Vocab& vocab_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue_;
};

}  // namespace

void spm_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  SpmSession(vocab, text).tokenize(out);
}

std::string spm_escape_whitespace(std::string_view text) {
  std::string r;
  r.reserve(text.size() + text.size() / 4);
  for (char c : text) {
    if (c == ' ') {
      r += "\xE2\x96\x81";
    } else {
      r += c;
    }
  }
  return r;
}

}  // namespace edgellm
