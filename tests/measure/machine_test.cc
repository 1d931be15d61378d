#include "measure/machine.h"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "test_util.h"

namespace edgellm {
namespace {

const std::string kFixtures = std::string(EDGELLM_SOURCE_DIR) + "/tests/measure/fixtures";

TEST(ProbeMachine, QuickProbeMeasuresPositiveNumbers) {
  const std::string file = test::temp_dir() + "/storage.bin";
  {
    std::vector<char> data(4 << 20, 'x');
    std::ofstream(file, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  ProbeOptions o;
  o.quick = true;
  o.storage_path = file;
  auto m = probe_machine(o);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_FALSE(m->cpu_model.empty());
  EXPECT_GE(m->n_threads_logical, 1);
  EXPECT_GE(m->n_cores_physical, 1);
  EXPECT_LE(m->n_cores_physical, m->n_threads_logical);
  EXPECT_GT(m->ram_bytes, 0u);
  EXPECT_GT(m->mem_read_gbs_1t, 0.1);
  EXPECT_GT(m->mem_read_gbs_all, 0.1);
  EXPECT_GT(m->peak_int8_gops_1t, 0.1);
  EXPECT_GT(m->peak_fp32_gflops_1t, 0.1);
  EXPECT_GT(m->storage_read_gbs, 0);
  // Just written, so its pages may be dirty and stay cached: the note must then say so.
  EXPECT_NE(m->storage_note.find("read 4 MiB"), std::string::npos) << m->storage_note;
  EXPECT_GE(m->others_cpu_share, 0);
  EXPECT_LE(m->others_cpu_share, 1);
  EXPECT_FALSE(m->kernel.empty());
  EXPECT_LT(m->probe_seconds, 10);
  std::cerr << to_json(*m).dump(1) << "\n";  // the figures this machine gave, for the log
}

TEST(ProbeMachine, FixtureRootAndJson) {
  ProbeOptions o;
  o.quick = true;
  o.root = kFixtures + "/machine";
  o.bandwidth_buffer_bytes = 8 << 20;  // the figures are not checked here: keep it short
  o.max_threads = 1;
  auto m = probe_machine(o);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->cpu_model, "Intel(R) Core(TM) i7-1165G7 @ 2.80GHz");
  EXPECT_EQ(m->n_threads_logical, 4);
  EXPECT_EQ(m->n_cores_physical, 2);
  EXPECT_EQ(m->l1d_bytes, 48u * 1024);
  EXPECT_EQ(m->l3_bytes, 12u << 20);
  EXPECT_EQ(m->ram_bytes, 16318480ull * 1024);
  EXPECT_EQ(m->os, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(m->storage_read_gbs, 0);
  EXPECT_NE(m->storage_note.find("skipped"), std::string::npos);
  EXPECT_EQ(m->mem_threads_all, 1);

  nlohmann::json j = to_json(*m);
  for (const char* key :
       {"cpu_model", "n_cores_physical", "n_threads_logical", "isa", "l1d_bytes", "l2_bytes", "l3_bytes", "ram_bytes",
        "mem_read_gbs_1t", "mem_read_gbs_all", "mem_threads_all", "peak_int8_gops_1t", "peak_fp32_gflops_1t",
        "storage_read_gbs", "storage_note", "kernel", "os", "probe_seconds", "others_cpu_share"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["n_threads_logical"], 4);
  EXPECT_TRUE(j["isa"].is_array());
}

}  // namespace
}  // namespace edgellm
