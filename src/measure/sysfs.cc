#include "measure/sysfs.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

namespace edgellm {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls fn(line) for each line of text (without the newline).
template <class F>
void for_each_line(std::string_view text, F&& fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    fn(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Splits "key<TAB>: value" into trimmed key and value; false when there is no colon.
bool split_key_value(std::string_view line, std::string_view* key, std::string_view* value) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  *key = trim(line.substr(0, colon));
  *value = trim(line.substr(colon + 1));
  return true;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::error(path + ": " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Status::error(path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (16u << 20)) break;  // sysfs/proc files are small; never slurp a huge file by mistake
  }
  ::close(fd);
  return out;
}

std::string root_path(const std::string& root, const std::string& abs_path) {
  if (root.empty() || root == "/") return abs_path;
  std::string r = root;
  while (!r.empty() && r.back() == '/') r.pop_back();
  return r + abs_path;
}

std::optional<int64_t> parse_sysfs_int(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::vector<std::string> list_dir(const std::string& dir, std::string_view prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<CpuTimes> parse_proc_stat(std::string_view text) {
  std::optional<CpuTimes> found;
  Status error;
  for_each_line(text, [&](std::string_view line) {
    if (found || !error.is_ok() || line.rfind("cpu ", 0) != 0) return;
    std::vector<std::string> f = split_words(line.substr(4));
    if (f.size() < 4) {
      error = Status::error("/proc/stat: aggregate cpu line has " + std::to_string(f.size()) +
                            " fields, expected at least 4");
      return;
    }
    uint64_t v[8] = {};
    for (size_t i = 0; i < f.size() && i < 8; ++i) {
      auto [ptr, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), v[i]);
      if (ec != std::errc() || ptr != f[i].data() + f[i].size()) {
        error = Status::error("/proc/stat: cpu field " + std::to_string(i + 1) + " is not a number: '" + f[i] + "'");
        return;
      }
    }
    CpuTimes t;
    // user nice system idle iowait irq softirq steal; guest time is already counted inside user.
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    t.idle = v[3] + v[4];
    found = t;
  });
  if (!error.is_ok()) return error;
  if (!found) return Status::error("/proc/stat: no aggregate 'cpu ' line");
  return *found;
}

Result<CpuTimes> read_proc_stat(const std::string& root, const ReadFileFn& read) {
  EL_ASSIGN_OR_RETURN(std::string text, read(root_path(root, "/proc/stat")));
  return parse_proc_stat(text);
}

double process_cpu_seconds() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double other_cpu_share(const CpuTimes& before, const CpuTimes& after, double own_cpu_seconds, double ticks_per_second) {
  if (after.total() <= before.total() || ticks_per_second <= 0) return 0;
  const double capacity_s = static_cast<double>(after.total() - before.total()) / ticks_per_second;
  const double busy_s =
      after.busy > before.busy ? static_cast<double>(after.busy - before.busy) / ticks_per_second : 0.0;
  return std::clamp((busy_s - own_cpu_seconds) / capacity_s, 0.0, 1.0);
}

CpuInfo parse_cpuinfo(std::string_view text) {
  CpuInfo info;
  std::set<std::pair<std::string, std::string>> cores;  // (physical id, core id)
  std::string phys, core, arm_model, hardware;
  bool have_flags = false;
  auto end_block = [&] {
    if (!core.empty()) cores.emplace(phys, core);
    phys.clear();
    core.clear();
  };
  for_each_line(text, [&](std::string_view line) {
    if (trim(line).empty()) {
      end_block();
      return;
    }
    std::string_view key, value;
    if (!split_key_value(line, &key, &value)) return;
    if (key == "processor") {
      ++info.n_logical;
    } else if (key == "model name" && info.model.empty()) {
      info.model = std::string(value);
    } else if (key == "Model" && arm_model.empty()) {
      arm_model = std::string(value);
    } else if (key == "Hardware" && hardware.empty()) {
      hardware = std::string(value);
    } else if (key == "physical id") {
      phys = std::string(value);
    } else if (key == "core id") {
      core = std::string(value);
    } else if ((key == "flags" || key == "Features") && !have_flags) {
      info.flags = split_words(value);
      have_flags = true;
    }
  });
  end_block();
  if (info.model.empty()) info.model = !arm_model.empty() ? arm_model : hardware;
  info.n_physical = cores.empty() ? info.n_logical : static_cast<int>(cores.size());
  return info;
}

Result<CpuInfo> read_cpuinfo(const std::string& root, const ReadFileFn& read) {
  EL_ASSIGN_OR_RETURN(std::string text, read(root_path(root, "/proc/cpuinfo")));
  return parse_cpuinfo(text);
}

uint64_t parse_cache_size(std::string_view text) {
  text = trim(text);
  if (text.empty()) return 0;
  uint64_t mult = 1;
  switch (text.back()) {
    case 'K':
    case 'k':
      mult = 1ull << 10;
      break;
    case 'M':
    case 'm':
      mult = 1ull << 20;
      break;
    case 'G':
    case 'g':
      mult = 1ull << 30;
      break;
    default:
      break;
  }
  if (mult != 1) text.remove_suffix(1);
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return 0;
  return v * mult;
}

Result<CacheSizes> read_cache_sizes(const std::string& root, const ReadFileFn& read) {
  const std::string dir = root_path(root, "/sys/devices/system/cpu/cpu0/cache");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::error(dir + ": no cache directory");
  CacheSizes c;
  for (const std::string& index : list_dir(dir, "index")) {
    const std::string base = dir + "/" + index + "/";
    auto level = read(base + "level");
    auto type = read(base + "type");
    auto size = read(base + "size");
    if (!level || !type || !size) continue;
    auto lv = parse_sysfs_int(*level);
    std::string_view t = trim(*type);
    uint64_t bytes = parse_cache_size(*size);
    if (!lv || bytes == 0 || t == "Instruction") continue;
    if (*lv == 1 && t == "Data") c.l1d = bytes;
    if (*lv == 2) c.l2 = bytes;
    if (*lv == 3) c.l3 = bytes;
  }
  return c;
}

std::vector<ThermalZone> read_thermal_zones(const std::string& root, const ReadFileFn& read) {
  std::vector<ThermalZone> zones;
  const std::string dir = root_path(root, "/sys/class/thermal");
  for (const std::string& name : list_dir(dir, "thermal_zone")) {
    auto temp = read(dir + "/" + name + "/temp");
    if (!temp) continue;
    auto milli = parse_sysfs_int(*temp);
    if (!milli) continue;
    ThermalZone z;
    z.name = name;
    if (auto type = read(dir + "/" + name + "/type")) z.type = std::string(trim(*type));
    z.celsius = static_cast<double>(*milli) / 1000.0;
    zones.push_back(std::move(z));
  }
  return zones;
}

}  // namespace edgellm
