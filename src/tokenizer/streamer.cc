#include "tokenizer/streamer.h"

#include "tokenizer/utf8.h"

namespace edgellm {

std::string TokenStreamer::push(int32_t token) {
  std::string piece = tokenizer_.token_to_piece(token, special_);
  if (piece.empty()) return "";
  if (first_ && tokenizer_.strips_leading_space() && piece[0] == ' ') piece.erase(0, 1);
  first_ = false;
  pending_ += piece;
  std::string out;
  size_t held = utf8_sanitize_append(pending_, /*hold_incomplete=*/true, &out);
  pending_.erase(0, pending_.size() - held);
  return out;
}

std::string TokenStreamer::flush() {
  std::string out;
  utf8_sanitize_append(pending_, /*hold_incomplete=*/false, &out);
  pending_.clear();
  first_ = true;
  return out;
}

}  // namespace edgellm
