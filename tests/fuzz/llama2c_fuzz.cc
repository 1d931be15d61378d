// libFuzzer target for the llama2.c import: the first input byte is the length of the checkpoint part, the
// next that many bytes are the checkpoint (model.bin), the rest is tokenizer.bin. Both parsers run on every
// input; when both accept, the whole conversion runs through temporary files and the resulting GGUF is read
// back into a vocabulary and a tokenizer, so everything the parsers let through reaches the code it feeds.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "format/gguf.h"
#include "format/llama2c.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace {

void trap_if_silent(const edgellm::Status& st) {
  if (!st.is_ok() && st.message().empty()) __builtin_trap();  // every error must say what went wrong
}

void write_file(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// Converts the two parts through files in a per-process scratch directory and loads the result.
void convert_and_load(const uint8_t* model, size_t model_size, const uint8_t* tok, size_t tok_size) {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("edgellm_llama2c_fuzz_" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  write_file(dir / "model.bin", model, model_size);
  write_file(dir / "tokenizer.bin", tok, tok_size);
  const std::string out = (dir / "out.gguf").string();
  const edgellm::Status st =
      edgellm::convert_llama2c((dir / "model.bin").string(), (dir / "tokenizer.bin").string(), out);
  // Both parsers accepted these exact bytes, so the conversion itself has no reason to fail.
  if (!st.is_ok()) __builtin_trap();
  auto file = edgellm::GgufFile::open(out);
  if (!file.is_ok()) __builtin_trap();  // our own writer's output must read back
  auto vocab = edgellm::Vocab::from_gguf(*file);
  trap_if_silent(vocab.status());
  if (!vocab.is_ok()) return;
  auto t = edgellm::Tokenizer::create(std::move(vocab).value());
  trap_if_silent(t.status());
  if (!t.is_ok()) return;
  const auto ids = (*t)->encode("Once upon a time, 42 \xC3\xA9!", true, true);
  volatile size_t sink = (*t)->decode(ids).size();
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t model_size = data[0] < size - 1 ? data[0] : size - 1;
  const uint8_t* model = data + 1;
  const uint8_t* tok = model + model_size;
  const size_t tok_size = size - 1 - model_size;

  auto config = edgellm::parse_llama2c_header(model, model_size, "model.bin");
  trap_if_silent(config.status());
  // Without a valid header the tokenizer is still parsed, for the smallest vocabulary the importer admits.
  const int32_t vocab_size = config.is_ok() ? config->vocab_size : 3;
  auto vocab = edgellm::parse_llama2c_tokenizer(tok, tok_size, vocab_size, "tokenizer.bin");
  trap_if_silent(vocab.status());
  if (vocab.is_ok() && (vocab->tokens.size() != static_cast<size_t>(vocab_size) ||
                        vocab->scores.size() != vocab->tokens.size() || vocab->types.size() != vocab->tokens.size())) {
    __builtin_trap();
  }
  if (config.is_ok() && vocab.is_ok()) convert_and_load(model, model_size, tok, tok_size);
  return 0;
}
