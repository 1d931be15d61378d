// libFuzzer target for the tokenizer loaded from GGUF metadata: the input bytes are a GGUF file. Whatever
// Vocab::from_gguf accepts must build a Tokenizer (or be rejected with a Status) and encode and decode a fixed
// string with ids inside the vocabulary. gguf_fuzz covers the container; this covers what the tokenizer makes
// of hostile tokenizer.ggml.* arrays (token types, merges, special ids, pre-tokenizer names).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = edgellm::GgufFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf");
  if (!file.is_ok()) return 0;  // gguf_fuzz checks the container's errors
  auto vocab = edgellm::Vocab::from_gguf(*file);
  if (!vocab.is_ok()) {
    if (vocab.status().message().empty()) __builtin_trap();  // every error must say what went wrong
    return 0;
  }
  auto tok = edgellm::Tokenizer::create(std::move(vocab).value());
  if (!tok.is_ok()) {
    if (tok.status().message().empty()) __builtin_trap();
    return 0;
  }
  const auto& t = **tok;
  size_t acc = 0;
  for (bool special : {false, true}) {
    const auto ids =
        t.encode("Hello world! 123 <s></s> \xC3\xA9\xE4\xB8\x96 \xF0\x9F\x98\x80\n\tx  y", special, special);
    for (int32_t id : ids) {
      if (id < 0 || id >= t.n_vocab()) __builtin_trap();  // encode must only emit ids of the vocabulary
    }
    acc += t.decode(ids, special).size();
  }
  volatile size_t sink = acc;
  (void)sink;
  return 0;
}
