// Options every cairnctl command that talks to a node shares: where the
// service is, who the caller is, how long to try, and the verified state.
// Each comes from a flag, else a CAIRN_* environment variable, else the YAML
// file named by --config (keys are the flag names), in that order.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cairn/client/client.h"
#include "commands.h"

namespace cairn::cli {

// cairnctl's documented exit codes (docs/cli.md).
inline constexpr int kExitOk = 0;           // success; for verify commands: valid
inline constexpr int kExitFailed = 1;       // refused or failed; for verify commands: invalid
inline constexpr int kExitUsage = 2;        // bad flags, arguments or config
inline constexpr int kExitUnavailable = 3;  // no node could be reached in time

struct GlobalOptions {
  std::vector<std::string> endpoints{"127.0.0.1:7100"};
  client::Credentials credentials;
  bool json = false;
  // Bound on each call the command makes, retries on other nodes included.
  int64_t timeout_ms = 10000;
  std::string state_file;            // verified state kept across runs
  bool no_verify = false;            // opt out of verified state
};

// Adds the global flags to `app` (see docs/cli.md).
void AddGlobalOptions(CLI::App& app, GlobalOptions& options);

// A Client for the global options.
absl::StatusOr<std::unique_ptr<client::Client>> MakeClient(const GlobalOptions& options);

}  // namespace cairn::cli
