// Incremental detokenization for generation: text comes out token by token, always as valid UTF-8.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace edgellm {

// Turns a stream of token ids into text. A byte-fallback token may carry a fragment of a multi-byte
// character; such bytes are held back until the character completes. Ill-formed byte sequences come out
// as U+FFFD, never as raw bytes. Like Tokenizer::decode, the dummy-prefix space before the first word is
// dropped. Not thread-safe; one streamer per generation. The tokenizer must outlive the streamer.
class TokenStreamer {
 public:
  explicit TokenStreamer(const Tokenizer& tokenizer, bool special = false)
      : tokenizer_(tokenizer), special_(special) {}

  // Text that became complete with this token (possibly "").
  std::string push(int32_t token);
  // Ends the stream: bytes of an unfinished character come out as U+FFFD. The streamer is then fresh.
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool special_;
  bool first_ = true;
  std::string pending_;  // a valid but unfinished UTF-8 prefix (at most 3 bytes)
};

}  // namespace edgellm
