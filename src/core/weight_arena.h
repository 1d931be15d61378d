// One huge-page arena for a model's load-time weight copies (the row-interleaved tiles of kernels/repack.h).
//
// AlignedBuffer gives a buffer its own 2 MiB-aligned, THP-advised mapping only from kHugeBytes up: the 1B shape's
// K and V projections (2048x512, ~0.6 MB in Q4_0) stayed on 4 KiB pages, where decode takes a TLB miss per page
// and the hardware prefetcher stops at every 4 KiB boundary. The arena sub-allocates every matrix of a model from
// large chunks mapped like AlignedBuffer's huge buffers, one after another in load order (= decode order: layer by
// layer q, k, v, o, gate, up, down), so the weight stream of a token is contiguous across matmuls as well.
//
// Resident memory: a chunk's pages are faulted in only where blocks are written. When a block does not fit in
// the rest of a chunk, or the arena goes away, the chunk's unused tail beyond the next 2 MiB boundary is unmapped;
// what remains is the blocks + less than one huge page per chunk. Chunks are 256 MiB (3 for a 1B model in Q4_0):
// `edgellm bench` peak RSS 883.9 MiB before the arena, 894.1 with 64 MiB chunks, 885.2 with 256 MiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/aligned_buffer.h"
#include "core/status.h"

namespace edgellm {

// A byte range that shares ownership of the memory it lives in (an arena chunk, or a buffer of its own): the
// memory is released when the last SharedBytes pointing into it goes. Copies are cheap and alias the same bytes.
class SharedBytes {
 public:
  SharedBytes() = default;
  SharedBytes(std::shared_ptr<uint8_t> data, size_t size) : data_(std::move(data)), size_(size) {}
  // Takes over a buffer of its own (the allocation when no arena is given).
  static SharedBytes own(AlignedBuffer&& buffer);

  uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  std::shared_ptr<uint8_t> data_;  // aliasing pointer: owns the chunk, points at the block
  size_t size_ = 0;
};

// Not thread-safe: one loader allocates from it at a time. The blocks it handed out outlive it.
class WeightArena {
 public:
  static constexpr size_t kDefaultChunkBytes = size_t{256} << 20;
  static constexpr size_t kDefaultAlignment = 64;

  // chunk_bytes: size of each chunk (rounded up to 2 MiB; a block larger than that gets a chunk of its own size).
  // alignment: a power of two >= 64 each block starts at (64 keeps the stream contiguous; 4096 starts each
  // matrix on a page).
  explicit WeightArena(size_t chunk_bytes = kDefaultChunkBytes, size_t alignment = kDefaultAlignment);
  ~WeightArena();
  WeightArena(const WeightArena&) = delete;
  WeightArena& operator=(const WeightArena&) = delete;

  // A zeroed block of `bytes` (> 0) at `alignment`, right after the previous block when it fits in the current
  // chunk, else at the start of a new chunk. Errors (mapping or allocation failure, a size that overflows) name
  // the request; the arena stays usable.
  Result<SharedBytes> allocate(size_t bytes);

  // Chunks mapped so far, and the bytes of blocks handed out (without alignment padding).
  size_t chunks() const { return chunks_; }
  size_t allocated_bytes() const { return allocated_; }
  // True when the chunks are mapped for transparent huge pages (Linux, EDGELLM_HUGEPAGES not off).
  bool huge_pages() const;

 private:
  struct Chunk;
  void close_chunk();  // trims the current chunk's unused tail

  size_t chunk_bytes_;
  size_t alignment_;
  std::shared_ptr<Chunk> chunk_;  // the chunk new blocks come from (nullptr before the first)
  size_t offset_ = 0;             // next free byte in chunk_
  size_t chunks_ = 0;
  size_t allocated_ = 0;
};

}  // namespace edgellm
