#include "measure/sysfs.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace edgellm {
namespace {

const std::string kFixtures = std::string(EDGELLM_SOURCE_DIR) + "/tests/measure/fixtures";

TEST(ProcStat, ParsesAggregateLine) {
  auto t = read_proc_stat(kFixtures + "/machine");
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  // busy = user + nice + system + irq + softirq + steal; idle = idle + iowait (guest is inside user).
  EXPECT_EQ(t->busy, 10132153u + 290696u + 3084719u + 0u + 25195u + 0u);
  EXPECT_EQ(t->idle, 46828483u + 16683u);
}

TEST(ProcStat, MalformedInputNamesTheProblem) {
  auto missing = parse_proc_stat("cpu0 1 2 3 4\nintr 5\n");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("no aggregate"), std::string::npos);
  auto bad = parse_proc_stat("cpu  1 2 x 4\n");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("field 3"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(parse_proc_stat("cpu  1 2\n").is_ok());
  EXPECT_FALSE(read_proc_stat(kFixtures + "/nonexistent").is_ok());
}

TEST(ProcStat, OtherProcessesShare) {
  CpuTimes before{1000, 9000}, after{1300, 9500};  // 800 ticks = 8 CPU-seconds of capacity, 3 busy
  EXPECT_NEAR(other_cpu_share(before, after, 1.0), 2.0 / 8.0, 1e-12);
  EXPECT_NEAR(other_cpu_share(before, after, 3.0), 0.0, 1e-12);
  EXPECT_EQ(other_cpu_share(before, after, 5.0), 0.0);  // own time above busy (tick rounding): clamped
  EXPECT_EQ(other_cpu_share(after, after, 0.0), 0.0);   // no time passed
  EXPECT_NEAR(other_cpu_share(before, after, 0.0, 50.0), 3.0 / 8.0, 1e-12);  // ratio is independent of HZ
}

TEST(ProcStat, LiveSampleOfThisMachine) {
  auto a = read_proc_stat();
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_GT(a->total(), 0u);
  EXPECT_GE(process_cpu_seconds(), 0.0);
}

TEST(CpuInfo, X86CountsThreadsAndCores) {
  auto info = read_cpuinfo(kFixtures + "/machine");
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->model, "Intel(R) Core(TM) i7-1165G7 @ 2.80GHz");
  EXPECT_EQ(info->n_logical, 4);
  EXPECT_EQ(info->n_physical, 2);
  EXPECT_NE(std::find(info->flags.begin(), info->flags.end(), "avx512_vnni"), info->flags.end());
  EXPECT_EQ(info->flags.size(), 8u);
}

TEST(CpuInfo, ArmUsesModelAndFeatures) {
  auto info = read_cpuinfo(kFixtures + "/arm");
  ASSERT_TRUE(info.is_ok());
  EXPECT_EQ(info->model, "Raspberry Pi 4 Model B Rev 1.4");
  EXPECT_EQ(info->n_logical, 2);
  EXPECT_EQ(info->n_physical, 2);  // no core ids: one core per processor
  ASSERT_EQ(info->flags.size(), 5u);
  EXPECT_EQ(info->flags[1], "asimd");
}

TEST(Caches, SizesFromIndexDirs) {
  auto c = read_cache_sizes(kFixtures + "/machine");
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->l1d, 48u * 1024);  // the 32K instruction cache is not counted
  EXPECT_EQ(c->l2, 1280u * 1024);
  EXPECT_EQ(c->l3, 12u << 20);
  EXPECT_FALSE(read_cache_sizes(kFixtures + "/arm").is_ok());
}

TEST(Caches, ParseSize) {
  EXPECT_EQ(parse_cache_size("48K\n"), 48u * 1024);
  EXPECT_EQ(parse_cache_size("32M"), 32u << 20);
  EXPECT_EQ(parse_cache_size("1G"), 1u << 30);
  EXPECT_EQ(parse_cache_size("512"), 512u);
  EXPECT_EQ(parse_cache_size(""), 0u);
  EXPECT_EQ(parse_cache_size("K"), 0u);
  EXPECT_EQ(parse_cache_size("12Q"), 0u);
}

TEST(Thermal, ReadableZonesOnly) {
  auto zones = read_thermal_zones(kFixtures + "/machine");
  ASSERT_EQ(zones.size(), 1u);  // thermal_zone1 has a malformed temp; cooling devices are not zones
  EXPECT_EQ(zones[0].name, "thermal_zone0");
  EXPECT_EQ(zones[0].type, "x86_pkg_temp");
  EXPECT_DOUBLE_EQ(zones[0].celsius, 45.5);
  EXPECT_TRUE(read_thermal_zones(kFixtures + "/arm").empty());
}

TEST(SysfsUtil, IntsAndPaths) {
  EXPECT_EQ(parse_sysfs_int(" 123\n"), 123);
  EXPECT_EQ(parse_sysfs_int("-500000"), -500000);
  EXPECT_FALSE(parse_sysfs_int("12a").has_value());
  EXPECT_FALSE(parse_sysfs_int("").has_value());
  EXPECT_FALSE(parse_sysfs_int("99999999999999999999999").has_value());
  EXPECT_EQ(root_path("/", "/proc/stat"), "/proc/stat");
  EXPECT_EQ(root_path("/tmp/fx/", "/proc/stat"), "/tmp/fx/proc/stat");
  auto err = read_text_file("/nonexistent/edgellm");
  ASSERT_FALSE(err.is_ok());
  EXPECT_NE(err.status().message().find("/nonexistent/edgellm"), std::string::npos);
}

}  // namespace
}  // namespace edgellm
