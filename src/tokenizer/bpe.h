// Byte-level BPE (tokenizer.ggml.model "gpt2"): every byte of a pre-tokenized word starts as the
// token of its GPT-2 byte-level character, then adjacent pairs merge by the rank of the pair in
// tokenizer.ggml.merges (lowest first; among equal ranks the leftmost), until no ranked pair remains.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/vocab.h"

namespace edgellm {

// Immutable after create(); encode_word() is const and safe to call from several threads at once.
class BpeModel {
 public:
  // Builds the pair table from vocab.merges ("left right" per entry, rank = index). `vocab` must
  // outlive the model. Errors name the malformed entry; merges whose parts or result are missing from
  // the vocabulary cannot fire and are skipped, as in llama.cpp.
  static Result<std::unique_ptr<BpeModel>> create(const Vocab& vocab);

  // Appends the ids of one pre-tokenized word (raw bytes, any values). O(n log n) in the word's
  // length: each merge is one priority-queue pop and queues at most two new pairs. With
  // vocab.ignore_merges, a word that is itself a token is emitted whole (Llama 3's tokenizer.json).
  // A byte whose character the vocabulary lacks becomes the unknown token, or nothing if there is none.
  // Results for short words are cached (bounded; prose repeats its words), so repeated calls are cheap.
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  int32_t byte_token(uint8_t b) const { return byte_ids_[b]; }

 private:
  struct Merge {
    int32_t rank;
    int32_t id;  // the merged token
  };
  // Open addressing with linear probing over a power-of-two table: pair lookups are most of the
  // encoding time, and std::unordered_map's node chasing made them twice as slow.
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{};
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair of valid ids has this key
  const Merge* find_merge(int32_t left, int32_t right) const {
    const uint64_t k = key(left, right);
    for (size_t i = (k * 0x9E3779B97F4A7C15ull) >> shift_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == k) return &s.merge;
      if (s.key == kEmpty) return nullptr;
    }
  }
  explicit BpeModel(const Vocab& vocab) : vocab_(vocab) {}
  // The merge loop proper, without the cache.
  void merge_word(std::string_view word, std::vector<int32_t>* out) const;
  static uint64_t key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  const Vocab& vocab_;
  std::vector<Slot> slots_;  // at most half full, so probes end at an empty slot
  size_t mask_ = 0;
  int shift_ = 64;
  std::array<int32_t, 256> byte_ids_{};

  // Word → ids for words up to kCacheWordBytes; emptied when it reaches kCacheEntries. The mutex
  // keeps encode_word() safe to call from several threads.
  static constexpr size_t kCacheWordBytes = 32;
  static constexpr size_t kCacheEntries = 1 << 16;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache_;
};

}  // namespace edgellm
