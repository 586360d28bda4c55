// Options every cairnctl command that talks to a node shares: where the
// service is and who the caller is. Each comes from a flag, an environment
// variable or the YAML file named by --config (in that order of precedence).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cairn/client/channel.h"
#include "commands.h"

namespace cairn::cli {

// cairnctl's documented exit codes.
enum ExitCode : int {
  kExitOk = 0,           // success; for verify commands: valid
  kExitFailed = 1,       // the operation was refused or failed; for verify commands: invalid
  kExitUsage = 2,        // bad flags, arguments or config
  kExitUnavailable = 3,  // no node could be reached in time
};

struct GlobalOptions {
  std::vector<std::string> endpoints{"127.0.0.1:7100"};
  client::Credentials credentials;
  bool json = false;
  int64_t timeout_ms = 10000;
};

// Adds --endpoint, --cert, --key, --service-cert, --json, --timeout-ms to `app`.
void AddGlobalOptions(CLI::App& app, GlobalOptions& options);

}  // namespace cairn::cli
