#include "cli_common.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

namespace edgellm::cli {

int fail(int code, std::string_view message) {
  std::string line(message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "edgellm: error: %s\n", line.c_str());
  return code;
}

std::optional<UsageError> check_int(std::string_view flag, int64_t v, int64_t lo, int64_t hi, std::string_view what) {
  if (v >= lo && v <= hi) return std::nullopt;
  return UsageError{std::string(flag) + " " + std::to_string(v) + " is out of range: " + std::string(what) +
                    " must be between " + std::to_string(lo) + " and " + std::to_string(hi)};
}

std::optional<UsageError> check_float(std::string_view flag, double v, double lo, double hi, std::string_view what) {
  if (std::isfinite(v) && v >= lo && v <= hi) return std::nullopt;
  char buf[160];
  std::snprintf(buf, sizeof buf, " %g is out of range: %.*s must be between %g and %g", v,
                static_cast<int>(what.size()), what.data(), lo, hi);
  return UsageError{std::string(flag) + buf};
}

std::optional<UsageError> check_input_file(std::string_view flag, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string who = std::string(flag) + " '" + path + "'";
  if (path.empty()) return UsageError{std::string(flag) + ": no file given"};
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return UsageError{who + ": no such file"};
  if (fs::is_directory(st)) return UsageError{who + " is a directory, not a file"};
  if (!fs::is_regular_file(st)) return UsageError{who + " is not a regular file"};
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return UsageError{who + ": cannot read its size: " + ec.message()};
  if (size == 0) return UsageError{who + " is empty (0 bytes)"};
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    return UsageError{who + " cannot be opened for reading"};
  }
  return std::nullopt;
}

std::optional<GgmlType> parse_type(const std::string& name, std::string_view allowed) {
  std::optional<GgmlType> t = ggml_type_from_name(name);
  if (!t) return std::nullopt;
  const char* canonical = ggml_type_name(static_cast<uint32_t>(*t));
  if (canonical == nullptr) return std::nullopt;
  std::string_view rest = allowed;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (item == canonical) return t;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

size_t utf8_complete_prefix(std::string_view s) {
  const size_t n = s.size();
  // A sequence is at most 4 bytes: only a lead byte among the last 3 can start a cut character.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = 1;
    if ((c & 0xE0) == 0xC0) need = 2;
    else if ((c & 0xF0) == 0xE0) need = 3;
    else if ((c & 0xF8) == 0xF0) need = 4;
    return need > back ? n - back : n;
  }
  return n;
}

std::string human_bytes(uint64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

std::string human_count(uint64_t n) {
  char buf[32];
  const double v = static_cast<double>(n);
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2f B", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.2f K", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace edgellm::cli
