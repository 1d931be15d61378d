#include "tokenizer/bpe.h"

#include <algorithm>
#include <string>

#include "tokenizer/unicode.h"

namespace edgellm {
namespace {

struct Symbol {
  int32_t id;  // kNoToken for a byte the vocabulary cannot spell; such symbols never merge
  int prev;
  int next;
};

struct Candidate {
  int32_t rank;
  int left;
  int right;
  int32_t left_id;  // ids when queued: a later merge of either side makes the entry stale
  int32_t right_id;
  int32_t merged;
};

// Lowest rank on top; ties go to the leftmost pair, as in Hugging Face tokenizers and llama.cpp.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

Result<std::unique_ptr<BpeModel>> BpeModel::create(const Vocab& vocab) {
  std::unique_ptr<BpeModel> m(new BpeModel(vocab));
  for (int b = 0; b < 256; ++b) m->byte_ids_[static_cast<size_t>(b)] = vocab.find(byte_level_char(static_cast<uint8_t>(b)));
  m->merges_.reserve(vocab.merges.size());
  std::string joined;
  for (size_t i = 0; i < vocab.merges.size(); ++i) {
    const std::string& entry = vocab.merges[i];
    const size_t sp = entry.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= entry.size()) {
      return Status::error("tokenizer.ggml.merges[" + std::to_string(i) + "]: \"" + entry +
                           "\" is not two tokens separated by a space");
    }
    const std::string_view left = std::string_view(entry).substr(0, sp);
    const std::string_view right = std::string_view(entry).substr(sp + 1);
    joined.assign(left).append(right);
    const int32_t l = vocab.find(left), r = vocab.find(right), id = vocab.find(joined);
    if (l == Vocab::kNoToken || r == Vocab::kNoToken || id == Vocab::kNoToken) continue;
    m->merges_.emplace(key(l, r), Merge{static_cast<int32_t>(i), id});  // first (best) rank wins
  }
  return m;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (vocab_.ignore_merges) {
    const int32_t whole = vocab_.find(byte_level_encode(word));
    if (whole != Vocab::kNoToken) {
      out->push_back(whole);
      return;
    }
  }
  if (word.size() == 1) {
    const int32_t id = byte_ids_[static_cast<unsigned char>(word[0])];
    if (id != Vocab::kNoToken) out->push_back(id);
    else if (vocab_.unk_id != Vocab::kNoToken) out->push_back(vocab_.unk_id);
    return;
  }

  // Scratch buffers reused across words: most words are a few bytes, and allocating per word would
  // dominate the cost of short words.
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<Candidate> heap;
  symbols.clear();
  heap.clear();
  const CandidateOrder order;
  const int n = static_cast<int>(word.size());
  for (int i = 0; i < n; ++i) {
    symbols.push_back({byte_ids_[static_cast<unsigned char>(word[static_cast<size_t>(i)])], i - 1, i + 1 < n ? i + 1 : -1});
  }
  auto try_pair = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const int32_t l = symbols[static_cast<size_t>(left)].id, r = symbols[static_cast<size_t>(right)].id;
    if (l == Vocab::kNoToken || r == Vocab::kNoToken) return;
    auto it = merges_.find(key(l, r));
    if (it == merges_.end()) return;
    heap.push_back({it->second.rank, left, right, l, r, it->second.id});
    std::push_heap(heap.begin(), heap.end(), order);
  };
  for (int i = 0; i + 1 < n; ++i) try_pair(i, i + 1);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), order);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& left = symbols[static_cast<size_t>(c.left)];
    Symbol& right = symbols[static_cast<size_t>(c.right)];
    if (left.next != c.right || left.id != c.left_id || right.id != c.right_id) continue;  // stale
    left.id = c.merged;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = c.left;
    right.id = Vocab::kNoToken;
    right.prev = right.next = -1;
    try_pair(left.prev, c.left);
    try_pair(c.left, left.next);
  }

  for (int i = 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
    const int32_t id = symbols[static_cast<size_t>(i)].id;
    if (id != Vocab::kNoToken) out->push_back(id);
    else if (vocab_.unk_id != Vocab::kNoToken) out->push_back(vocab_.unk_id);
  }
}

}  // namespace edgellm
