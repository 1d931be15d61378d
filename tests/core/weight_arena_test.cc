#include "core/weight_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace edgellm {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

uintptr_t addr(const SharedBytes& b) { return reinterpret_cast<uintptr_t>(b.data()); }

bool all_zero(const SharedBytes& b) {
  for (size_t i = 0; i < b.size(); ++i)
    if (b.data()[i] != 0) return false;
  return true;
}

#if defined(__linux__)
// True while [p, p + 4 KiB) is mapped in this process (mincore fails with ENOMEM on an unmapped range).
bool page_mapped(uintptr_t p) {
  unsigned char vec = 0;
  return mincore(reinterpret_cast<void*>(p & ~uintptr_t{4095}), 4096, &vec) == 0;
}
#endif

TEST(WeightArena, BlocksFollowEachOtherAlignedZeroedInOneChunk) {
  WeightArena arena(8 * kMiB);
  std::vector<SharedBytes> blocks;
  for (size_t bytes : {size_t{1000}, size_t{64}, size_t{12345}, size_t{3}, size_t{640 * 1024}}) {
    Result<SharedBytes> b = arena.allocate(bytes);
    ASSERT_TRUE(b.is_ok()) << b.status().message();
    EXPECT_EQ(b->size(), bytes);
    EXPECT_EQ(addr(*b) % 64, 0u);
    EXPECT_TRUE(all_zero(*b));
    if (!blocks.empty()) {  // right after the previous block, padded to 64 bytes
      const SharedBytes& prev = blocks.back();
      EXPECT_EQ(addr(*b), (addr(prev) + prev.size() + 63) / 64 * 64);
    }
    b->data()[0] = 1;
    b->data()[bytes - 1] = 2;
    blocks.push_back(std::move(b).value());
  }
  EXPECT_EQ(arena.chunks(), 1u);
  EXPECT_EQ(arena.allocated_bytes(), 1000u + 64 + 12345 + 3 + 640 * 1024);
#if defined(__linux__)
  if (arena.huge_pages()) {
    EXPECT_EQ(addr(blocks.front()) % (2 * kMiB), 0u);  // a chunk starts on a huge page
  }
#endif
}

TEST(WeightArena, PageAlignmentStartsEveryBlockOnAPage) {
  WeightArena arena(4 * kMiB, 4096);
  Result<SharedBytes> a = arena.allocate(100);
  Result<SharedBytes> b = arena.allocate(5000);
  Result<SharedBytes> c = arena.allocate(1);
  ASSERT_TRUE(a.is_ok() && b.is_ok() && c.is_ok());
  EXPECT_EQ(addr(*a) % 4096, 0u);
  EXPECT_EQ(addr(*b), addr(*a) + 4096);
  EXPECT_EQ(addr(*c), addr(*b) + 8192);
}

TEST(WeightArena, ABlockThatDoesNotFitStartsANewChunk) {
  WeightArena arena(2 * kMiB);
  Result<SharedBytes> a = arena.allocate(1536 * 1024);
  Result<SharedBytes> b = arena.allocate(kMiB);        // 1.5 + 1 MiB > 2 MiB
  Result<SharedBytes> c = arena.allocate(256 * 1024);  // fits after b
  ASSERT_TRUE(a.is_ok() && b.is_ok() && c.is_ok());
  EXPECT_EQ(arena.chunks(), 2u);
  EXPECT_EQ(addr(*c), addr(*b) + kMiB);
  const bool overlap = addr(*b) < addr(*a) + a->size() && addr(*a) < addr(*b) + b->size();
  EXPECT_FALSE(overlap);
  a->data()[a->size() - 1] = 5;
  b->data()[0] = 6;
  EXPECT_EQ(a->data()[a->size() - 1], 5);
}

TEST(WeightArena, ABlockLargerThanAChunkGetsAChunkOfItsOwn) {
  WeightArena arena(2 * kMiB);
  Result<SharedBytes> small = arena.allocate(4096);
  const size_t big_bytes = 5 * kMiB + 77;
  Result<SharedBytes> big = arena.allocate(big_bytes);
  ASSERT_TRUE(small.is_ok() && big.is_ok());
  EXPECT_EQ(arena.chunks(), 2u);
  EXPECT_EQ(big->size(), big_bytes);
  EXPECT_TRUE(all_zero(*big));
  big->data()[big_bytes - 1] = 9;  // the whole block is writable
  EXPECT_EQ(big->data()[big_bytes - 1], 9);
  Result<SharedBytes> next = arena.allocate(1000);  // the big chunk has no room left past 6 MiB
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next->data()[0], 0);
}

TEST(WeightArena, BlocksOutliveTheArenaAndTheChunkGoesWithTheLastOne) {
  SharedBytes a, b;
  {
    WeightArena arena(64 * kMiB);
    a = std::move(arena.allocate(100 * 1024)).value();
    b = std::move(arena.allocate(200 * 1024)).value();
  }
  a.data()[0] = 1;  // still mapped after the arena went
  b.data()[b.size() - 1] = 2;
  SharedBytes copy = b;  // copies alias
  EXPECT_EQ(copy.data(), b.data());
#if defined(__linux__)
  const uintptr_t start = addr(a);
  if (WeightArena().huge_pages()) {
    // Closing the chunk unmapped its untouched tail past the first huge page.
    EXPECT_TRUE(page_mapped(start + 2 * kMiB - 4096));
    EXPECT_FALSE(page_mapped(start + 2 * kMiB));
    EXPECT_FALSE(page_mapped(start + 60 * kMiB));
  }
  a = SharedBytes();
  b = SharedBytes();
  EXPECT_TRUE(page_mapped(start));  // `copy` still holds the chunk
  copy = SharedBytes();
  if (WeightArena().huge_pages()) {
    EXPECT_FALSE(page_mapped(start));
  }
#endif
}

TEST(WeightArena, BadRequestsAreErrorsAndTheArenaStaysUsable) {
  WeightArena arena(2 * kMiB);
  Result<SharedBytes> empty = arena.allocate(0);
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
  Result<SharedBytes> huge = arena.allocate(std::numeric_limits<size_t>::max() - 100);
  ASSERT_FALSE(huge.is_ok());
  EXPECT_NE(huge.status().message().find("weight arena"), std::string::npos);
  Result<SharedBytes> ok = arena.allocate(128);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(arena.allocated_bytes(), 128u);
}

TEST(SharedBytes, OwnTakesOverABufferAndKeepsItAlive) {
  AlignedBuffer buf(3 * kMiB);
  uint8_t* p = buf.data();
  SharedBytes s = SharedBytes::own(std::move(buf));
  EXPECT_EQ(s.data(), p);
  EXPECT_EQ(s.size(), 3 * kMiB);
  SharedBytes t = s;
  s = SharedBytes();
  t.data()[t.size() - 1] = 4;
  EXPECT_EQ(t.data()[t.size() - 1], 4);
}

}  // namespace
}  // namespace edgellm
