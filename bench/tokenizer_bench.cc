// Tokenizer encoding speed on English-like prose (generated deterministically), in bytes/s: byte-level
// BPE with GPT-2's vocabulary (../shared/testdata/vocab) and Llama 3's tokenizer.json (if fetched by
// scripts/fetch-test-vocabs.sh), SentencePiece with Llama 2's, WordPiece with BGE's. One core.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "format/gguf.h"
#include "tokenizer/hf_tokenizer_json.h"
#include "tokenizer/tokenizer.h"

namespace edgellm {
namespace {

// About `bytes` of sentences from a fixed word list with Zipf-like word frequencies, capitals,
// commas, numbers and paragraph breaks: close enough to prose for the pre-tokenizer and merge mix.
std::string prose(size_t bytes) {
  static const char* kWords[] = {
      "the", "of", "and", "to", "a", "in", "is", "that", "it", "was", "for", "on", "are", "with", "as", "his",
      "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "word", "but", "what", "some", "we",
      "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how", "said", "an", "each",
      "she", "which", "do", "their", "time", "if", "will", "way", "about", "many", "then", "them", "write",
      "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look", "more",
      "day", "could", "go", "come", "did", "number", "sound", "no", "most", "people", "my", "over", "know",
      "water", "than", "call", "first", "who", "may", "down", "side", "been", "now", "find", "tokenizer",
      "engine", "merges", "quantization", "mountain", "river", "yesterday", "beautiful", "understanding",
      "government", "question", "important", "children", "example", "language", "morning", "different"};
  constexpr size_t kN = sizeof(kWords) / sizeof(kWords[0]);
  std::mt19937 rng(12345);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::string s;
  s.reserve(bytes + 64);
  bool sentence_start = true;
  while (s.size() < bytes) {
    const size_t w = static_cast<size_t>(std::pow(u(rng), 2.5) * kN) % kN;  // frequent words more often
    std::string word = kWords[w];
    if (sentence_start) word[0] = static_cast<char>(word[0] - 'a' + 'A');
    if (!sentence_start) s += ' ';
    if (u(rng) < 0.02) word = std::to_string(static_cast<int>(u(rng) * 2024));
    s += word;
    sentence_start = false;
    const double r = u(rng);
    if (r < 0.06) {
      s += ',';
    } else if (r < 0.13) {
      s += u(rng) < 0.9 ? "." : "?";
      s += u(rng) < 0.15 ? "\n\n" : " ";
      sentence_start = true;
      if (s.back() == ' ') s.pop_back();
    }
  }
  return s;
}

std::filesystem::path shared_dir() {
  if (const char* e = std::getenv("EDGELLM_SHARED_DIR")) return e;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "shared";
}

std::unique_ptr<Tokenizer> load(const std::string& path) {
  if (!std::filesystem::exists(path)) return nullptr;
  Result<Vocab> v = Status::error("");
  if (is_hf_tokenizer_path(path)) {
    v = vocab_from_hf_json(path);
  } else {
    auto f = GgufFile::open(path);
    if (!f) return nullptr;
    v = Vocab::from_gguf(*f);
  }
  if (!v) return nullptr;
  auto t = Tokenizer::create(std::move(v).value());
  return t ? std::move(t).value() : nullptr;
}

void run(benchmark::State& state, const std::string& path) {
  auto tok = load(path);
  if (tok == nullptr) {
    state.SkipWithError(("vocabulary not found: " + path).c_str());
    return;
  }
  const std::string text = prose(1u << 20);
  size_t n_tokens = 0;
  for (auto _ : state) {
    auto ids = tok->encode(text, false, false);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["bytes_per_token"] = static_cast<double>(text.size()) / static_cast<double>(n_tokens);
}

void BM_EncodeGpt2(benchmark::State& state) {
  run(state, (shared_dir() / "testdata/vocab/ggml-vocab-gpt-2.gguf").string());
}
void BM_EncodeLlama3Json(benchmark::State& state) {
  const char* cache = std::getenv("EDGELLM_VOCAB_CACHE");
  const char* home = std::getenv("HOME");
  const std::string dir = cache != nullptr ? cache : std::string(home != nullptr ? home : "") + "/.cache/edgellm/vocab";
  run(state, dir + "/llama3_1/tokenizer.json");
}
void BM_EncodeLlamaSpm(benchmark::State& state) {
  run(state, (shared_dir() / "testdata/vocab/ggml-vocab-llama-spm.gguf").string());
}
void BM_EncodeBertWordPiece(benchmark::State& state) {
  run(state, (shared_dir() / "testdata/vocab/ggml-vocab-bert-bge.gguf").string());
}

BENCHMARK(BM_EncodeGpt2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeLlama3Json)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeLlamaSpm)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeBertWordPiece)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgellm
