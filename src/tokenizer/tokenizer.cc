#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/spm.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece.h"

namespace edgellm {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";    // U+2581, SentencePiece's visible space
constexpr std::string_view kUnknownGlyph = "\xE2\x96\x85";  // U+2585, how llama.cpp shows <unk>

// Texts of control tokens that end a turn in common chat formats (beyond the declared EOS/EOT/EOM ids).
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>", "<end_of_turn>", "<EOT>", "<|end_of_text|>",
};

std::string unescape_whitespace(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      r += ' ';
      i += kSpmSpace.size();
    } else {
      r += s[i++];
    }
  }
  return r;
}

// Value of a byte token text "<0xAB>", or -1.
int parse_byte_token(std::string_view t) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return -1;
  int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(Vocab vocab) {
  EL_RETURN_IF_ERROR(vocab.finalize());
  std::unique_ptr<Tokenizer> t(new Tokenizer(std::move(vocab)));
  EL_RETURN_IF_ERROR(t->init());
  if (t->vocab_.model == VocabModel::kBpe) {
    std::vector<std::string> regexes = t->vocab_.pre_regexes;
    if (regexes.empty()) {
      EL_ASSIGN_OR_RETURN(regexes, pretokenizer_regexes(t->vocab_.pre.empty() ? "default" : t->vocab_.pre));
    }
    EL_ASSIGN_OR_RETURN(t->pre_, PreTokenizer::create(regexes));
    EL_ASSIGN_OR_RETURN(t->bpe_, BpeModel::create(t->vocab_));
  }
  return t;
}

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}
Tokenizer::~Tokenizer() = default;

Status Tokenizer::init() {
  special_by_byte_.assign(256, {});
  eog_.assign(static_cast<size_t>(vocab_.size()), false);
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    const TokenType type = vocab_.type(id);
    const std::string& text = vocab_.text(id);
    const bool special = type == TokenType::kControl || type == TokenType::kUnknown;
    if ((special || type == TokenType::kUserDefined) && !text.empty()) {
      special_by_byte_[static_cast<unsigned char>(text[0])].push_back(id);
    }
    if (special || type == TokenType::kUserDefined) {
      for (std::string_view e : kEogTexts) {
        if (text == e) eog_[static_cast<size_t>(id)] = true;
      }
    }
  }
  for (int32_t id : {vocab_.eos_id, vocab_.eot_id, vocab_.eom_id}) {
    if (vocab_.valid_id(id)) eog_[static_cast<size_t>(id)] = true;
  }
  for (auto& ids : special_by_byte_) {
    std::stable_sort(ids.begin(), ids.end(),
                     [&](int32_t a, int32_t b) { return vocab_.text(a).size() > vocab_.text(b).size(); });
  }
  return Status::ok();
}

size_t Tokenizer::match_special(std::string_view text, size_t pos, bool parse_special, int32_t* id) const {
  for (int32_t cand : special_by_byte_[static_cast<unsigned char>(text[pos])]) {
    if (!parse_special && vocab_.type(cand) != TokenType::kUserDefined) continue;
    const std::string& t = vocab_.text(cand);
    if (text.compare(pos, t.size(), t) == 0) {
      *id = cand;
      return t.size();
    }
  }
  return 0;
}

void Tokenizer::encode_fragment(std::string_view text, bool space_prefix, std::vector<int32_t>* out) const {
  if (vocab_.model == VocabModel::kBpe) {
    thread_local std::vector<std::string_view> words;
    words.clear();
    std::string normalized;
    if (vocab_.normalize_nfc) {
      normalized = unicode_nfc(text);
      text = normalized;
    }
    pre_->split(text, &words);
    for (std::string_view w : words) bpe_->encode_word(w, out);
    return;
  }
  if (vocab_.model == VocabModel::kWpm) {
    wordpiece_tokenize(vocab_, text, out);
    return;
  }
  std::string normalized = space_prefix ? std::string(kSpmSpace) : std::string();
  normalized += spm_escape_whitespace(text);
  spm_tokenize(vocab_, normalized, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.valid_id(vocab_.bos_id)) out.push_back(vocab_.bos_id);
  // SentencePiece puts the dummy prefix before the first word; llama.cpp also puts it after every
  // special token, so "<s>Hello" and "Hello" tokenize the word alike.
  bool prev_special = true;
  size_t frag = 0;
  for (size_t pos = 0; pos < text.size();) {
    int32_t id = Vocab::kNoToken;
    size_t len = match_special(text, pos, parse_special, &id);
    if (len == 0) {
      ++pos;
      continue;
    }
    if (pos > frag) {
      encode_fragment(text.substr(frag, pos - frag), vocab_.add_space_prefix && prev_special, &out);
    }
    out.push_back(id);
    prev_special = true;
    pos += len;
    frag = pos;
  }
  if (frag < text.size()) encode_fragment(text.substr(frag), vocab_.add_space_prefix && prev_special, &out);
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  if (!vocab_.valid_id(id)) return "";
  const std::string& text = vocab_.text(id);
  switch (vocab_.type(id)) {
    case TokenType::kControl:
      return special ? text : "";
    case TokenType::kUnknown:
      return special ? text : std::string(kUnknownGlyph);
    case TokenType::kUserDefined:
      return text;
    case TokenType::kByte: {
      int b = parse_byte_token(text);
      return b < 0 ? text : std::string(1, static_cast<char>(b));
    }
    case TokenType::kNormal:
    case TokenType::kUnused:
    case TokenType::kUndefined:
      break;
  }
  if (vocab_.model == VocabModel::kBpe) return byte_level_decode(text);
  return unescape_whitespace(text);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool special) const {
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    std::string piece = token_to_piece(id, special);
    if (piece.empty()) continue;
    if (first && strips_leading_space() && piece[0] == ' ') piece.erase(0, 1);
    first = false;
    out += piece;
  }
  return out;
}

bool Tokenizer::is_eog(int32_t id) const { return vocab_.valid_id(id) && eog_[static_cast<size_t>(id)]; }

}  // namespace edgellm
