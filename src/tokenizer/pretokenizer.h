// Pre-tokenization for byte-level BPE: the regex splits that cut text into words before merges run.
// Each published vocabulary family names its split rules in tokenizer.ggml.pre; the regexes are the
// ones its Hugging Face tokenizer.json uses, run by PCRE2 (UTF + Unicode properties, JIT compiled).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgellm {

// The regex list for a tokenizer.ggml.pre name ("gpt-2", "llama-bpe", "qwen2", ... and "default").
// An unknown name is an error naming it and listing the known ones.
Result<std::vector<std::string>> pretokenizer_regexes(std::string_view pre);

// Immutable after create(); split() is const and safe to call from several threads at once.
class PreTokenizer {
 public:
  // Compiles `regexes` (PCRE2 syntax). Errors name the regex and the offset of the problem.
  static Result<std::unique_ptr<PreTokenizer>> create(const std::vector<std::string>& regexes);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Appends the words of `text` to `out` as views into `text`, in order and covering it exactly.
  // Each regex in turn splits every piece left by the previous one into its matches and the runs
  // between them (Hugging Face's "Isolated" split). Ill-formed UTF-8 never matches, so such bytes end
  // up in the between-runs.
  void split(std::string_view text, std::vector<std::string_view>* out) const;

 private:
  struct Regex;
  PreTokenizer() = default;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace edgellm
