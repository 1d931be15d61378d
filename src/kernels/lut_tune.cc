// The LUT self-tune (kernels/lut_tune.h): probe, JSON cache, process-wide value.
#include "kernels/lut_tune.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/cpu_features.h"
#include "core/log.h"
#include "kernels/elq.h"
#include "kernels/lut_gemm.h"
#include "kernels/lut_gemv.h"
#include "kernels/type_traits.h"

namespace edgellm {
namespace {

constexpr int kMaxMinTokens = 64;
static_assert(LutTuning{}.gemm_min_tokens == kLutGemmMinTokens && LutTuning{}.gemm_chunk_subs == kLutGemmMaxChunkSubs,
              "the defaults are the kernels' built-in values");
constexpr int kSmallerChunks[] = {16, 8};  // candidates besides kLutGemmMaxChunkSubs
constexpr int kProbeMaxTokens = 8;  // the GEMM threshold is searched in 2..8; past 8 it wins 2-3x (lut_gemm.h)

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Least CPU time of `fn` over a few runs: other tenants of the machine only ever add time.
template <typename Fn>
double best_of(Fn&& fn) {
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const double t0 = thread_cpu_seconds();
    fn();
    best = std::min(best, thread_cpu_seconds() - t0);
  }
  return best;
}

bool valid(const LutTuning& t) {
  return t.gemm_min_tokens >= 1 && t.gemm_min_tokens <= kMaxMinTokens && t.gemm_chunk_subs >= 1 &&
         t.gemm_chunk_subs <= kLutGemmMaxChunkSubs;
}

enum class CacheRead { kHit, kMissing, kOtherKey, kCorrupt };

CacheRead read_cache(const std::string& path, const std::string& key, LutTuning& out) {
  std::ifstream in(path);
  if (!in) return CacheRead::kMissing;
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return CacheRead::kCorrupt;
  const auto k = j.find("key"), m = j.find("gemm_min_tokens"), c = j.find("gemm_chunk_subs");
  if (k == j.end() || !k->is_string() || m == j.end() || !m->is_number_integer() || c == j.end() ||
      !c->is_number_integer())
    return CacheRead::kCorrupt;
  if (k->get<std::string>() != key) return CacheRead::kOtherKey;
  LutTuning t;
  t.gemm_min_tokens = static_cast<int>(std::clamp<int64_t>(m->get<int64_t>(), -1, kMaxMinTokens + 1));
  t.gemm_chunk_subs = static_cast<int>(std::clamp<int64_t>(c->get<int64_t>(), -1, kLutGemmMaxChunkSubs + 1));
  if (!valid(t)) return CacheRead::kCorrupt;
  out = t;
  return CacheRead::kHit;
}

// Temporary file + rename, so a concurrent reader sees the old file or the new one, never half of one.
void write_cache(const std::string& dir, const std::string& key, const LutTuneResult& r) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = lut_tune_cache_path(dir);
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const nlohmann::json j = {{"key", key},
                            {"gemm_min_tokens", r.tuning.gemm_min_tokens},
                            {"gemm_chunk_subs", r.tuning.gemm_chunk_subs},
                            {"probe_seconds", r.probe_seconds}};
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return;  // unwritable: the next process probes again
    out << j.dump(2) << "\n";
    out.close();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace

std::string lut_tune_key() {
  const CpuFeatures& c = cpu_features();
  return c.model_name + " | " + c.summary() + " | lut-v" + std::to_string(kLutTuneVersion);
}

std::string lut_tune_cache_path(const std::string& cache_dir) { return cache_dir + "/lut-tune.json"; }

LutTuneOptions lut_tune_options_from_env() {
  LutTuneOptions o;
  const char* tune = std::getenv("EDGELLM_LUT_TUNE");
  o.enabled = tune == nullptr || std::string(tune) != "off";
  if (const char* d = std::getenv("EDGELLM_CACHE_DIR"); d != nullptr && *d != '\0') {
    o.cache_dir = d;
  } else if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') {
    o.cache_dir = std::string(x) + "/edgellm";
  } else if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    o.cache_dir = std::string(h) + "/.cache/edgellm";
  }
  o.key = lut_tune_key();
  return o;
}

