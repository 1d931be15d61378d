// libFuzzer target for the Hugging Face tokenizer.json importer: the input bytes are the JSON text. If the
// importer accepts them, the vocabulary must also build a Tokenizer (or be rejected with a Status) and encode
// a fixed string, so that whatever the importer lets through is exercised by the BPE code it feeds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto vocab = edgellm::vocab_from_hf_json_text(json, "fuzz.json");
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
        t.encode("Hello world! 123 <|im_end|> \xC3\xA9\xE4\xB8\x96 \xF0\x9F\x98\x80\n\tx", special, special);
    for (int32_t id : ids) {
      if (id < 0 || id >= t.n_vocab()) __builtin_trap();  // encode must only emit ids of the vocabulary
    }
    acc += t.decode(ids, special).size();
  }
  volatile size_t sink = acc;
  (void)sink;
  return 0;
}
