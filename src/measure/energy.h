// Energy: measured from real sensors where the machine has them (Linux powercap RAPL, hwmon power or
// voltage x current channels, battery power_supply), estimated from a published model where it does
// not. Every figure says which it is. See docs/energy.md for the sensors, the model and its sources.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "measure/sysfs.h"

namespace edgellm {

// One sensor found under the root.
struct EnergySensor {
  enum class Kind {
    kCounter,      // cumulative energy in µJ (RAPL energy_uj, hwmon energy*_input), wraps at max_uj
    kPower,        // instantaneous power in µW (hwmon power*_input, power_supply power_now)
    kVoltCurrent,  // instantaneous voltage x current (hwmon in*_input mV x curr*_input mA,
                   // power_supply voltage_now µV x current_now µA)
  };
  Kind kind = Kind::kCounter;
  std::string source;     // "rapl", "hwmon", "power_supply"
  std::string name;       // "package-0", "dram", "ina3221 VDD_IN", "BAT0"
  std::string path;       // the counter or power file (or the voltage file for kVoltCurrent)
  std::string path2;      // the current file for kVoltCurrent
  double scale = 1.0;     // multiplies the raw value (or product) into µJ or µW
  uint64_t max_uj = 0;    // counter wrap point (max_energy_range_uj); 0 = unknown (2^64 assumed)
  bool in_total = false;  // counted in EnergyReading::total_joules (see docs: no double counting)
};

struct SkippedSensor {
  std::string path;
  std::string reason;  // "permission denied (energy_uj is 0400; run as root ...)", "battery charging", ...
};

struct EnergyZone {
  std::string source, name;
  double joules = 0;
  double avg_watts = 0;
  bool in_total = false;
};

struct EnergyReading {
  bool measured = false;    // true only when at least one sensor delivered numbers
  double seconds = 0;       // between start() and stop()
  double total_joules = 0;  // sum over zones with in_total
  double avg_watts = 0;     // total_joules / seconds
  int samples = 0;          // background samples taken (instantaneous sensors and counter polls)
  std::vector<EnergyZone> zones;
  std::vector<SkippedSensor> skipped;
};

struct EnergyMeterOptions {
  std::string root = "/";
  ReadFileFn read = read_text_file;
  // Sampling rate of instantaneous power sensors (trapezoid integration). >= 100 Hz.
  double sample_hz = 200;
  // Cumulative counters are also read every this many seconds (well within one wrap period: the
  // RAPL package counter wraps after ~262 J, i.e. ~2.6 s at 100 W), so several wraps are caught.
  double counter_poll_seconds = 0.25;
};

// Measures energy over one phase: start() ... stop(). Not thread-safe (one owner); a background
// thread samples while started. Detection never fails: sensors that cannot be read are listed in
// skipped() with a reason, and with no sensors at all stop() returns measured = false.
class EnergyMeter {
 public:
  explicit EnergyMeter(EnergyMeterOptions options = {});
  ~EnergyMeter();
  EnergyMeter(const EnergyMeter&) = delete;
  EnergyMeter& operator=(const EnergyMeter&) = delete;

  const std::vector<EnergySensor>& sensors() const { return sensors_; }
  const std::vector<SkippedSensor>& skipped() const { return skipped_; }
  bool available() const { return !sensors_.empty(); }

  // Takes the first reading of every sensor and starts the sampler. Error if already started.
  Status start();
  // Takes the last reading, stops the sampler and returns the joules per zone over exactly the
  // interval. Error if not started. A sensor that fails mid-run is moved to skipped.
  Result<EnergyReading> stop();
  // Reads every sensor now (the sampler does this by itself; exposed so a caller with its own timer,
  // or a test, can force a reading). No effect unless started.
  void poll_now();

 private:
  struct State;
  void sample_loop();
  void sample_once(int64_t t_ns, bool final_sample);

  EnergyMeterOptions opt_;
  std::vector<EnergySensor> sensors_;
  std::vector<SkippedSensor> skipped_;
  std::unique_ptr<State> state_;
  std::mutex mu_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

// Finds the sensors under root (exposed for tests; EnergyMeter calls it).
void detect_energy_sensors(const std::string& root, const ReadFileFn& read, std::vector<EnergySensor>* sensors,
                           std::vector<SkippedSensor>* skipped);

// Difference between two readings of a counter that wraps at max (0 = 2^64): after < before
// means it wrapped once, giving after + (max - before).
uint64_t counter_delta(uint64_t before, uint64_t after, uint64_t max);

// The estimate used where no sensor exists (QEIL-style: static power over time plus energy per byte
// of DRAM traffic and per operation). Parameter values and sources: docs/energy.md.
struct EnergyModel {
  double static_watts = 0;           // package/uncore/idle power while the phase runs
  double watts_per_active_core = 0;  // extra power of each busy core (instruction overhead, caches)
  double pj_per_dram_byte = 0;       // DRAM read energy incl. I/O
  double pj_per_int8_op = 0;         // per int8 operation (a multiply-add = 2 ops) in SIMD units
  double pj_per_flop = 0;            // per fp32 operation in SIMD units
  std::string name;                  // e.g. "server-x86 (docs/energy.md)"
};
// The documented default for a server/desktop x86-64 CPU with DDR4/DDR5 (docs/energy.md).
EnergyModel default_energy_model();

struct EnergyEstimate {
  bool estimated = true;  // always: nothing was measured
  double joules = 0;
  double static_joules = 0, core_joules = 0, dram_joules = 0, compute_joules = 0;
  double avg_watts = 0;
};
// joules = (static_watts + active_cores × watts_per_active_core) × seconds
//        + bytes_moved × pj_per_dram_byte + int8_ops × pj_per_int8_op + flops × pj_per_flop (pJ = 1e-12 J).
EnergyEstimate estimate_energy(const EnergyModel& model, double bytes_moved, double int8_ops, double flops,
                               double seconds, int active_cores = 1);

// Grams of CO2-equivalent for `joules` at a grid intensity in gCO2e/kWh (1 kWh = 3.6e6 J).
double grams_co2e(double joules, double grid_g_per_kwh);

}  // namespace edgellm
