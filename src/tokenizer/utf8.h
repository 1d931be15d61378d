// UTF-8 helpers shared by the tokenizers and the streaming detokenizer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace edgellm {

// What is at the start of a byte range.
struct Utf8Scan {
  enum Kind {
    kValid,       // `len` bytes form one well-formed code point
    kInvalid,     // the first `len` bytes (>= 1) are a maximal ill-formed subpart: replace them by one U+FFFD
    kIncomplete,  // all `len` bytes are a valid prefix of a longer sequence that the range cuts short
  };
  Kind kind;
  size_t len;
};
// Classifies the code point starting at s[0] (s must be non-empty) per the Unicode "maximal subpart"
// rule: overlong forms, surrogates and values above U+10FFFF are ill-formed.
Utf8Scan utf8_scan(std::string_view s);

// Appends `s` to `out` with every ill-formed subsequence replaced by U+FFFD. If `hold_incomplete`, a
// valid-but-unfinished sequence at the very end is not emitted; its length is returned so the caller
// can keep those bytes for later. Otherwise it is replaced by U+FFFD and 0 is returned.
size_t utf8_sanitize_append(std::string_view s, bool hold_incomplete, std::string* out);

// True if `s` is entirely well-formed UTF-8.
bool utf8_is_valid(std::string_view s);

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

}  // namespace edgellm
