// Sensor discovery for EnergyMeter: powercap RAPL zones, hwmon channels, battery power supplies.
#include <string_view>

#include "measure/energy.h"

namespace edgellm {
namespace {

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Why a sensor file cannot be used, with what to do about it.
std::string unreadable_reason(const Status& st, std::string_view hint) {
  std::string r = "unreadable: " + st.message();
  if (st.message().find("Permission denied") != std::string::npos && !hint.empty()) r += " (" + std::string(hint) + ")";
  return r;
}

constexpr std::string_view kRaplHint =
    "energy_uj is readable by root only since Linux 5.10; run as root or chmod o+r the file";

void detect_rapl(const std::string& root, const ReadFileFn& read, std::vector<EnergySensor>* sensors,
                 std::vector<SkippedSensor>* skipped) {
  const std::string dir = root_path(root, "/sys/class/powercap");
  for (const std::string& zone : list_dir(dir)) {
    const std::string base = dir + "/" + zone + "/";
    // Control types ("intel-rapl") have no energy_uj; zones are "intel-rapl:0", "intel-rapl:0:1", ...
    if (zone.find(':') == std::string::npos) continue;
    const std::string energy = base + "energy_uj";
    if (zone.find("mmio") != std::string::npos) {
      // intel-rapl-mmio:0 reports the same package as intel-rapl:0 through another interface.
      skipped->push_back({energy, "duplicate of the MSR package zone (mmio interface)"});
      continue;
    }
    auto value = read(energy);
    if (!value) {
      if (value.status().message().find("No such file") == std::string::npos) {
        skipped->push_back({energy, unreadable_reason(value.status(), kRaplHint)});
      }
      continue;
    }
    if (!parse_sysfs_int(*value)) {
      skipped->push_back({energy, "not a number: '" + trimmed(*value) + "'"});
      continue;
    }
    EnergySensor s;
    s.kind = EnergySensor::Kind::kCounter;
    s.source = "rapl";
    auto name = read(base + "name");
    s.name = name ? trimmed(*name) : zone;
    // Sub-zones (intel-rapl:0:0) are named after their package so two sockets stay apart.
    const size_t second_colon = zone.find(':', zone.find(':') + 1);
    if (second_colon != std::string::npos) {
      auto parent = read(dir + "/" + zone.substr(0, second_colon) + "/name");
      if (parent) s.name = trimmed(*parent) + "/" + s.name;
    }
    s.path = energy;
    if (auto max = read(base + "max_energy_range_uj")) {
      if (auto m = parse_sysfs_int(*max); m && *m > 0) s.max_uj = static_cast<uint64_t>(*m);
    }
    sensors->push_back(std::move(s));
  }
}

void detect_hwmon(const std::string& root, const ReadFileFn& read, std::vector<EnergySensor>* sensors) {
  const std::string dir = root_path(root, "/sys/class/hwmon");
  for (const std::string& hw : list_dir(dir, "hwmon")) {
    // Older kernels put the channel files under device/; look there only when the chip directory has none.
    const size_t found_before = sensors->size();
    for (const std::string& base : {dir + "/" + hw + "/", dir + "/" + hw + "/device/"}) {
      if (sensors->size() > found_before) break;
      auto chip_name = read(dir + "/" + hw + "/name");
      const std::string chip = chip_name ? trimmed(*chip_name) : hw;
      auto label_of = [&](const std::string& prefix, const std::string& idx) {
        auto label = read(base + prefix + idx + "_label");
        return chip + " " + (label ? trimmed(*label) : prefix + idx);
      };
      for (const std::string& f : list_dir(base)) {
        if (!f.ends_with("_input")) continue;
        const bool power = f.rfind("power", 0) == 0;
        const bool energy = f.rfind("energy", 0) == 0;
        const bool volt = f.rfind("in", 0) == 0;
        if (!power && !energy && !volt) continue;
        const size_t prefix_len = power ? 5 : energy ? 6 : 2;
        const std::string idx = f.substr(prefix_len, f.size() - prefix_len - 6);
        if (idx.empty() || !parse_sysfs_int(idx)) continue;
        EnergySensor s;
        s.source = "hwmon";
        s.path = base + f;
        if (energy) {
          s.kind = EnergySensor::Kind::kCounter;  // µJ, accumulated in 64 bits by the driver (amd_energy)
          s.name = label_of("energy", idx);
        } else if (power) {
          s.kind = EnergySensor::Kind::kPower;  // µW
          s.name = label_of("power", idx);
        } else {
          // Voltage alone is not power; only channels with a matching current channel count.
          const std::string curr = base + "curr" + idx + "_input";
          if (!read(curr)) continue;
          s.kind = EnergySensor::Kind::kVoltCurrent;  // mV × mA = µW
          s.path2 = curr;
          s.name = label_of("in", idx);
        }
        if (!read(s.path)) continue;
        sensors->push_back(std::move(s));
      }
    }
  }
}

void detect_power_supply(const std::string& root, const ReadFileFn& read, std::vector<EnergySensor>* sensors,
                         std::vector<SkippedSensor>* skipped) {
  const std::string dir = root_path(root, "/sys/class/power_supply");
  for (const std::string& ps : list_dir(dir)) {
    const std::string base = dir + "/" + ps + "/";
    auto type = read(base + "type");
    if (!type || trimmed(*type) != "Battery") continue;  // mains and USB supplies do not say what we draw
    auto status = read(base + "status");
    const std::string st = status ? trimmed(*status) : "unknown";
    if (st != "Discharging") {
      skipped->push_back(
          {base + "status",
           "battery " + ps + " is '" + st + "', not discharging: its power is charge flow, not what the device draws"});
      continue;
    }
    EnergySensor s;
    s.source = "power_supply";
    s.name = ps;
    if (read(base + "power_now")) {
      s.kind = EnergySensor::Kind::kPower;  // µW
      s.path = base + "power_now";
    } else if (read(base + "voltage_now") && read(base + "current_now")) {
      s.kind = EnergySensor::Kind::kVoltCurrent;  // µV × µA = 1e-12 W
      s.path = base + "voltage_now";
      s.path2 = base + "current_now";
      s.scale = 1e-6;
    } else {
      skipped->push_back({base, "battery " + ps + " has neither power_now nor voltage_now and current_now"});
      continue;
    }
    sensors->push_back(std::move(s));
  }
}

// Marks the sensors whose sum is the total without double counting: one source family (RAPL, else
// hwmon, else battery); within RAPL psys alone if present, else packages plus dram (core and uncore
// are inside the package); within hwmon a board-input channel (Jetson VDD_IN) alone if present, else
// socket counters (amd_energy Esocket*, which contain the Ecore* ones) alone if present.
void mark_total(std::vector<EnergySensor>* sensors) {
  auto has = [&](std::string_view source) {
    for (const auto& s : *sensors)
      if (s.source == source) return true;
    return false;
  };
  const std::string family = has("rapl") ? "rapl" : has("hwmon") ? "hwmon" : "power_supply";
  bool psys = false, vdd_in = false, socket = false;
  for (const auto& s : *sensors) {
    if (s.source == "rapl" && s.name == "psys") psys = true;
    if (s.source == "hwmon" && s.name.ends_with(" VDD_IN")) vdd_in = true;
    if (s.source == "hwmon" && s.name.find(" Esocket") != std::string::npos) socket = true;
  }
  for (auto& s : *sensors) {
    if (s.source != family) continue;
    if (family == "rapl") {
      const bool package = s.name.rfind("package-", 0) == 0 && s.name.find('/') == std::string::npos;
      const bool dram = s.name == "dram" || s.name.ends_with("/dram");
      s.in_total = psys ? s.name == "psys" : (package || dram);
    } else if (family == "hwmon") {
      s.in_total = vdd_in ? s.name.ends_with(" VDD_IN") : socket ? s.name.find(" Esocket") != std::string::npos : true;
    } else {
      s.in_total = true;
    }
  }
}

}  // namespace

void detect_energy_sensors(const std::string& root, const ReadFileFn& read, std::vector<EnergySensor>* sensors,
                           std::vector<SkippedSensor>* skipped) {
  detect_rapl(root, read, sensors, skipped);
  detect_hwmon(root, read, sensors);
  detect_power_supply(root, read, sensors, skipped);
  mark_total(sensors);
}

}  // namespace edgellm
