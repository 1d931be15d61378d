// The LUT self-tune: cache round trip, corrupt and mismatched caches ignored and rewritten, the off switch, an
// unwritable directory, and that every expansion chunk the tune may pick gives the reference's results.
#include "kernels/lut_tune.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "kernels/elq.h"
#include "kernels/lut_gemm.h"
#include "kernels/type_traits.h"
#include "test_util.h"

namespace edgellm {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string dir = test::temp_dir() + "/tune-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

LutTuneOptions options_in(const std::string& dir) {
  LutTuneOptions o;
  o.cache_dir = dir;
  o.key = "test-cpu | avx512f | lut-v" + std::to_string(kLutTuneVersion);
  return o;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool probes_here() { return lut_gemm_kernel() != nullptr; }

TEST(LutTune, ProbeIsQuickAndPicksValidValues) {
  if (!probes_here()) GTEST_SKIP() << "no LUT GEMM on this CPU: the tune keeps the defaults";
  const LutTuneResult r = lut_tune_probe();
  EXPECT_EQ(r.source, LutTuneSource::kProbe);
  EXPECT_GE(r.tuning.gemm_min_tokens, 2);
  EXPECT_LE(r.tuning.gemm_min_tokens, 9);
  EXPECT_TRUE(r.tuning.gemm_chunk_subs == 8 || r.tuning.gemm_chunk_subs == 16 || r.tuning.gemm_chunk_subs == 32);
  // Target 0.3 s of CPU time; the bound leaves room for a loaded machine (CPU time still grows with cache misses).
  EXPECT_LT(r.probe_seconds, 1.0);
  EXPECT_GT(r.probe_seconds, 0.0);
}

TEST(LutTune, CacheRoundTrip) {
  if (!probes_here()) GTEST_SKIP() << "no LUT GEMM on this CPU";
  const LutTuneOptions o = options_in(fresh_dir("roundtrip"));
  const LutTuneResult first = lut_tune_run(o);
  ASSERT_EQ(first.source, LutTuneSource::kProbe);
  ASSERT_TRUE(fs::exists(lut_tune_cache_path(o.cache_dir)));
  const LutTuneResult second = lut_tune_run(o);
  EXPECT_EQ(second.source, LutTuneSource::kCache);
  EXPECT_EQ(second.tuning.gemm_min_tokens, first.tuning.gemm_min_tokens);
  EXPECT_EQ(second.tuning.gemm_chunk_subs, first.tuning.gemm_chunk_subs);
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(o.cache_dir)) ++files;
  EXPECT_EQ(files, 1);
}

TEST(LutTune, HandWrittenCacheIsUsed) {
  const LutTuneOptions o = options_in(fresh_dir("hand"));
  write(lut_tune_cache_path(o.cache_dir),
        "{\"key\": \"" + o.key + "\", \"gemm_min_tokens\": 5, \"gemm_chunk_subs\": 16}");
  const LutTuneResult r = lut_tune_run(o);
  EXPECT_EQ(r.source, LutTuneSource::kCache);
  EXPECT_EQ(r.tuning.gemm_min_tokens, 5);
  EXPECT_EQ(r.tuning.gemm_chunk_subs, 16);
}

TEST(LutTune, CorruptCacheWarnsOnceAndIsRewritten) {
  if (!probes_here()) GTEST_SKIP() << "no LUT GEMM on this CPU";
  const LutTuneOptions o = options_in(fresh_dir("corrupt"));
  const std::string path = lut_tune_cache_path(o.cache_dir);
  const std::string key = "\"key\": \"" + o.key + "\"";
  for (const std::string& bad : {std::string("{not json"), std::string(""), std::string("[1, 2]"),
                                 "{" + key + ", \"gemm_min_tokens\": \"two\", \"gemm_chunk_subs\": 32}",
                                 "{" + key + ", \"gemm_min_tokens\": 2, \"gemm_chunk_subs\": 999}",
                                 "{" + key + ", \"gemm_min_tokens\": -3, \"gemm_chunk_subs\": 8}", "{" + key + "}"}) {
    write(path, bad);
    testing::internal::CaptureStderr();
    const LutTuneResult r = lut_tune_run(o);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(r.source, LutTuneSource::kProbe) << bad;
    EXPECT_NE(err.find("corrupt LUT tune cache"), std::string::npos) << bad;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(lut_tune_run(o).source, LutTuneSource::kCache) << "not rewritten after: " << bad;
  }
}

TEST(LutTune, OtherMachineOrKernelVersionIsReprobedSilently) {
  if (!probes_here()) GTEST_SKIP() << "no LUT GEMM on this CPU";
  const LutTuneOptions o = options_in(fresh_dir("mismatch"));
  write(lut_tune_cache_path(o.cache_dir),
        "{\"key\": \"other-cpu | lut-v0\", \"gemm_min_tokens\": 7, \"gemm_chunk_subs\": 4}");
  testing::internal::CaptureStderr();
  const LutTuneResult r = lut_tune_run(o);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(r.source, LutTuneSource::kProbe);
  EXPECT_NE(test::read_file(lut_tune_cache_path(o.cache_dir)).find(o.key), std::string::npos);
}

TEST(LutTune, OffSwitchUsesDefaultsAndWritesNothing) {
  LutTuneOptions o = options_in(fresh_dir("off"));
  o.enabled = false;
  const LutTuneResult r = lut_tune_run(o);
  EXPECT_EQ(r.source, LutTuneSource::kDefaults);
  EXPECT_EQ(r.tuning.gemm_min_tokens, kLutGemmMinTokens);
  EXPECT_EQ(r.tuning.gemm_chunk_subs, kLutGemmMaxChunkSubs);
  EXPECT_FALSE(fs::exists(lut_tune_cache_path(o.cache_dir)));

  ::setenv("EDGELLM_LUT_TUNE", "off", 1);
  EXPECT_FALSE(lut_tune_options_from_env().enabled);
  ::setenv("EDGELLM_LUT_TUNE", "on", 1);
  EXPECT_TRUE(lut_tune_options_from_env().enabled);
  ::unsetenv("EDGELLM_LUT_TUNE");
  ::setenv("EDGELLM_CACHE_DIR", "/x/y", 1);
  EXPECT_EQ(lut_tune_options_from_env().cache_dir, "/x/y");
  ::unsetenv("EDGELLM_CACHE_DIR");
}

TEST(LutTune, UnwritableDirectoryIsNotAnError) {
  if (!probes_here()) GTEST_SKIP() << "no LUT GEMM on this CPU";
  // A regular file where the directory should be: neither the directory nor the cache can be created.
  const std::string blocker = fresh_dir("unwritable") + "/file";
  write(blocker, "x");
  LutTuneOptions o = options_in(blocker + "/sub");
  const LutTuneResult r = lut_tune_run(o);
  EXPECT_EQ(r.source, LutTuneSource::kProbe);
  EXPECT_EQ(lut_tune_run(o).source, LutTuneSource::kProbe);
}

// Several Linear::prepare calls may be the first users at once: all get the one value, probed once.
TEST(LutTune, ProcessWideValueIsSharedAcrossThreads) {
  std::vector<const LutTuning*> seen(4, nullptr);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&seen, i] { seen[i] = &lut_tuning(); });
  for (std::thread& t : threads) t.join();
  for (const LutTuning* t : seen) EXPECT_EQ(t, seen[0]);
  EXPECT_GE(seen[0]->gemm_min_tokens, 1);
  EXPECT_GE(seen[0]->gemm_chunk_subs, 1);
  EXPECT_LE(seen[0]->gemm_chunk_subs, kLutGemmMaxChunkSubs);
}

