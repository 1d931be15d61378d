#include "tokenizer/bpe.h"

#include <algorithm>
#include <functional>
#include <string>

#include "tokenizer/unicode.h"

namespace edgellm {
namespace {

struct Symbol {
  int32_t id;  // kNoToken for a byte the vocabulary cannot spell; such symbols never merge
  int prev;
  int next;
};

// A queued pair is one 64-bit key, (rank << 32) | left symbol index, so a min-heap of keys pops the
// lowest rank and, among equal ranks, the leftmost pair (as Hugging Face tokenizers and llama.cpp do).
// A 10 MB word queues tens of millions of them: small entries and cheap compares are the speed.
// Staleness is checked when popped: a rank names one pair, so the pair is still there iff the
// current left symbol and its successor still form a pair of that rank.
uint64_t candidate_key(int32_t rank, int left) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(rank)) << 32) | static_cast<uint32_t>(left);
}

}  // namespace

Result<std::unique_ptr<BpeModel>> BpeModel::create(const Vocab& vocab) {
  std::unique_ptr<BpeModel> m(new BpeModel(vocab));
  for (int b = 0; b < 256; ++b) m->byte_ids_[static_cast<size_t>(b)] = vocab.find(byte_level_char(static_cast<uint8_t>(b)));
  int bits = 4;
  while ((size_t{1} << bits) < 2 * vocab.merges.size() + 2) ++bits;
  m->slots_.assign(size_t{1} << bits, Slot{});
  m->mask_ = (size_t{1} << bits) - 1;
  m->shift_ = 64 - bits;
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
    const uint64_t k = key(l, r);
    for (size_t j = (k * 0x9E3779B97F4A7C15ull) >> m->shift_;; j = (j + 1) & m->mask_) {
      Slot& slot = m->slots_[j];
      if (slot.key == k) break;  // a duplicate pair: the first (best) rank wins
      if (slot.key == kEmpty) {
        slot = {k, Merge{static_cast<int32_t>(i), id}};
        break;
      }
    }
  }
  return m;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.empty()) return;
  if (word.size() > kCacheWordBytes) {
    merge_word(word, out);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(word);
    if (it != cache_.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out->size();
  merge_word(word, out);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheEntries) cache_.clear();
  cache_.emplace(std::string(word), std::vector<int32_t>(out->begin() + static_cast<std::ptrdiff_t>(start), out->end()));
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>* out) const {
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
  thread_local std::vector<uint64_t> heap;
  symbols.clear();
  heap.clear();
  const std::greater<uint64_t> order;  // min-heap
  const int n = static_cast<int>(word.size());
  for (int i = 0; i < n; ++i) {
    symbols.push_back({byte_ids_[static_cast<unsigned char>(word[static_cast<size_t>(i)])], i - 1, i + 1 < n ? i + 1 : -1});
  }
  // The merge of the pair starting at `left`, or nullptr.
  auto pair_at = [&](int left) -> const Merge* {
    if (left < 0) return nullptr;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    if (l.id == Vocab::kNoToken || l.next < 0) return nullptr;
    const int32_t r = symbols[static_cast<size_t>(l.next)].id;
    if (r == Vocab::kNoToken) return nullptr;
    return this->find_merge(l.id, r);
  };
  for (int i = 0; i + 1 < n; ++i) {
    if (const Merge* m = pair_at(i)) heap.push_back(candidate_key(m->rank, i));
  }
  std::make_heap(heap.begin(), heap.end(), order);  // O(n), where n pushes would be O(n log n)
  auto push = [&](int left) {
    if (const Merge* m = pair_at(left)) {
      heap.push_back(candidate_key(m->rank, left));
      std::push_heap(heap.begin(), heap.end(), order);
    }
  };

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), order);
    const uint64_t top = heap.back();
    heap.pop_back();
    const int li = static_cast<int>(static_cast<uint32_t>(top));
    const Merge* m = pair_at(li);
    if (m == nullptr || static_cast<uint64_t>(static_cast<uint32_t>(m->rank)) != top >> 32) continue;  // stale
    Symbol& left = symbols[static_cast<size_t>(li)];
    Symbol& right = symbols[static_cast<size_t>(left.next)];
    left.id = m->id;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = li;
    right.id = Vocab::kNoToken;
    right.prev = right.next = -1;
    push(left.prev);
    push(li);
  }

  for (int i = 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
    const int32_t id = symbols[static_cast<size_t>(i)].id;
    if (id != Vocab::kNoToken) out->push_back(id);
    else if (vocab_.unk_id != Vocab::kNoToken) out->push_back(vocab_.unk_id);
  }
}

}  // namespace edgellm
