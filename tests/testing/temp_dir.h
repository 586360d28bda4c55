// A temporary directory removed (with its contents) when the object dies.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cairn/base/check.h"

namespace cairn::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/cairn-test-XXXXXX";
    CAIRN_CHECK(::mkdtemp(tmpl.data()) != nullptr) << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  // Set CAIRN_KEEP_TEST_DIRS=1 to keep the directory (logs, data) for debugging.
  ~TempDir() {
    const char* keep = std::getenv("CAIRN_KEEP_TEST_DIRS");
    if (keep != nullptr && *keep == '1') {
      std::fprintf(stderr, "kept test directory %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cairn::testing
