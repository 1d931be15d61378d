#include "tokenizer/wordpiece.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace edgellm {
namespace {

constexpr std::string_view kWordStart = "\xE2\x96\x81";  // U+2581
constexpr size_t kMaxWordChars = 100;                    // BERT's max_input_chars_per_word

// Greedy longest-match-first over one word; false if some position matches no piece.
bool match_word(const Vocab& vocab, const std::string& word, size_t max_len, std::vector<int32_t>* out) {
  const std::string text = std::string(kWordStart) + word;
  for (size_t i = 0; i < text.size();) {
    bool found = false;
    for (size_t j = std::min(text.size(), i + max_len); j > i; --j) {
      const int32_t id = vocab.find(std::string_view(text).substr(i, j - i));
      if (id != Vocab::kNoToken) {
        out->push_back(id);
        i = j;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0, len = 0; i < s.size(); i += len, ++n) utf8_next(s.substr(i), &len);
  return n;
}

}  // namespace

std::vector<std::string> wordpiece_pre_tokenize(std::string_view text, bool lowercase) {
  const std::string normalized = lowercase ? unicode_nfd(text) : std::string(text);
  std::vector<std::string> words(1);
  auto end_word = [&] {
    if (!words.back().empty()) words.emplace_back();
  };
  for (size_t i = 0, len = 0; i < normalized.size(); i += len) {
    const uint32_t cp = utf8_next(std::string_view(normalized).substr(i), &len);
    if (cp == 0 || cp == 0xFFFD || unicode_is_control(cp)) continue;
    if (unicode_is_whitespace(cp)) {
      end_word();
      continue;
    }
    if (lowercase && unicode_is_nonspacing_mark(cp)) continue;
    const uint32_t c = lowercase ? unicode_to_lower(cp) : cp;
    if (unicode_is_punctuation(cp) || unicode_is_cjk(cp)) {
      end_word();
      utf8_append(c, &words.back());
      words.emplace_back();
      continue;
    }
    utf8_append(c, &words.back());
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

void wordpiece_tokenize(const Vocab& vocab, std::string_view text, std::vector<int32_t>* out) {
  for (const std::string& word : wordpiece_pre_tokenize(text, vocab.lowercase)) {
    const size_t start = out->size();
    if (count_chars(word) > kMaxWordChars || !match_word(vocab, word, vocab.max_token_len, out)) {
      out->resize(start);
      if (vocab.unk_id != Vocab::kNoToken) out->push_back(vocab.unk_id);
    }
  }
}

}  // namespace edgellm
