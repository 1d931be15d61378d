// Shared by the tokenizer tests: llama.cpp's published vocabulary test vectors (.inp/.out pairs).
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace edgellm::test {

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};

// .inp: cases separated by "\n__ggml_vocab_test__\n" (the file ends with one). .out: one line of
// space-separated ids per case.
inline std::vector<VocabCase> load_vocab_cases(const std::string& inp, const std::string& out) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  const std::string text = read_file_bytes(inp);
  std::vector<VocabCase> cases;
  size_t prev = 0;
  for (size_t pos; (pos = text.find(sep, prev)) != std::string::npos; prev = pos + sep.size()) {
    cases.push_back({text.substr(prev, pos - prev), {}});
  }
  std::istringstream lines(read_file_bytes(out));
  std::string line;
  for (size_t i = 0; i < cases.size() && std::getline(lines, line); ++i) {
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) cases[i].ids.push_back(id);
  }
  return cases;
}

// The tokenizer of a vocabulary GGUF; nullptr (with a test failure) if it does not load.
inline std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& path) {
  auto file = GgufFile::open(path);
  EXPECT_TRUE(file.is_ok()) << file.status().message();
  if (!file) return nullptr;
  auto vocab = Vocab::from_gguf(*file);
  EXPECT_TRUE(vocab.is_ok()) << vocab.status().message();
  if (!vocab) return nullptr;
  auto tok = Tokenizer::create(std::move(vocab).value());
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  return tok ? std::move(tok).value() : nullptr;
}

}  // namespace edgellm::test
