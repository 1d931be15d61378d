// Shared pieces of the edgellm command-line tool: exit codes, one-line errors, argument checks,
// small formatting helpers. Checks return a UsageError (exit code 2) with the message to print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernels/ggml_type.h"

namespace edgellm::cli {

inline constexpr const char* kVersion = "0.1.0";

// Exit status: 0 success, 1 a runtime failure (a file that does not load, a run that fails),
// 2 a usage error (a bad flag value, a missing or unusable input file, an unknown preset or type).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

// Limits shared by the commands; generous, but they keep absurd values from reaching allocations.
inline constexpr int64_t kMaxThreads = 512;
inline constexpr int64_t kMaxContext = int64_t{1} << 24;
inline constexpr int64_t kMaxTokens = int64_t{1} << 24;

// An argument problem: `message` is printed after "edgellm: error: ".
struct UsageError {
  std::string message;
};

// Prints "edgellm: error: <message>" as one line on stderr (newlines inside become spaces) and
// returns `code`, so commands can `return fail(kExitUsage, ...)`.
int fail(int code, std::string_view message);

// Range checks: nullopt when lo <= v <= hi, else an error naming the flag, the value and the range.
std::optional<UsageError> check_int(std::string_view flag, int64_t v, int64_t lo, int64_t hi,
                                    std::string_view what);
std::optional<UsageError> check_float(std::string_view flag, double v, double lo, double hi,
                                      std::string_view what);
// `path` must be an existing, non-empty regular file (or a symlink to one).
std::optional<UsageError> check_input_file(std::string_view flag, const std::string& path);
// Parses a weight type name from `allowed` (comma-separated, e.g. "f32,f16,q8_0").
std::optional<GgmlType> parse_type(const std::string& name, std::string_view allowed);

// Number of leading bytes of `s` made of complete UTF-8 sequences: a multi-byte character cut at
// the end is held back so a streaming printer never splits it. Invalid bytes count as complete.
size_t utf8_complete_prefix(std::string_view s);

// "812.4 MiB", "1.24 GiB".
std::string human_bytes(uint64_t bytes);
// "1.24 B", "15.2 M".
std::string human_count(uint64_t n);

}  // namespace edgellm::cli
