#include "measure/energy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "test_util.h"

namespace edgellm {
namespace {

const std::string kFixtures = std::string(EDGELLM_SOURCE_DIR) + "/tests/measure/fixtures";

// A file reader over a fixture tree whose files a test can change or make fail while a meter runs
// (in memory, so the sampler thread never sees a half-written file).
class ScriptedFs {
 public:
  explicit ScriptedFs(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  // rel is relative to the root, e.g. "/sys/class/powercap/intel-rapl:0/energy_uj".
  void set(const std::string& rel, const std::string& value) {
    std::lock_guard<std::mutex> lock(mu_);
    values_[root_ + rel] = value;
  }
  void fail(const std::string& rel, const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_[root_ + rel] = why;
  }
  ReadFileFn reader() {
    return [this](const std::string& path) -> Result<std::string> {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto e = errors_.find(path); e != errors_.end()) return Status::error(path + ": " + e->second);
      if (auto v = values_.find(path); v != values_.end()) return v->second;
      return read_text_file(path);
    };
  }

 private:
  std::string root_;
  std::mutex mu_;
  std::map<std::string, std::string> values_, errors_;
};

EnergyMeterOptions options_for(ScriptedFs& fs) {
  EnergyMeterOptions o;
  o.root = fs.root();
  o.read = fs.reader();
  o.counter_poll_seconds = 100;  // tests force counter readings with poll_now()
  return o;
}

const EnergyZone* zone(const EnergyReading& r, const std::string& name) {
  for (const auto& z : r.zones)
    if (z.name == name) return &z;
  return nullptr;
}

constexpr const char* kPkg = "/sys/class/powercap/intel-rapl:0/energy_uj";
constexpr const char* kCore = "/sys/class/powercap/intel-rapl:0:0/energy_uj";
constexpr const char* kDram = "/sys/class/powercap/intel-rapl:0:1/energy_uj";

TEST(EnergyRapl, DetectsZonesAndSkipsMmioDuplicate) {
  EnergyMeter meter(EnergyMeterOptions{.root = kFixtures + "/rapl"});
  ASSERT_EQ(meter.sensors().size(), 3u);
  EXPECT_EQ(meter.sensors()[0].name, "package-0");
  EXPECT_EQ(meter.sensors()[0].max_uj, 262143328850u);
  EXPECT_TRUE(meter.sensors()[0].in_total);
  EXPECT_EQ(meter.sensors()[1].name, "package-0/core");
  EXPECT_FALSE(meter.sensors()[1].in_total);  // inside the package already
  EXPECT_EQ(meter.sensors()[2].name, "package-0/dram");
  EXPECT_TRUE(meter.sensors()[2].in_total);
  ASSERT_EQ(meter.skipped().size(), 1u);
  EXPECT_NE(meter.skipped()[0].path.find("mmio"), std::string::npos);
}

TEST(EnergyRapl, JoulesPerZoneOverThePhase) {
  ScriptedFs fs(kFixtures + "/rapl");
  EnergyMeter meter(options_for(fs));
  ASSERT_TRUE(meter.start().is_ok());
  fs.set(kPkg, "3000000");   // +2 J
  fs.set(kCore, "1500000");  // +1 J
  fs.set(kDram, "700000");   // +0.5 J
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->measured);
  ASSERT_NE(zone(*r, "package-0"), nullptr);
  EXPECT_DOUBLE_EQ(zone(*r, "package-0")->joules, 2.0);
  EXPECT_DOUBLE_EQ(zone(*r, "package-0/core")->joules, 1.0);
  EXPECT_DOUBLE_EQ(zone(*r, "package-0/dram")->joules, 0.5);
  EXPECT_DOUBLE_EQ(r->total_joules, 2.5);  // package + dram, core not double counted
  EXPECT_GT(r->seconds, 0);
  EXPECT_NEAR(r->avg_watts, 2.5 / r->seconds, 1e-9);
}

TEST(EnergyRapl, CounterWrapsAtMaxEnergyRange) {
  ScriptedFs fs(kFixtures + "/rapl_wrap");
  EnergyMeter meter(options_for(fs));
  ASSERT_EQ(meter.sensors().size(), 1u);
  ASSERT_TRUE(meter.start().is_ok());  // counter at 262143000000, 328850 µJ below the range
  fs.set(kPkg, "1000000");
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(r->total_joules, (1000000 + 328850) * 1e-6, 1e-9);
}

TEST(EnergyRapl, SeveralWrapsCaughtByPeriodicReadings) {
  ScriptedFs fs(kFixtures + "/rapl_wrap");
  EnergyMeter meter(options_for(fs));
  ASSERT_TRUE(meter.start().is_ok());
  fs.set(kPkg, "1000000");  // wrap 1: +1328850
  meter.poll_now();
  fs.set(kPkg, "262000000000");  // +261999000000
  meter.poll_now();
  fs.set(kPkg, "5");  // wrap 2: +143328850 + 5
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(r->total_joules, (1328850.0 + 261999000000.0 + 143328855.0) * 1e-6, 1e-6);
}

TEST(EnergyRapl, CounterDelta) {
  EXPECT_EQ(counter_delta(10, 25, 100), 15u);
  EXPECT_EQ(counter_delta(90, 5, 100), 15u);
  EXPECT_EQ(counter_delta(~uint64_t{0} - 4, 5, 0), 10u);  // 64-bit wrap when the range is unknown
  EXPECT_EQ(counter_delta(150, 5, 100), 5u);              // inconsistent range: count from the wrap
}

TEST(EnergyRapl, PermissionDeniedSkipsWithReason) {
  ScriptedFs fs(kFixtures + "/rapl");
  fs.fail(kPkg, "Permission denied");
  EnergyMeter meter(options_for(fs));
  ASSERT_EQ(meter.sensors().size(), 2u);  // core and dram still usable
  bool found = false;
  for (const auto& s : meter.skipped()) {
    if (s.path.ends_with("intel-rapl:0/energy_uj")) {
      found = true;
      EXPECT_NE(s.reason.find("Permission denied"), std::string::npos) << s.reason;
      EXPECT_NE(s.reason.find("root"), std::string::npos) << s.reason;  // says what to do
    }
  }
  EXPECT_TRUE(found);
}

TEST(EnergyRapl, UnreadableFileOnDisk) {
  // A real mode-000 file: a non-root user is refused and the sensor is skipped; root reads it anyway
  // (as in CI), which is why the scripted EACCES test above exists.
  const std::string root = test::temp_dir() + "/rapl000";
  const std::string zone_dir = root + "/sys/class/powercap/intel-rapl:0";
  std::filesystem::create_directories(zone_dir);
  std::ofstream(zone_dir + "/name") << "package-0\n";
  std::ofstream(zone_dir + "/energy_uj") << "12345\n";
  ASSERT_EQ(::chmod((zone_dir + "/energy_uj").c_str(), 0), 0);
  EnergyMeter meter(EnergyMeterOptions{.root = root});
  if (::geteuid() == 0) {
    EXPECT_EQ(meter.sensors().size(), 1u);
  } else {
    EXPECT_TRUE(meter.sensors().empty());
    ASSERT_EQ(meter.skipped().size(), 1u);
    EXPECT_NE(meter.skipped()[0].reason.find("Permission denied"), std::string::npos);
  }
}

TEST(EnergyRapl, SensorFailingMidRunIsReportedNotFatal) {
  ScriptedFs fs(kFixtures + "/rapl");
  EnergyMeter meter(options_for(fs));
  ASSERT_TRUE(meter.start().is_ok());
  fs.set(kPkg, "2000000");
  fs.fail(kDram, "Input/output error");
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(zone(*r, "package-0/dram"), nullptr);
  EXPECT_DOUBLE_EQ(r->total_joules, 1.0);
  bool reported = false;
  for (const auto& s : r->skipped) reported |= s.reason.find("Input/output error") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST(EnergyHwmon, JetsonIna3221IntegratesVoltTimesCurrent) {
  EnergyMeter meter(EnergyMeterOptions{.root = kFixtures + "/jetson"});
  ASSERT_EQ(meter.sensors().size(), 3u);  // in7 has no current channel; hwmon0 has no power
  EXPECT_EQ(meter.sensors()[0].name, "ina3221 VDD_IN");
  EXPECT_TRUE(meter.sensors()[0].in_total);
  EXPECT_FALSE(meter.sensors()[1].in_total);  // rails inside VDD_IN
  ASSERT_TRUE(meter.start().is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->measured);
  EXPECT_GE(r->samples, 3);  // 200 Hz sampler over 60 ms (a loaded machine may lose some)
  // Constant power integrates exactly: 5 V × 1.2 A = 6 W on VDD_IN, 2 W and 1.5 W on the rails.
  EXPECT_NEAR(zone(*r, "ina3221 VDD_IN")->joules, 6.0 * r->seconds, 1e-9);
  EXPECT_NEAR(zone(*r, "ina3221 VDD_CPU_GPU_CV")->avg_watts, 2.0, 1e-9);
  EXPECT_NEAR(zone(*r, "ina3221 VDD_SOC")->avg_watts, 1.5, 1e-9);
  EXPECT_NEAR(r->avg_watts, 6.0, 1e-9);
}

TEST(EnergyHwmon, TrapezoidFollowsAChangingPower) {
  ScriptedFs fs(kFixtures + "/jetson");
  EnergyMeterOptions o = options_for(fs);
  EnergyMeter meter(o);
  ASSERT_TRUE(meter.start().is_ok());                     // 6 W
  fs.set("/sys/class/hwmon/hwmon1/curr1_input", "2400");  // 12 W from the next sample on
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  const double w = zone(*r, "ina3221 VDD_IN")->avg_watts;
  EXPECT_GT(w, 6.0);  // the ramp from 6 to 12 W lasts one sample period, the rest is at 12 W
  EXPECT_LE(w, 12.0);
  EXPECT_GE(w, 9.0 - 1e-9);  // 9 W if no sample fell between start and stop
}

TEST(EnergyHwmon, AmdEnergyCountersTotalIsTheSocket) {
  ScriptedFs fs(kFixtures + "/amd_energy");
  EnergyMeter meter(options_for(fs));
  ASSERT_EQ(meter.sensors().size(), 3u);
  ASSERT_TRUE(meter.start().is_ok());
  fs.set("/sys/class/hwmon/hwmon3/energy1_input", "4000000");    // core 0: +3 J
  fs.set("/sys/class/hwmon/hwmon3/energy17_input", "60000000");  // socket: +10 J
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_DOUBLE_EQ(zone(*r, "amd_energy Ecore000")->joules, 3.0);
  EXPECT_DOUBLE_EQ(zone(*r, "amd_energy Ecore001")->joules, 0.0);
  EXPECT_DOUBLE_EQ(r->total_joules, 10.0);  // the cores are inside the socket
}

TEST(EnergyBattery, PowerNowWhileDischarging) {
  EnergyMeter meter(EnergyMeterOptions{.root = kFixtures + "/laptop"});
  ASSERT_EQ(meter.sensors().size(), 1u);  // the mains adapter is not a sensor
  EXPECT_EQ(meter.sensors()[0].source, "power_supply");
  ASSERT_TRUE(meter.start().is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(r->avg_watts, 7.5, 1e-9);
  EXPECT_NEAR(r->total_joules, 7.5 * r->seconds, 1e-9);
}

TEST(EnergyBattery, VoltageTimesNegativeCurrent) {
  EnergyMeter meter(EnergyMeterOptions{.root = kFixtures + "/laptop_vi"});
  ASSERT_EQ(meter.sensors().size(), 1u);
  ASSERT_TRUE(meter.start().is_ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(r->avg_watts, 6.0, 1e-9);  // 12 V × |-0.5 A|
}

TEST(EnergyBattery, ChargingIsNotASensor) {
  EnergyMeter meter(EnergyMeterOptions{.root = kFixtures + "/charging"});
  EXPECT_FALSE(meter.available());
  ASSERT_EQ(meter.skipped().size(), 1u);
  EXPECT_NE(meter.skipped()[0].reason.find("Charging"), std::string::npos);
  ASSERT_TRUE(meter.start().is_ok());
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->measured);
  EXPECT_EQ(r->total_joules, 0);
  EXPECT_EQ(r->skipped.size(), 1u);
}

TEST(EnergyMeter, NoSensorsAndMisuse) {
  EnergyMeter meter(EnergyMeterOptions{.root = test::temp_dir() + "/empty-root"});
  EXPECT_FALSE(meter.available());
  EXPECT_FALSE(meter.stop().is_ok());  // not started
  ASSERT_TRUE(meter.start().is_ok());
  EXPECT_FALSE(meter.start().is_ok());  // already started
  auto r = meter.stop();
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->measured);
  ASSERT_TRUE(meter.start().is_ok());  // reusable after stop
  EXPECT_TRUE(meter.stop().is_ok());
}

TEST(EnergyEstimate, ArithmeticOfTheModel) {
  EnergyModel m;
  m.static_watts = 10;
  m.watts_per_active_core = 4;
  m.pj_per_dram_byte = 120;
  m.pj_per_int8_op = 1;
  m.pj_per_flop = 5;
  EnergyEstimate e = estimate_energy(m, 1e9, 2e9, 1e8, 2.0, 2);
  EXPECT_TRUE(e.estimated);
  EXPECT_DOUBLE_EQ(e.static_joules, 20);
  EXPECT_DOUBLE_EQ(e.core_joules, 16);
  EXPECT_NEAR(e.dram_joules, 0.12, 1e-12);
  EXPECT_NEAR(e.compute_joules, 0.002 + 0.0005, 1e-12);
  EXPECT_NEAR(e.joules, 36.1225, 1e-9);
  EXPECT_NEAR(e.avg_watts, 36.1225 / 2, 1e-9);
  EXPECT_EQ(estimate_energy(m, 0, 0, 0, 0).avg_watts, 0);
}

TEST(EnergyEstimate, DefaultModelAndEmissions) {
  EnergyModel m = default_energy_model();
  EXPECT_GT(m.static_watts, 0);
  EXPECT_GT(m.pj_per_dram_byte, m.pj_per_int8_op);  // moving a byte costs more than an op
  EXPECT_FALSE(m.name.empty());
  EXPECT_DOUBLE_EQ(grams_co2e(3.6e6, 400), 400);  // 1 kWh at 400 g/kWh
  EXPECT_DOUBLE_EQ(grams_co2e(0, 400), 0);
}

}  // namespace
}  // namespace edgellm
