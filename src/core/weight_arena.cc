#include "core/weight_arena.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <string>

namespace edgellm {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

}  // namespace

SharedBytes SharedBytes::own(AlignedBuffer&& buffer) {
  const size_t size = buffer.size();
  auto owner = std::make_shared<AlignedBuffer>(std::move(buffer));
  uint8_t* data = owner->data();
  return SharedBytes(std::shared_ptr<uint8_t>(std::move(owner), data), size);
}

// One chunk: its own mapping (trimmed from the end as the arena moves on), or, where mapping fails or there is
// no mmap, an aligned_alloc block.
struct WeightArena::Chunk {
  uint8_t* base = nullptr;
  size_t bytes = 0;   // usable length
  size_t mapped = 0;  // length of the own mapping still held (0: base came from aligned_alloc)
  Chunk() = default;
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
  ~Chunk() {
    if (mapped != 0) {
      unmap_pages(base, mapped);
    } else {
      std::free(base);
    }
  }
};

WeightArena::WeightArena(size_t chunk_bytes, size_t alignment)
    : chunk_bytes_(round_up(chunk_bytes == 0 ? kDefaultChunkBytes : chunk_bytes, kHugePage)),
      alignment_(alignment < 64 || (alignment & (alignment - 1)) != 0 ? 64 : alignment) {}

WeightArena::~WeightArena() { close_chunk(); }

bool WeightArena::huge_pages() const {
#if defined(__linux__)
  return huge_pages_enabled();
#else
  return false;
#endif
}

void WeightArena::close_chunk() {
  if (chunk_ == nullptr) return;
  // Keep whole huge pages up to the last block; the untouched tail past them goes back (never resident, but it
  // would hold address space and could be collapsed into huge pages by khugepaged).
  Chunk& c = *chunk_;
  if (c.mapped != 0) {
    const size_t keep = std::max(round_up(offset_, kHugePage), kHugePage);
    if (keep < c.mapped) {
      unmap_pages(c.base + keep, c.mapped - keep);
      c.mapped = keep;
      c.bytes = std::min(c.bytes, keep);
    }
  }
  chunk_.reset();
  offset_ = 0;
}

Result<SharedBytes> WeightArena::allocate(size_t bytes) {
  if (bytes == 0) return Status::error("weight arena: cannot allocate an empty block");
  if (bytes > std::numeric_limits<size_t>::max() / 2)
    return Status::error("weight arena: a block of " + std::to_string(bytes) + " bytes is too large");
  size_t at = chunk_ != nullptr ? round_up(offset_, alignment_) : 0;
  if (chunk_ == nullptr || at + bytes > chunk_->bytes) {
    const size_t want = std::max(chunk_bytes_, round_up(bytes, kHugePage));
    std::shared_ptr<Chunk> c;
    try {
      c = std::make_shared<Chunk>();
    } catch (const std::bad_alloc&) {
      return Status::error("weight arena: out of memory for a chunk's bookkeeping");
    }
    c->base = map_huge_pages(want, huge_pages());
    if (c->base != nullptr) {
      c->mapped = want;
    } else {
      // Fresh mappings are zero; an allocator block is zeroed per block below.
      c->base = static_cast<uint8_t*>(std::aligned_alloc(kHugePage, want));
      if (c->base == nullptr)
        return Status::error("weight arena: cannot map a chunk of " + std::to_string(want) + " bytes for a " +
                             std::to_string(bytes) + "-byte weight");
    }
    c->bytes = want;
    close_chunk();
    chunk_ = std::move(c);
    ++chunks_;
    at = 0;
  }
  uint8_t* p = chunk_->base + at;
  if (chunk_->mapped == 0) std::memset(p, 0, bytes);
  offset_ = at + bytes;
  allocated_ += bytes;
  return SharedBytes(std::shared_ptr<uint8_t>(chunk_, p), bytes);
}

}  // namespace edgellm
