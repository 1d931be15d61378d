#include "core/aligned_buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace edgellm {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

bool huge_pages_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("EDGELLM_HUGEPAGES");
    return v == nullptr || (std::string_view(v) != "off" && std::string_view(v) != "0");
  }();
  return on;
}

// Over-maps by 2 MiB, then unmaps the slack on both sides so the range starts on a huge-page boundary.
uint8_t* map_huge_pages(size_t bytes, bool advise_huge) {
#if defined(__linux__)
  void* p = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t start = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (start > base) munmap(p, start - base);
  const uintptr_t end = start + bytes, map_end = base + bytes + kHugePage;
  if (map_end > end) munmap(reinterpret_cast<void*>(end), map_end - end);
  // Advice only: a kernel without THP (or with it set to "never") keeps 4 KiB pages, which is still correct.
  if (advise_huge) madvise(reinterpret_cast<void*>(start), bytes, MADV_HUGEPAGE);
  return reinterpret_cast<uint8_t*>(start);
#else
  (void)bytes;
  (void)advise_huge;
  return nullptr;
#endif
}

void unmap_pages(uint8_t* p, size_t bytes) {
#if defined(__linux__)
  if (p != nullptr && bytes != 0) munmap(p, bytes);
#else
  (void)p;
  (void)bytes;
#endif
}

void AlignedBuffer::release() noexcept {
  if (mapped_ != 0) {
    unmap_pages(data_, mapped_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  size_ = 0;
  mapped_ = 0;
}

void AlignedBuffer::resize(size_t bytes) {
  release();
  if (bytes == 0) return;
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
#if defined(__linux__)
  if (rounded >= kHugeBytes && huge_pages_enabled()) {
    const size_t len = (rounded + 4095) / 4096 * 4096;
    if (uint8_t* p = map_huge_pages(len, true)) {
      std::memset(p, 0, len);  // touch every page now (callers time reads of fresh buffers), as huge pages
      data_ = p;
      size_ = bytes;
      mapped_ = len;
      return;
    }
    // Fall through: a failed mapping may still succeed through the allocator (different limits).
  }
#endif
  data_ = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, rounded));
  if (data_ == nullptr) throw std::bad_alloc();
  std::memset(data_, 0, rounded);
  size_ = bytes;
}

}  // namespace edgellm
