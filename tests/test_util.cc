#include "test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace edgellm::test {

std::string shared_dir() {
  const char* env = std::getenv("EDGELLM_SHARED_DIR");
  std::string dir = env != nullptr && *env != '\0' ? env : EDGELLM_DEFAULT_SHARED;
  return std::filesystem::is_directory(dir + "/testdata") ? dir : std::string();
}

std::string shared_path(const std::string& rel) {
  std::string d = shared_dir();
  if (d.empty()) return "";
  std::string p = d + "/" + rel;
  return std::filesystem::exists(p) ? p : std::string();
}

bool shared_required() {
  const char* env = std::getenv("EDGELLM_REQUIRE_SHARED");
  return env != nullptr && std::string(env) == "1";
}

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "edgellm-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    path = p != nullptr ? p : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    if (path != "/tmp") std::filesystem::remove_all(path, ec);
  }
};
}  // namespace

std::string temp_dir() {
  static TempDir dir;
  return dir.path;
}

std::string cli_path() { return std::string(EDGELLM_BINARY_DIR) + "/bin/edgellm"; }

}  // namespace edgellm::test
