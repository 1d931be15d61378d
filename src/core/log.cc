#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <string>

namespace edgellm {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};
}

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }

void log_message(LogLevel level, const char* fmt, ...) {
  if (static_cast<int>(level) < g_level.load()) return;
  static const char* kNames[] = {"debug", "info", "warning", "error"};
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::string line = std::string("edgellm ") + kNames[static_cast<int>(level)] + ": " + buf + "\n";
  fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace edgellm
