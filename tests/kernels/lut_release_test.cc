// After Linear::prepare repacks an elq matrix for the table-lookup kernel, the source pages of the mmapped file
// are released (lut_release_source), so the weights are resident once (packed), not twice.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/mmap.h"
#include "kernels/elq.h"
#include "kernels/lut_gemv.h"
#include "kernels/matmul.h"
#include "test_util.h"

namespace edgellm {
namespace {

// Resident kB of the mapping that contains `addr`, from /proc/self/smaps; -1 if not found.
long resident_kb(const void* addr) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_mapping = false;
  const auto a = reinterpret_cast<uintptr_t>(addr);
  while (std::getline(smaps, line)) {
    unsigned long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &begin, &end) == 2) {
      in_mapping = begin <= a && a < end;
      continue;
    }
    long kb = 0;
    if (in_mapping && std::sscanf(line.c_str(), "Rss: %ld kB", &kb) == 1) return kb;
  }
  return -1;
}

TEST(LutRelease, MappedSourcePagesLeaveAfterPrepare) {
  const uint32_t id = elq_type_id(4, 64, false);
  const ElqFormat& f = *elq_format(id);
  const int64_t rows = 256, cols = 4096;
  const size_t row_bytes = static_cast<size_t>(cols / f.group) * f.block_bytes;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = dist(rng);
  std::vector<uint8_t> q(row_bytes * static_cast<size_t>(rows));
  elq_quantize(f, w.data(), q.data(), rows * cols);
  const std::string path = test::temp_dir() + "/lut_release.bin";
  {
    // Synced, so the page cache holds clean pages like a model file's: reclaim skips dirty file pages.
    FILE* out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(std::fwrite(q.data(), 1, q.size(), out), q.size());
    ASSERT_EQ(std::fflush(out), 0);
    ASSERT_EQ(fsync(fileno(out)), 0);
    std::fclose(out);
  }
  Result<MappedFile> file = MappedFile::open(path);
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  // Touch every page, as a first forward pass would.
  unsigned sum = 0;
  for (size_t i = 0; i < file->size(); i += 512) sum += file->data()[i];
  const long source_kb = static_cast<long>(q.size() / 1024);
  const long before = resident_kb(file->data());
  ASSERT_GE(before, source_kb * 9 / 10) << "touched mapping should be resident (sum " << sum << ")";

  Result<Linear> lin = Linear::prepare(WeightView{static_cast<GgmlType>(id), rows, cols, file->data(), 0});
  ASSERT_TRUE(lin.is_ok()) << lin.status().message();
  const long after = resident_kb(file->data());
  EXPECT_LT(after, source_kb / 10) << "source pages still resident after prepare: " << after << " of " << before
                                   << " kB";

  // The released pages read back unchanged, and the kernel still computes from its packed copy.
  ASSERT_EQ(std::memcmp(file->data(), q.data(), q.size()), 0);
  const std::vector<float> x(static_cast<size_t>(cols), 0.5f);
  std::vector<float> y(static_cast<size_t>(rows));
  ThreadPool pool(1);
  MatmulScratch scratch;
  lin->forward(x.data(), 1, y.data(), pool, scratch);
  std::vector<BlockElqAct> act(static_cast<size_t>(cols / kElqActBlock));
  elq_act_from_float(x.data(), act.data(), cols);
  for (int64_t r = 0; r < rows; r += 97) {
    const float ref = elq_vec_dot_lut(f, cols, q.data() + static_cast<size_t>(r) * row_bytes, act.data());
    ASSERT_NEAR(y[static_cast<size_t>(r)], ref, 2e-4f * (1.0f + std::fabs(ref))) << "row " << r;
  }
  std::remove(path.c_str());
}

TEST(LutRelease, RangesWithoutWholePagesAreLeftAlone) {
  std::vector<uint8_t> small(100, 7);
  EXPECT_EQ(lut_release_source(small.data(), small.size()), 0u);
  EXPECT_EQ(lut_release_source(nullptr, 1 << 20), 0u);
  // Anonymous memory keeps its contents after the advice.
  std::vector<uint8_t> big(1 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 31);
  lut_release_source(big.data(), big.size());
  for (size_t i = 0; i < big.size(); ++i) ASSERT_EQ(big[i], static_cast<uint8_t>(i * 31)) << i;
}

}  // namespace
}  // namespace edgellm
