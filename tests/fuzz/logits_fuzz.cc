// libFuzzer target for the log-probability file of `edgellm perplexity --save-logits` (runtime/perplexity_file.h):
// the input bytes are a file image. Whatever LogitsReader accepts must have a consistent header and read back
// every window (or fail with a message); a rejection must say what is wrong.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/perplexity_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = edgellm::LogitsReader::from_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.elp");
  if (!r.is_ok()) {
    if (r.status().message().empty()) __builtin_trap();  // every error must say what went wrong
    return 0;
  }
  const edgellm::LogitsHeader& h = (*r)->header();
  if (h.tokens.size() != static_cast<size_t>(h.plan.n_windows) * static_cast<size_t>(h.plan.n_ctx)) __builtin_trap();
  std::vector<float> rows;
  for (int w = 0; w < h.plan.n_windows; ++w) {
    const edgellm::Status s = (*r)->read_window(&rows);
    if (!s.is_ok()) {
      if (s.message().empty()) __builtin_trap();
      return 0;
    }
    if (rows.size() != static_cast<size_t>(h.plan.n_scored()) * h.n_vocab) __builtin_trap();
  }
  if ((*r)->read_window(&rows).is_ok()) __builtin_trap();  // nothing beyond the last window
  return 0;
}
