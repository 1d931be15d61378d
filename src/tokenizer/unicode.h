// Unicode helpers for the BPE and WordPiece tokenizers: GPT-2's byte ↔ code point mapping and code
// point classification. Character data (categories, case, decomposition) comes from utf8proc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace edgellm {

// UTF-8 text of the printable code point byte-level BPE (GPT-2) spells byte `b` with: printable
// Latin-1 bytes stand for themselves, the other 68 map to U+0100.. in byte order.
std::string_view byte_level_char(uint8_t b);

// Maps every byte of `bytes` to its byte-level spelling (so the result is valid UTF-8).
std::string byte_level_encode(std::string_view bytes);

// Inverse of byte_level_encode: code points of the mapping become their bytes; any other code point
// (e.g. in user-defined tokens) is copied through as its UTF-8.
std::string byte_level_decode(std::string_view text);

// The code point at the start of `s` (non-empty) and its length in *len. Ill-formed UTF-8 gives
// U+FFFD with *len the maximal ill-formed subpart (>= 1), so scanning always advances.
uint32_t utf8_next(std::string_view s, size_t* len);

// Appends the UTF-8 of `cp` (a valid scalar value) to `out`.
void utf8_append(uint32_t cp, std::string* out);

// Classification as BERT's basic tokenizer defines it.
bool unicode_is_whitespace(uint32_t cp);   // space, \t \n \r, or category Zs
bool unicode_is_control(uint32_t cp);      // categories Cc/Cf other than \t \n \r
bool unicode_is_punctuation(uint32_t cp);  // any ASCII non-alphanumeric printable, or category P*
bool unicode_is_cjk(uint32_t cp);          // CJK Unified Ideographs blocks (BERT's _is_chinese_char)
bool unicode_is_nonspacing_mark(uint32_t cp);  // category Mn (what BERT's accent stripping removes)
uint32_t unicode_to_lower(uint32_t cp);

// Canonical decomposition (NFD) of UTF-8 `text`; ill-formed input is returned unchanged.
std::string unicode_nfd(std::string_view text);
// Canonical composition (NFC) likewise.
std::string unicode_nfc(std::string_view text);

}  // namespace edgellm
