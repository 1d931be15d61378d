// Readers for /proc and /sys files. Every reader takes the file-system root ("/" normally, a fixture
// tree in tests) and a file reader that tests can replace to simulate errors such as EACCES, which
// root (CI) never sees from real permission bits.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgellm {

// Reads a whole (small) file as text; the error names the path and the errno text.
using ReadFileFn = std::function<Result<std::string>(const std::string& path)>;
Result<std::string> read_text_file(const std::string& path);

// Joins a root and an absolute path: root_path("/tmp/fx", "/proc/stat") == "/tmp/fx/proc/stat".
std::string root_path(const std::string& root, const std::string& abs_path);

// The decimal integer in a sysfs value such as "123456\n" (surrounding whitespace allowed);
// nullopt for empty, malformed or out-of-range text.
std::optional<int64_t> parse_sysfs_int(std::string_view text);

// Names of the entries of `dir` starting with `prefix`, sorted; empty if dir cannot be listed.
std::vector<std::string> list_dir(const std::string& dir, std::string_view prefix = "");

// --- /proc/stat -------------------------------------------------------------------------------
// The aggregate "cpu" line in clock ticks (USER_HZ), summed over all CPUs.
struct CpuTimes {
  uint64_t busy = 0;  // user + nice + system + irq + softirq + steal (guest is already inside user)
  uint64_t idle = 0;  // idle + iowait
  uint64_t total() const { return busy + idle; }
};
// Parses the text of /proc/stat; the error names the line or field that is malformed.
Result<CpuTimes> parse_proc_stat(std::string_view text);
Result<CpuTimes> read_proc_stat(const std::string& root = "/", const ReadFileFn& read = read_text_file);

// CPU time (user + system, seconds) this process has used so far, from getrusage(RUSAGE_SELF).
double process_cpu_seconds();

// Share of the machine's total CPU capacity (all CPUs, 0..1) used by OTHER processes between two
// /proc/stat samples, given the CPU seconds this process used over the same interval.
// E.g. 0.5 on a 2-CPU machine means another process kept one CPU busy. Returns 0 when the samples
// span no time; clamped to [0, 1]. ticks_per_second is sysconf(_SC_CLK_TCK) (USER_HZ, usually 100).
double other_cpu_share(const CpuTimes& before, const CpuTimes& after, double own_cpu_seconds,
                       double ticks_per_second = 100.0);

// --- /proc/cpuinfo ----------------------------------------------------------------------------
struct CpuInfo {
  std::string model;               // "model name" (x86) or "Model"/"Hardware" (ARM); "" if absent
  int n_logical = 0;               // number of "processor" entries
  int n_physical = 0;              // distinct (physical id, core id) pairs; n_logical when unknown
  std::vector<std::string> flags;  // "flags" (x86) or "Features" (ARM) of the first processor
};
CpuInfo parse_cpuinfo(std::string_view text);
Result<CpuInfo> read_cpuinfo(const std::string& root = "/", const ReadFileFn& read = read_text_file);

// --- caches: /sys/devices/system/cpu/cpu0/cache/index*/{level,type,size} -------------------------
struct CacheSizes {
  uint64_t l1d = 0, l2 = 0, l3 = 0;  // bytes per instance, as seen by cpu0; 0 when unknown
};
// Parses sysfs sizes such as "48K", "2048K", "32M", "1G" or plain bytes; 0 for malformed text.
uint64_t parse_cache_size(std::string_view text);
// An error only when the cache directory is missing; unreadable index entries are skipped.
Result<CacheSizes> read_cache_sizes(const std::string& root = "/", const ReadFileFn& read = read_text_file);

// --- thermal: /sys/class/thermal/thermal_zone*/{type,temp} ----------------------------------------
struct ThermalZone {
  std::string name;    // thermal_zone3
  std::string type;    // "x86_pkg_temp", "cpu-thermal", ... ("" if unreadable)
  double celsius = 0;  // temp is in millidegrees Celsius
};
// Zones whose temp is readable, sorted by name; empty when the machine exposes none (most VMs).
std::vector<ThermalZone> read_thermal_zones(const std::string& root = "/", const ReadFileFn& read = read_text_file);

}  // namespace edgellm
