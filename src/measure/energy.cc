#include "measure/energy.h"

#include <chrono>
#include <cmath>
#include <cstdlib>

#include "core/timer.h"

namespace edgellm {

// Per-sensor running state between start() and stop().
struct EnergyMeter::State {
  struct Sensor {
    bool failed = false;
    std::string failure;
    uint64_t last_counter = 0;
    double last_uw = 0;
    int64_t last_ns = 0;
    bool have_last = false;
    double microjoules = 0;
  };
  std::vector<Sensor> sensors;
  int64_t start_ns = 0;
  int64_t last_counter_poll_ns = 0;
  int samples = 0;
};

uint64_t counter_delta(uint64_t before, uint64_t after, uint64_t max) {
  if (after >= before) return after - before;
  // Wrapped once: the counter ran from `before` up to max (the range's last value is max - 1 ... max
  // depending on the driver; max_energy_range_uj is the period) and then from 0 to `after`.
  if (max == 0) return after + (~before + 1);  // 2^64 - before + after, in modular arithmetic
  if (before > max) return after;              // inconsistent max: count from the wrap only
  return after + (max - before);
}

EnergyMeter::EnergyMeter(EnergyMeterOptions options) : opt_(std::move(options)) {
  if (!opt_.read) opt_.read = read_text_file;
  if (opt_.sample_hz < 100) opt_.sample_hz = 100;
  if (opt_.counter_poll_seconds <= 0) opt_.counter_poll_seconds = 0.25;
  detect_energy_sensors(opt_.root, opt_.read, &sensors_, &skipped_);
}

EnergyMeter::~EnergyMeter() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

namespace {

// One reading of a sensor: the counter in µJ, or power in µW. False (with why) when it fails.
bool read_sensor(const EnergySensor& s, const ReadFileFn& read, uint64_t* counter, double* uw, std::string* why) {
  auto value_of = [&](const std::string& path, int64_t* v) {
    auto text = read(path);
    if (!text) {
      *why = text.status().message();
      return false;
    }
    auto parsed = parse_sysfs_int(*text);
    if (!parsed) {
      *why = path + ": not a number";
      return false;
    }
    *v = *parsed;
    return true;
  };
  int64_t a = 0, b = 0;
  if (!value_of(s.path, &a)) return false;
  switch (s.kind) {
    case EnergySensor::Kind::kCounter:
      if (a < 0) {
        *why = s.path + ": negative counter";
        return false;
      }
      *counter = static_cast<uint64_t>(a);
      return true;
    case EnergySensor::Kind::kPower:
      *uw = std::fabs(static_cast<double>(a)) * s.scale;
      return true;
    case EnergySensor::Kind::kVoltCurrent:
      if (!value_of(s.path2, &b)) return false;
      // Batteries report discharge current as negative on some devices; the sign is not consumption.
      *uw = std::fabs(static_cast<double>(a) * static_cast<double>(b)) * s.scale;
      return true;
  }
  return false;
}

}  // namespace

void EnergyMeter::sample_once(int64_t t_ns, bool final_sample) {
  State& st = *state_;
  const bool poll_counters =
      final_sample || t_ns - st.last_counter_poll_ns >= static_cast<int64_t>(opt_.counter_poll_seconds * 1e9);
  if (poll_counters) st.last_counter_poll_ns = t_ns;
  bool sampled = false;
  for (size_t i = 0; i < sensors_.size(); ++i) {
    const EnergySensor& s = sensors_[i];
    State::Sensor& ss = st.sensors[i];
    if (ss.failed) continue;
    const bool counter = s.kind == EnergySensor::Kind::kCounter;
    if (counter && !poll_counters) continue;
    uint64_t c = 0;
    double uw = 0;
    std::string why;
    if (!read_sensor(s, opt_.read, &c, &uw, &why)) {
      ss.failed = true;
      ss.failure = "failed during the measurement: " + why;
      continue;
    }
    sampled = true;
    if (counter) {
      if (ss.have_last) ss.microjoules += static_cast<double>(counter_delta(ss.last_counter, c, s.max_uj));
      ss.last_counter = c;
    } else {
      // Trapezoid rule between consecutive samples: µW × s = µJ.
      if (ss.have_last) ss.microjoules += 0.5 * (uw + ss.last_uw) * static_cast<double>(t_ns - ss.last_ns) * 1e-9;
      ss.last_uw = uw;
      ss.last_ns = t_ns;
    }
    ss.have_last = true;
  }
  if (sampled) ++st.samples;
}

void EnergyMeter::sample_loop() {
  bool instantaneous = false;
  for (const auto& s : sensors_) instantaneous |= s.kind != EnergySensor::Kind::kCounter;
  const double period_s = instantaneous ? 1.0 / opt_.sample_hz : opt_.counter_poll_seconds;
  const auto period = std::chrono::nanoseconds(static_cast<int64_t>(period_s * 1e9));
  auto next = std::chrono::steady_clock::now() + period;
  while (running_) {
    // Sleep in short steps so stop() never waits a whole counter period for the thread to notice.
    auto now = std::chrono::steady_clock::now();
    if (now < next) {
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(next - now, std::chrono::milliseconds(5)));
      continue;
    }
    next += period;
    if (next < now) next = now + period;  // fell behind (machine busy): do not burst to catch up
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) break;
    sample_once(now_ns(), false);
  }
}

