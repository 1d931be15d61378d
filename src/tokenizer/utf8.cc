#include "tokenizer/utf8.h"

namespace edgellm {

Utf8Scan utf8_scan(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {Utf8Scan::kValid, 1};
  size_t need = 0;
  // The allowed range of the second byte excludes overlongs, surrogates and code points above U+10FFFF
  // (Unicode Table 3-7); later bytes are plain continuation bytes.
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {Utf8Scan::kInvalid, 1};
  }
  for (size_t i = 1; i < need; ++i) {
    if (i >= s.size()) return {Utf8Scan::kIncomplete, i};
    const auto b = static_cast<unsigned char>(s[i]);
    const unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (b < l || b > h) return {Utf8Scan::kInvalid, i};
  }
  return {Utf8Scan::kValid, need};
}

size_t utf8_sanitize_append(std::string_view s, bool hold_incomplete, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    Utf8Scan r = utf8_scan(s.substr(i));
    switch (r.kind) {
      case Utf8Scan::kValid:
        out->append(s.substr(i, r.len));
        break;
      case Utf8Scan::kInvalid:
        out->append(kUtf8Replacement);
        break;
      case Utf8Scan::kIncomplete:
        if (hold_incomplete) return r.len;
        out->append(kUtf8Replacement);
        break;
    }
    i += r.len;
  }
  return 0;
}

bool utf8_is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    Utf8Scan r = utf8_scan(s.substr(i));
    if (r.kind != Utf8Scan::kValid) return false;
    i += r.len;
  }
  return true;
}

}  // namespace edgellm
