#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <utility>

namespace edgellm {
namespace {

// Hugging Face's ByteLevel default (GPT-2), also used by gpt-neox, mpt, olmo and others.
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";
// Hugging Face's Punctuation pre-tokenizer counts ASCII symbols as punctuation too.
constexpr const char* kPunct = R"([\p{P}\$\+<=>\^~\|`]+)";
constexpr const char* kCjk = R"([一-龥ࠀ-一가-퟿]+)";
// Letters whose NFC form differs (U+1F7D, U+2126, U+212A ...) are written as \x{...}: tools that
// normalize text would otherwise silently change the ranges.
constexpr const char* kDeepseekLetters =
    R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\x{1F7D}ᾀ-ᾴᾶ-ᾼ\x{1FBE}ῂ-ῄῆ-ῌῐ-\x{1FD3}ῖ-\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\x{2126}ℨ\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)";

struct Family {
  const char* names[5];
  std::vector<std::string> regexes;
};

const std::vector<Family>& families() {
  static const std::vector<Family> f = {
      {{"default"}, {kPunct, kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
      {{"gpt-2", "gpt-neox", "mpt", "olmo", "phi-2"}, {kGpt2}},
      {{"llama-bpe", "llama3", "dbrx", "smaug-bpe"}, {kLlama3}},
      {{"chatglm-bpe"}, {kLlama3}},
      {{"qwen2", "stablelm2"}, {kQwen2}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell"}, {R"(\p{N})", kGpt2}},
      {{"falcon"}, {kPunct, kGpt2, "[0-9][0-9][0-9]"}},
      {{"deepseek-llm"}, {"[\r\n]", kDeepseekLetters, R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)", R"(\s+$)", kCjk, R"(\p{N}+)"}},
      {{"deepseek-coder"}, {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjk, R"(\p{N})"}},
      {{"tekken"}, {kTekken}},
      {{"bloom", "gpt3-finnish", "poro-chat"}, {kBloom}},
  };
  return f;
}

}  // namespace

Result<std::vector<std::string>> pretokenizer_regexes(std::string_view pre) {
  std::string known;
  for (const Family& fam : families()) {
    for (const char* n : fam.names) {
      if (n == nullptr) break;
      if (pre == n) return fam.regexes;
      known += known.empty() ? "" : ", ";
      known += n;
    }
  }
  return Status::error("tokenizer.ggml.pre: unknown pre-tokenizer \"" + std::string(pre) + "\" (known: " + known + ")");
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::~PreTokenizer() = default;

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::create(const std::vector<std::string>& regexes) {
  std::unique_ptr<PreTokenizer> p(new PreTokenizer());
  for (const std::string& re : regexes) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    auto r = std::make_unique<Regex>();
    // UCP makes \s, \d and friends Unicode-aware as in the reference (Rust/Oniguruma) regex engines;
    // MATCH_INVALID_UTF lets arbitrary bytes through instead of rejecting the whole subject.
    r->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(),
                            PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_off, nullptr);
    if (r->code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return Status::error("pre-tokenizer regex \"" + re + "\": " + reinterpret_cast<const char*>(msg) +
                           " at offset " + std::to_string(err_off));
    }
    // Without JIT the interpreter still gives the same results, only slower.
    pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
    p->regexes_.push_back(std::move(r));
  }
  return p;
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>* out) const {
  if (text.empty()) return;
  std::vector<std::string_view> cur{text}, next;
  for (const auto& re : regexes_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(re->code, nullptr);
    next.clear();
    for (std::string_view piece : cur) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t last = 0, offset = 0;
      while (offset < piece.size()) {
        const int rc = pcre2_match(re->code, subject, piece.size(), offset, 0, md, nullptr);
        if (rc < 0) break;  // no further match (errors cannot occur with MATCH_INVALID_UTF)
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t s = ov[0], e = ov[1];
        if (e == s) {  // an empty match consumes nothing: retry one byte later
          offset = s + 1;
          continue;
        }
        if (s > last) next.push_back(piece.substr(last, s - last));
        next.push_back(piece.substr(s, e - s));
        last = offset = e;
      }
      if (last < piece.size()) next.push_back(piece.substr(last));
    }
    pcre2_match_data_free(md);
    std::swap(cur, next);
  }
  out->insert(out->end(), cur.begin(), cur.end());
}

}  // namespace edgellm
