// The KV cache of one sequence: F16 keys and values, [layer][n_ctx][n_head_kv * head_dim], allocated
// once when a session is created.
#pragma once

#include <cstdint>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/status.h"
#include "model/blocks.h"
#include "model/hparams.h"

namespace edgellm {

class KvCache {
 public:
  // Bytes a cache of n_ctx positions needs for these hyper-parameters (keys + values, all layers).
  static uint64_t bytes_needed(const HParams& hp, int64_t n_ctx);
  // Allocates the cache; fails with the size needed if it is larger than the machine's RAM or the
  // allocation fails.
  static Result<KvCache> create(const HParams& hp, int n_ctx);

  int n_ctx() const { return n_ctx_; }
  uint64_t bytes() const { return buf_.size(); }
  // One view per layer, pointing into this cache's buffer (valid while the cache lives; moves keep it).
  const std::vector<KvLayerView>& layers() const { return views_; }

 private:
  AlignedBuffer buf_;
  std::vector<KvLayerView> views_;
  int n_ctx_ = 0;
};

}  // namespace edgellm