Status EnergyMeter::start() {
  if (running_ || state_) return Status::error("EnergyMeter::start: already started");
  state_ = std::make_unique<State>();
  state_->sensors.resize(sensors_.size());
  const int64_t t = now_ns();
  state_->start_ns = t;
  state_->last_counter_poll_ns = t;
  sample_once(t, true);
  state_->samples = 0;  // the bracketing readings are not background samples
  if (!sensors_.empty()) {
    running_ = true;
    thread_ = std::thread([this] { sample_loop(); });
  }
  return Status::ok();
}

void EnergyMeter::poll_now() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_) sample_once(now_ns(), true);
}

Result<EnergyReading> EnergyMeter::stop() {
  if (!state_) return Status::error("EnergyMeter::stop: not started");
  running_ = false;
  if (thread_.joinable()) thread_.join();
  const int64_t t = now_ns();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int samples = state_->samples;
    sample_once(t, true);
    state_->samples = samples;
  }
  EnergyReading r;
  r.seconds = static_cast<double>(t - state_->start_ns) * 1e-9;
  r.samples = state_->samples;
  r.skipped = skipped_;
  for (size_t i = 0; i < sensors_.size(); ++i) {
    const State::Sensor& ss = state_->sensors[i];
    if (ss.failed) {
      r.skipped.push_back({sensors_[i].path, ss.failure});
      continue;
    }
    EnergyZone z;
    z.source = sensors_[i].source;
    z.name = sensors_[i].name;
    z.joules = ss.microjoules * 1e-6;
    z.avg_watts = r.seconds > 0 ? z.joules / r.seconds : 0;
    z.in_total = sensors_[i].in_total;
    if (z.in_total) r.total_joules += z.joules;
    r.zones.push_back(std::move(z));
  }
  r.measured = !r.zones.empty();
  r.avg_watts = r.seconds > 0 ? r.total_joules / r.seconds : 0;
  state_.reset();
  return r;
}

EnergyModel default_energy_model() {
  // Values and their sources: docs/energy.md ("The estimate").
  EnergyModel m;
  m.static_watts = 10.0;
  m.watts_per_active_core = 4.0;
  m.pj_per_dram_byte = 120.0;
  m.pj_per_int8_op = 1.0;
  m.pj_per_flop = 5.0;
  m.name = "x86-64 server/desktop, DDR4/DDR5 (docs/energy.md)";
  return m;
}

EnergyEstimate estimate_energy(const EnergyModel& model, double bytes_moved, double int8_ops, double flops,
                               double seconds, int active_cores) {
  EnergyEstimate e;
  e.static_joules = model.static_watts * seconds;
  e.core_joules = model.watts_per_active_core * static_cast<double>(std::max(active_cores, 0)) * seconds;
  e.dram_joules = bytes_moved * model.pj_per_dram_byte * 1e-12;
  e.compute_joules = (int8_ops * model.pj_per_int8_op + flops * model.pj_per_flop) * 1e-12;
  e.joules = e.static_joules + e.core_joules + e.dram_joules + e.compute_joules;
  e.avg_watts = seconds > 0 ? e.joules / seconds : 0;
  return e;
}

double grams_co2e(double joules, double grid_g_per_kwh) { return joules / 3.6e6 * grid_g_per_kwh; }

}  // namespace edgellm