LutTuneResult lut_tune_probe() {
  LutTuneResult out;
  const LutGemmChunkedFn gemm = lut_gemm_chunked_kernel_unchecked();
  const LutGemvFn gemv = lut_gemv_kernel();
  if (lut_gemm_kernel() == nullptr || gemm == nullptr) return out;  // no GEMM: nothing to choose
  const double start = thread_cpu_seconds();

  // 4-bit, 128 x 2048: 128 KB of codes (L2-resident like a layer's tile range per thread during a prompt).
  const uint32_t id = elq_type_id(4, 64, false);
  const TypeTraits& traits = *type_traits(id);
  constexpr int64_t kRows = 128, kCols = 2048, kTokens = 2 * kProbeMaxTokens;
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(kRows * kCols)), x(static_cast<size_t>(kTokens * kCols));
  for (float& v : w) v = dist(rng);
  for (float& v : x) v = dist(rng);
  const size_t wrow = row_bytes(traits, kCols);
  std::vector<uint8_t> q(wrow * kRows);
  traits.from_float(w.data(), q.data(), kRows * kCols);
  Result<LutPacked> packed = lut_pack(id, kRows, kCols, q.data(), wrow);
  if (!packed.is_ok()) return out;
  const LutPacked& p = *packed;

  const size_t gemm_row = lut_gemm_act_row_bytes(kCols), gemv_row = row_bytes(*type_traits(kElqActId), kCols);
  AlignedBuffer gemm_acts(gemm_row * kTokens), gemv_acts(gemv_row * kTokens);
  std::vector<float> y(static_cast<size_t>(kRows * kTokens));
  // Each path as Linear runs it on one thread, activation quantization included.
  auto run_gemm = [&](int64_t n, int chunk) {
    for (int64_t t = 0; t < n; ++t)
      lut_gemm_acts_from_float(x.data() + t * kCols, kCols, gemm_acts.data() + t * gemm_row);
    gemm(p, 0, p.tiles, gemm_acts.data(), n, y.data(), kRows, chunk);
  };
  auto run_gemv = [&](int64_t n) {
    for (int64_t t = 0; t < n; ++t) elq_act_from_float(x.data() + t * kCols, gemv_acts.data() + t * gemv_row, kCols);
    for (int64_t tile = 0; tile < p.tiles; ++tile)
      gemv(p, tile, tile + 1, gemv_acts.data(), gemv_row, n, y.data(), kRows);
  };

  // The default first; a smaller chunk must win by 3% so that noise does not flip the choice between runs.
  double best = best_of([&] { run_gemm(kTokens, kLutGemmMaxChunkSubs); }) * 0.97;
  for (int chunk : kSmallerChunks) {
    const double t = best_of([&] { run_gemm(kTokens, chunk); });
    if (t < best) {
      best = t;
      out.tuning.gemm_chunk_subs = chunk;
    }
  }
  // The smallest token count from which the GEMM wins at every count up to kProbeMaxTokens.
  int threshold = kProbeMaxTokens + 1;
  for (int n = kProbeMaxTokens; n >= 2; --n) {
    const double tg = best_of([&] { run_gemm(n, out.tuning.gemm_chunk_subs); });
    const double tv = best_of([&] { run_gemv(n); });
    if (tg >= tv) break;
    threshold = n;
  }
  out.tuning.gemm_min_tokens = threshold;
  out.source = LutTuneSource::kProbe;
  out.probe_seconds = thread_cpu_seconds() - start;
  return out;
}

LutTuneResult lut_tune_run(const LutTuneOptions& options) {
  if (!options.enabled) return {};
  const std::string path = options.cache_dir.empty() ? std::string() : lut_tune_cache_path(options.cache_dir);
  if (!path.empty()) {
    LutTuneResult cached;
    switch (read_cache(path, options.key, cached.tuning)) {
      case CacheRead::kHit:
        cached.source = LutTuneSource::kCache;
        return cached;
      case CacheRead::kCorrupt:
        EL_LOG_WARN("ignoring corrupt LUT tune cache %s (probing again and rewriting it)", path.c_str());
        break;
      case CacheRead::kMissing:
      case CacheRead::kOtherKey:
        break;
    }
  }
  LutTuneResult probed = lut_tune_probe();
  if (!path.empty() && probed.source == LutTuneSource::kProbe) write_cache(options.cache_dir, options.key, probed);
  return probed;
}

const LutTuning& lut_tuning() {
  static std::once_flag once;
  static LutTuning tuning;
  std::call_once(once, [] {
    const LutTuneResult r = lut_tune_run(lut_tune_options_from_env());
    tuning = r.tuning;
    if (r.source == LutTuneSource::kProbe)
      EL_LOG_DEBUG("LUT self-tune: GEMM from %d tokens, %d-column chunks (%.3f s CPU)", tuning.gemm_min_tokens,
                   tuning.gemm_chunk_subs * 32, r.probe_seconds);
  });
  return tuning;
}

}  // namespace edgellm
