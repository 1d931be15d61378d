// UTF-8 sanitizing and the streaming detokenizer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/streamer.h"
#include "tokenizer/utf8.h"

namespace edgellm {
namespace {

const std::string kFffd(kUtf8Replacement);

std::string sanitize(std::string_view s) {
  std::string out;
  utf8_sanitize_append(s, false, &out);
  return out;
}

TEST(Utf8, SanitizeReplacesMaximalSubparts) {
  EXPECT_EQ(sanitize("abc"), "abc");
  EXPECT_EQ(sanitize("\xC3\xBC\xE2\x82\xAC\xF0\x9F\xA6\x99"), "\xC3\xBC\xE2\x82\xAC\xF0\x9F\xA6\x99");
  EXPECT_EQ(sanitize("a\xFFz"), "a" + kFffd + "z");
  EXPECT_EQ(sanitize("\x80\x80"), kFffd + kFffd);
  EXPECT_EQ(sanitize("\xC0\xAF"), kFffd + kFffd);            // overlong '/'
  EXPECT_EQ(sanitize("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate
  EXPECT_EQ(sanitize("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // above U+10FFFF
  EXPECT_EQ(sanitize("\xE2\x82z"), kFffd + "z");             // truncated sequence is one subpart
  EXPECT_EQ(sanitize("\xF0\x9F\xA6"), kFffd);
  EXPECT_TRUE(utf8_is_valid("\xE6\x97\xA5\xE6\x9C\xAC"));
  EXPECT_FALSE(utf8_is_valid("\xE6\x97"));
}

TEST(Utf8, HoldsIncompleteTail) {
  std::string out;
  EXPECT_EQ(utf8_sanitize_append("ok\xF0\x9F", true, &out), 2u);
  EXPECT_EQ(out, "ok");
}

// A hand-built vocabulary with byte-fallback tokens, so pieces can split characters.
std::unique_ptr<Tokenizer> byte_tokenizer() {
  Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81hi", "!"};
  v.types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl, TokenType::kNormal, TokenType::kNormal};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof(buf), "<0x%02X>", b);
    v.tokens.push_back(buf);
    v.types.push_back(TokenType::kByte);
  }
  auto t = Tokenizer::create(std::move(v));
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return std::move(t).value();
}

int32_t byte_id(unsigned char b) { return 5 + b; }

TEST(TokenStreamer, HoldsSplitMultiByteCharacters) {
  auto tok = byte_tokenizer();
  TokenStreamer s(*tok);
  EXPECT_EQ(s.push(1), "");     // BOS says nothing
  EXPECT_EQ(s.push(3), "hi");   // dummy-prefix space dropped
  EXPECT_EQ(s.push(byte_id(0xF0)), "");
  EXPECT_EQ(s.push(byte_id(0x9F)), "");
  EXPECT_EQ(s.push(byte_id(0xA6)), "");
  EXPECT_EQ(s.push(byte_id(0x99)), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(s.push(3), " hi");  // only the first word loses its space
  EXPECT_EQ(s.push(byte_id(0xC3)), "");
  EXPECT_EQ(s.push(4), kFffd + "!");  // a lead byte followed by ASCII is ill-formed
  EXPECT_EQ(s.flush(), "");
}

TEST(TokenStreamer, InvalidBytesBecomeReplacement) {
  auto tok = byte_tokenizer();
  TokenStreamer s(*tok);
  EXPECT_EQ(s.push(byte_id(0xFF)), kFffd);
  EXPECT_EQ(s.push(byte_id(0x80)), kFffd);
  EXPECT_EQ(s.push(byte_id(0xE2)), "");
  EXPECT_EQ(s.push(byte_id(0x82)), "");
  EXPECT_EQ(s.flush(), kFffd);  // the stream ended inside a character
  EXPECT_EQ(s.flush(), "");
}

TEST(TokenStreamer, MatchesDecodeForValidText) {
  auto tok = byte_tokenizer();
  std::vector<int32_t> ids = {1, 3, byte_id(0xE6), byte_id(0x97), byte_id(0xA5), 4, 3, 2};
  TokenStreamer s(*tok);
  std::string streamed;
  for (int32_t id : ids) streamed += s.push(id);
  streamed += s.flush();
  EXPECT_EQ(streamed, tok->decode(ids));
  EXPECT_EQ(streamed, "hi\xE6\x97\xA5! hi");
}

}  // namespace
}  // namespace edgellm
