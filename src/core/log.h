// Minimal leveled logging to stderr. Thread-safe (one write per message).
#pragma once

#include <cstdarg>

namespace edgellm {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kSilent = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();

// printf-style; a newline is appended.
void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace edgellm

#define EL_LOG_DEBUG(...) ::edgellm::log_message(::edgellm::LogLevel::kDebug, __VA_ARGS__)
#define EL_LOG_INFO(...) ::edgellm::log_message(::edgellm::LogLevel::kInfo, __VA_ARGS__)
#define EL_LOG_WARN(...) ::edgellm::log_message(::edgellm::LogLevel::kWarn, __VA_ARGS__)
#define EL_LOG_ERROR(...) ::edgellm::log_message(::edgellm::LogLevel::kError, __VA_ARGS__)
