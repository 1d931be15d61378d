#include "core/aligned_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

namespace edgellm {
namespace {

bool all_zero(const AlignedBuffer& b) {
  for (size_t i = 0; i < b.size(); ++i)
    if (b.data()[i] != 0) return false;
  return true;
}

TEST(AlignedBuffer, SmallBuffersAreAlignedZeroedAndFromTheAllocator) {
  AlignedBuffer b(100);
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % AlignedBuffer::kAlignment, 0u);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_FALSE(b.huge_page_mapped());
  EXPECT_TRUE(all_zero(b));
}

TEST(AlignedBuffer, LargeBuffersGetTheirOwnHugePageAlignedMapping) {
  const size_t n = AlignedBuffer::kHugeBytes + 12345;  // not a multiple of any page size
  AlignedBuffer b(n);
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), n);
  EXPECT_TRUE(all_zero(b));
#if defined(__linux__)
  if (b.huge_page_mapped()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % (2u << 20), 0u);
  }
#endif
  b.data()[n - 1] = 7;  // the last byte is writable
  b.data()[0] = 9;
  EXPECT_EQ(b.data()[n - 1], 7);
}

TEST(AlignedBuffer, ResizeMoveAndReleaseAcrossBothKinds) {
  AlignedBuffer a(AlignedBuffer::kHugeBytes);
  a.data()[5] = 1;
  AlignedBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.data()[5], 1);
  b.resize(64);  // large → small: the mapping is released
  EXPECT_FALSE(b.huge_page_mapped());
  EXPECT_TRUE(all_zero(b));
  b.resize(AlignedBuffer::kHugeBytes * 2);  // small → large
  EXPECT_TRUE(all_zero(b));
  AlignedBuffer c(10);
  c = std::move(b);
  EXPECT_EQ(c.size(), AlignedBuffer::kHugeBytes * 2);
  c.resize(0);
  EXPECT_EQ(c.data(), nullptr);
}

}  // namespace
}  // namespace edgellm
