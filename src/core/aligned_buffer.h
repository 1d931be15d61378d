// A heap buffer aligned for SIMD loads (64 bytes). Move-only; zero-initialised.
//
// Large buffers (≥ kHugeBytes: repacked weights, the KV cache, the bandwidth probe) are mapped on their own, aligned
// to 2 MiB and advised as transparent huge pages. Decode streams the whole weight set once per token; with 4 KiB
// pages that is ~150k TLB misses and page-walks per token, and the hardware prefetchers stop at every 4 KiB page
// boundary. Measured end to end on one core (Q4_0 1B decode): 29.5 → 34.3 GB/s. Only whole 2 MiB-aligned ranges
// inside the buffer become huge pages, so the resident size does not grow. The threshold is one huge page: the 1B
// shape's 2048×2048 projections (2.4 MB in Q4_0) then get one, which read 0.84 → 0.92–0.96 of a stream read from DRAM
// in repack_bench with the mapping; smaller buffers would gain nothing (no whole 2 MiB range inside).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

namespace edgellm {

class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kHugeBytes = size_t{2} << 20;  // buffers this big get their own huge-page mapping

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes) { resize(bytes); }
  ~AlignedBuffer() { release(); }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), mapped_(std::exchange(o.mapped_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      mapped_ = std::exchange(o.mapped_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Reallocates to `bytes` (contents are not preserved; the new memory is zeroed, so every page is resident).
  // Throws std::bad_alloc.
  void resize(size_t bytes);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // True when the buffer has its own mapping advised for transparent huge pages (EDGELLM_HUGEPAGES=off disables).
  bool huge_page_mapped() const { return mapped_ != 0; }
  template <class T>
  T* as() { return reinterpret_cast<T*>(data_); }
  template <class T>
  const T* as() const { return reinterpret_cast<const T*>(data_); }

 private:
  void release() noexcept;

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // length of the own mapping (0: data_ came from aligned_alloc)
};

// The mapping behind huge buffers, for other owners of large weight memory (core/weight_arena.h).
// True unless EDGELLM_HUGEPAGES=off or 0 (read once).
bool huge_pages_enabled();
// Maps `bytes` (a multiple of 4 KiB) of zeroed, not yet resident memory at a 2 MiB-aligned address, advised for
// transparent huge pages when `advise_huge`; nullptr when the mapping fails or the platform has no mmap.
// Release with unmap_pages (any whole-page sub-range may be released on its own).
uint8_t* map_huge_pages(size_t bytes, bool advise_huge);
void unmap_pages(uint8_t* p, size_t bytes);

}  // namespace edgellm
