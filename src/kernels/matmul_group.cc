// Linear::forward_group: the matrices that read one input (Q/K/V, FFN gate/up) as one pool job at decode.
// Per layer of a 1B model that turns 7 matmul jobs into 4, and the small K/V projections (2048×512: ~5 µs on two
// threads, of which ~1 µs is the fork/join and the threads' ramp-up) ride along with Q instead of paying it alone;
// the input is quantized and expanded once instead of once per matrix.
#include <algorithm>
#include <array>

#include "kernels/matmul.h"
#include "kernels/repack.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

constexpr size_t kMaxGroup = 8;

size_t round64(size_t n) { return (n + 63) / 64 * 64; }

}  // namespace

// How a group runs as one job at n_tokens: where each member's quantized and expanded activations go in
// scratch (members with the same quantizer, or the same expansion of the same rows, share them), and each
// member's first tile in the concatenated tile range.
struct GroupPlan {
  struct Member {
    const Linear* lin = nullptr;
    int64_t first_tile = 0;
    size_t quant_of = 0, acts_of = 0;  // members whose rows this one reads (itself, or an earlier one)
    size_t x_row = 0, act_row = 0;
    size_t quant_at = 0, acts_at = 0;  // byte offsets into scratch
  };
  std::array<Member, kMaxGroup> m;
  size_t n = 0;
  int64_t tiles = 0;
  size_t bytes = 0;
  size_t max_tile_bytes = 0;

  // False when some member does not decode over row-interleaved tiles at n_tokens, or the inputs differ.
  bool build(std::span<const Linear* const> lins, int64_t n_tokens) {
    if (lins.empty() || lins.size() > kMaxGroup || n_tokens < 1) return false;
    n = lins.size();
    const size_t t = static_cast<size_t>(n_tokens);
    for (size_t i = 0; i < n; ++i) {
      const Linear& l = *lins[i];
      if (!l.repacked_decodes(n_tokens) || l.quantize_x_ == nullptr || l.w_.cols != lins[0]->w_.cols) return false;
      Member& mi = m[i];
      mi.lin = &l;
      mi.first_tile = tiles;
      tiles += l.repacked_->tiles;
      max_tile_bytes = std::max(max_tile_bytes, l.repacked_->tile_bytes);
      mi.x_row = row_bytes(*l.act_traits_, l.w_.cols);
      mi.act_row = l.repacked_->ops->act_row_bytes(l.w_.cols);
      mi.quant_of = i;
      for (size_t j = 0; j < i; ++j) {
        if (m[j].lin->quantize_x_ == l.quantize_x_ && m[j].lin->act_traits_ == l.act_traits_) {
          mi.quant_of = j;
          break;
        }
      }
      if (mi.quant_of == i) {
        mi.quant_at = bytes;
        bytes += round64(t * mi.x_row);
      }
      mi.acts_of = i;
      for (size_t j = 0; j < i; ++j) {
        const RepackOps& oj = *m[j].lin->repacked_->ops;
        if (m[j].quant_of == mi.quant_of && oj.expand_acts == l.repacked_->ops->expand_acts &&
            m[j].act_row == mi.act_row) {
          mi.acts_of = j;
          break;
        }
      }
      if (mi.acts_of == i) {
        mi.acts_at = bytes;
        bytes += round64(t * mi.act_row);
      }
    }
    return true;
  }
};

void Linear::forward_group(std::span<const Linear* const> lins, const float* x, int64_t n_tokens,
                           std::span<float* const> ys, ThreadPool& pool, MatmulScratch& scratch) {
  if (n_tokens <= 0) return;
  GroupPlan plan;
  if (lins.size() != ys.size() || !plan.build(lins, n_tokens)) {
    for (size_t i = 0; i < std::min(lins.size(), ys.size()); ++i) lins[i]->forward(x, n_tokens, ys[i], pool, scratch);
    return;
  }
  if (scratch.quantized_x.size() < plan.bytes) scratch.quantized_x.resize(plan.bytes);
  uint8_t* base = scratch.quantized_x.data();
  const int64_t cols = lins[0]->w_.cols;
  // Tokens are few here (the decode kernel's max_tokens at most a few passes): the caller converts them alone,
  // as forward() does for one token.
  for (size_t i = 0; i < plan.n; ++i) {
    const GroupPlan::Member& mi = plan.m[i];
    if (mi.quant_of == i) {
      for (int64_t t = 0; t < n_tokens; ++t)
        mi.lin->quantize_x_(x + t * cols, base + mi.quant_at + static_cast<size_t>(t) * mi.x_row, cols);
    }
    if (mi.acts_of == i) {
      const uint8_t* xq = base + plan.m[mi.quant_of].quant_at;
      for (int64_t t = 0; t < n_tokens; ++t)
        mi.lin->repacked_->ops->expand_acts(xq + static_cast<size_t>(t) * mi.x_row, cols,
                                             base + mi.acts_at + static_cast<size_t>(t) * mi.act_row);
    }
  }
  pool.parallel_for_balanced(plan.tiles, units_per_chunk(plan.max_tile_bytes), [&](int64_t b, int64_t e, int) {
    for (size_t i = 0; i < plan.n; ++i) {
      const GroupPlan::Member& mi = plan.m[i];
      const RepackedWeight& w = *mi.lin->repacked_;
      const int64_t lo = std::max(b, mi.first_tile), hi = std::min(e, mi.first_tile + w.tiles);
      if (lo >= hi) continue;
      const uint8_t* acts = base + plan.m[mi.acts_of].acts_at;
      const int64_t max_tokens = w.ops->max_tokens;
      for (int64_t t0 = 0; t0 < n_tokens; t0 += max_tokens) {
        w.ops->gemv(w, lo - mi.first_tile, hi - mi.first_tile, acts + static_cast<size_t>(t0) * mi.act_row,
                    mi.act_row, std::min(max_tokens, n_tokens - t0), ys[i] + t0 * w.rows, w.rows);
      }
    }
  });
}

size_t Linear::group_scratch_bytes(std::span<const Linear* const> lins, int64_t n_tokens, int n_threads) {
  size_t need = 0;
  for (int64_t t = 1; t <= n_tokens; ++t) {
    GroupPlan plan;
    if (plan.build(lins, t)) need = std::max(need, plan.bytes);
  }
  for (const Linear* l : lins) need = std::max(need, l->scratch_bytes(n_tokens, n_threads));
  return need;
}

}  // namespace edgellm
