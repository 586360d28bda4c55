// Runs the built cairnctl binary (from $CAIRN_BIN_DIR, set by cairn_test) and
// captures its exit code, stdout and stderr, for command-line tests.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cairn/base/check.h"

extern char** environ;

namespace cairn::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string CairnctlPath() {
  const char* dir = std::getenv("CAIRN_BIN_DIR");
  CAIRN_CHECK(dir != nullptr && *dir) << "CAIRN_BIN_DIR is not set (run the test through ctest)";
  return std::string(dir) + "/client/cairnctl";
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cairnctl args...` with stdout and stderr redirected to files in `scratch_dir`.
inline CliResult RunCairnctl(const std::vector<std::string>& args, const std::string& scratch_dir) {
  const std::string bin = CairnctlPath();
  const std::string out_path = scratch_dir + "/.stdout";
  const std::string err_path = scratch_dir + "/.stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(bin.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  CAIRN_CHECK(rc == 0) << "posix_spawn " << bin << ": " << rc;
  int status = 0;
  CAIRN_CHECK(waitpid(pid, &status, 0) == pid) << "waitpid";
  CliResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = Slurp(out_path);
  result.err = Slurp(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return result;
}

}  // namespace cairn::testing
