// Shared helpers for tests: where the shared test data lives, temporary files.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgellm::test {

// The shared/ folder beside the repository (override with EDGELLM_SHARED_DIR), or "" if absent.
std::string shared_dir();
// Path of `rel` inside shared/; "" if shared/ is absent.
std::string shared_path(const std::string& rel);
// True when EDGELLM_REQUIRE_SHARED=1 (CI): missing shared data is then a failure, not a skip.
bool shared_required();
// A fresh temporary directory for this test process (removed at exit).
std::string temp_dir();
// The built edgellm binary.
std::string cli_path();

// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

// One run of the edgellm binary: exit code (-1 if it did not exit normally) and what it printed.
struct CliResult {
  int code = -1;
  std::string out, err;
};
// Runs cli_path() with `args`; `input` is its standard input (a file, so stdin is not a terminal).
CliResult run_cli(const std::vector<std::string>& args, const std::string& input = "");

}  // namespace edgellm::test

// Skips the test loudly when ../shared is missing (fails instead under EDGELLM_REQUIRE_SHARED=1).
#define EL_REQUIRE_SHARED(rel)                                                                  \
  do {                                                                                          \
    if (::edgellm::test::shared_path(rel).empty()) {                                            \
      if (::edgellm::test::shared_required()) FAIL() << "shared test data missing: " << (rel);  \
      GTEST_SKIP() << "SKIPPED LOUDLY: shared test data not found (" << (rel)                   \
                   << "); set EDGELLM_SHARED_DIR";                                              \
    }                                                                                           \
  } while (0)
