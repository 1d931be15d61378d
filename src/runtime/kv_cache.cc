#include "runtime/kv_cache.h"

#include <cstdio>
#include <new>
#include <string>

#include "core/memory_stats.h"

namespace edgellm {
namespace {

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

}  // namespace

uint64_t KvCache::bytes_needed(const HParams& hp, int64_t n_ctx) {
  // 2 (K and V) × layers × positions × kv_dim × 2 bytes (F16).
  return 4ull * static_cast<uint64_t>(hp.n_layer) * static_cast<uint64_t>(n_ctx) * static_cast<uint64_t>(hp.kv_dim());
}

Result<KvCache> KvCache::create(const HParams& hp, int n_ctx) {
  const uint64_t need = bytes_needed(hp, n_ctx);
  const uint64_t ram = total_ram_bytes();
  if (ram != 0 && need > ram) {
    return Status::error("the KV cache for a context of " + std::to_string(n_ctx) + " tokens needs " + gib(need) +
                         " but this machine has " + gib(ram) + " of RAM; use a smaller context size");
  }
  KvCache c;
  c.n_ctx_ = n_ctx;
  try {
    c.buf_.resize(need);
  } catch (const std::bad_alloc&) {
    return Status::error("could not allocate " + gib(need) + " for the KV cache of a context of " +
                         std::to_string(n_ctx) + " tokens; use a smaller context size");
  }
  const uint64_t per_tensor = static_cast<uint64_t>(n_ctx) * static_cast<uint64_t>(hp.kv_dim());
  uint16_t* base = c.buf_.as<uint16_t>();
  for (int l = 0; l < hp.n_layer; ++l) {
    KvLayerView v;
    v.k = base + (2ull * l) * per_tensor;
    v.v = base + (2ull * l + 1) * per_tensor;
    c.views_.push_back(v);
  }
  return c;
}

}  // namespace edgellm
