#include "bench_options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "model/presets.h"

namespace edgellm::cli {

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    // Spaces around items ("1, 2") are forgiven; anything else must be exact.
    const size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    items.push_back(b == std::string::npos ? std::string() : item.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::optional<UsageError> parse_int_list(const std::string& flag, const std::string& text, int64_t lo, int64_t hi,
                                         const std::string& what, std::vector<int64_t>* out) {
  out->clear();
  for (const std::string& item : split_commas(text)) {
    if (item.empty()) return UsageError{flag + " '" + text + "': empty item in the list (write e.g. 1,2)"};
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (end != item.c_str() + item.size() || errno == ERANGE) {
      return UsageError{flag + " '" + item + "' is not a whole number (" + what + ")"};
    }
    if (auto e = check_int(flag, v, lo, hi, what)) return e;
    if (std::find(out->begin(), out->end(), v) == out->end()) out->push_back(v);
  }
  return std::nullopt;
}

std::optional<double> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double unit = 1;
  std::string number = text;
  switch (text.back()) {
    case 's':
      unit = 1;
      number.pop_back();
      break;
    case 'm':
      unit = 60;
      number.pop_back();
      break;
    case 'h':
      unit = 3600;
      number.pop_back();
      break;
    default:
      break;
  }
  if (number.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return std::nullopt;
  const double s = v * unit;
  if (!(s > 0) || s > 24 * 3600) return std::nullopt;
  return s;
}

std::optional<UsageError> parse_bench_flags(const BenchFlags& f, BenchOptions* o) {
  if (!f.model.empty() && !f.preset.empty()) return UsageError{"-m and --preset exclude each other"};
  if (!f.model.empty() && !f.types.empty()) return UsageError{"--type applies to --preset, not to -m"};
  o->models.clear();
  if (!f.model.empty()) {
    for (const std::string& m : split_commas(f.model)) {
      if (m.empty()) return UsageError{"-m '" + f.model + "': empty item in the list (write e.g. a.gguf,b.gguf)"};
      if (auto e = check_input_file("-m", m)) return e;
      if (std::find(o->models.begin(), o->models.end(), m) == o->models.end()) o->models.push_back(m);
    }
  } else {
    o->preset = f.preset.empty() ? "llama3.2-1b" : f.preset;
    if (find_preset(o->preset) == nullptr) {
      return UsageError{"unknown preset '" + o->preset + "' (choose from: " + preset_names() + ")"};
    }
    o->types.clear();
    for (const std::string& t : split_commas(f.types.empty() ? "q4_0" : f.types)) {
      const std::optional<GgmlType> type = parse_type(t, kBenchTypes);
      if (!type) {
        return UsageError{"unknown or unsupported type '" + t + "' (choose from: " + kBenchTypes + ")"};
      }
      const std::string canonical = ggml_type_name(static_cast<uint32_t>(*type));
      if (std::find(o->types.begin(), o->types.end(), canonical) == o->types.end()) o->types.push_back(canonical);
    }
  }
  std::vector<int64_t> list;
  o->threads = {0};
  if (!f.threads.empty()) {
    if (auto e = parse_int_list("-t", f.threads, 1, kMaxThreads, "threads", &list)) return e;
    o->threads.assign(list.begin(), list.end());
  }
  if (auto e = parse_int_list("-p", f.n_prompt, 0, kMaxTokens, "the prompt length", &o->n_prompt)) return e;
  if (auto e = parse_int_list("-n", f.n_gen, 0, kMaxTokens, "the number of decode steps", &o->n_gen)) return e;
  for (int64_t p : o->n_prompt) {
    for (int64_t n : o->n_gen) {
      if (p == 0 && n == 0) return UsageError{"-p 0 with -n 0 measures nothing: give a prompt or decode length"};
      if (p + n + 1 > kMaxContext) return UsageError{"-p plus -n exceed the largest context"};
    }
  }
  if (auto e = check_int("--reps", f.reps, 1, 1000, "repetitions")) return e;
  o->reps = static_cast<int>(f.reps);
  o->seed = f.seed;
  o->json = f.json;
  o->csv = f.csv;
  o->html = f.html;
  if (!f.compare.empty() && f.compare != "llamacpp") {
    return UsageError{"--compare '" + f.compare + "': the only peer is 'llamacpp'"};
  }
  o->compare_llamacpp = f.compare == "llamacpp";
  o->duration_s = 0;
  if (!f.duration.empty()) {
    const std::optional<double> d = parse_duration(f.duration);
    if (!d) return UsageError{"--duration '" + f.duration + "' is not a duration up to 24h (write e.g. 90s, 10m, 1h)"};
    o->duration_s = *d;
  }
  o->predict = f.predict;
  if (f.grid_intensity_set) {
    if (auto e = check_float("--grid-intensity", f.grid_intensity, 0, 5000, "gCO2e per kWh")) return e;
    o->grid_intensity = f.grid_intensity;
  }
  return std::nullopt;
}

}  // namespace edgellm::cli
