// Runs the built cairnctl against a FakeCluster as a given user.
#pragma once

#include <string>
#include <vector>

#include "fake_cluster.h"
#include "testing/process.h"

namespace cairn::testing {

inline std::string CairnctlBinary() { return BinaryPath("client/cairnctl"); }

// cairnctl `args` with the user's credentials and the cluster's endpoints
// (or `endpoints`), plus a short retry bound so error paths are quick.
inline CommandResult Cairnctl(FakeCluster& cluster, const std::vector<std::string>& args,
                              const std::string& user = "admin", const std::string& stdin_data = "",
                              std::vector<std::string> endpoints = {}) {
  std::vector<std::string> argv = {CairnctlBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const std::string& flag : cluster.CairnctlFlags(user, std::move(endpoints))) {
    argv.push_back(flag);
  }
  bool bounded = false;
  for (const std::string& a : args) bounded = bounded || a.rfind("--timeout-ms", 0) == 0;
  if (!bounded) argv.push_back("--timeout-ms=5000");
  return RunCommand(argv, stdin_data);
}

}  // namespace cairn::testing
