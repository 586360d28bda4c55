// cairnctl commands that talk to a node, registered on the top-level app.
// Each uses the SDK (cairn::client::Client), so it gets retries, leader
// redirects and the verified state. When one is parsed it stores what to run
// in *action (see commands.h); the action returns the exit code.
#pragma once

#include "global_options.h"

namespace cairn::cli {

// append, get, current, list, collections, status [TXID]
void RegisterDataCommands(CLI::App& app, GlobalOptions& options, Action* action);
// receipt get, checkpoint, consistency, identity
void RegisterProofQueryCommands(CLI::App& app, GlobalOptions& options, Action* action);
// users ..., nodes ..., transfer-leader, snapshot, cluster status
void RegisterAdminCommands(CLI::App& app, GlobalOptions& options, Action* action);

// Prints every node's role, term, indexes and lag; the exit code. The action
// of `cluster status`, `nodes status` and `status` without a TXID.
int RunClusterStatus(const GlobalOptions& options);
// cairnctl dr status (cmd_admin.cc).
int RunDrStatus(const GlobalOptions& options);

}  // namespace cairn::cli