// The chunk only changes where the expansion pauses: every value must give the reference's sums.
TEST(LutTune, EveryChunkMatchesReference) {
  const LutGemmChunkedFn gemm = lut_gemm_chunked_kernel_unchecked();
  if (lut_gemm_kernel() == nullptr || gemm == nullptr) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const uint32_t ids[] = {elq_type_id(4, 64, false), elq_type_id(3, 128, true), elq_ternary_id(32)};
  struct Shape {
    int64_t rows, cols, tokens;
  };
  for (uint32_t id : ids) {
    const TypeTraits& t = *type_traits(id);
    for (const Shape s : {Shape{1, 1152, 1}, Shape{3, 384, 5}, Shape{17, 2176, 9}}) {
      std::vector<float> w(static_cast<size_t>(s.rows * s.cols)), x(static_cast<size_t>(s.tokens * s.cols));
      for (float& v : w) v = dist(rng);
      for (float& v : x) v = dist(rng);
      const size_t rb = row_bytes(t, s.cols);
      std::vector<uint8_t> q(rb * static_cast<size_t>(s.rows));
      t.from_float(w.data(), q.data(), s.rows * s.cols);
      Result<LutPacked> packed = lut_pack(id, s.rows, s.cols, q.data(), rb);
      ASSERT_TRUE(packed.is_ok()) << packed.status().message();
      const size_t ar = lut_gemm_act_row_bytes(s.cols);
      std::vector<uint8_t> acts(ar * static_cast<size_t>(s.tokens));
      for (int64_t k = 0; k < s.tokens; ++k)
        lut_gemm_acts_from_float(x.data() + k * s.cols, s.cols, acts.data() + k * ar);
      std::vector<float> ref(static_cast<size_t>(s.rows * s.tokens));
      lut_gemm_reference(*packed, 0, packed->tiles, acts.data(), s.tokens, ref.data(), s.rows);
      for (int chunk : {1, 3, 8, 16, 32, 0, 100}) {  // 0 and 100 are clamped to 1 and 32
        std::vector<float> y(ref.size(), -777.0f);
        gemm(*packed, 0, packed->tiles, acts.data(), s.tokens, y.data(), s.rows, chunk);
        for (size_t i = 0; i < y.size(); ++i)
          ASSERT_NEAR(y[i], ref[i], 1e-4f * (1.0f + std::fabs(ref[i])) + 2e-6f * static_cast<float>(s.cols))
              << t.name << " rows=" << s.rows << " cols=" << s.cols << " chunk=" << chunk << " at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace edgellm
