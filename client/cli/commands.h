// cairnctl commands that need no server: identities (certs), Merkle proofs,
// receipt verification and ledger audit. Each Register function adds its
// subcommands to `app`; when one is parsed, it stores what to run in *action,
// and the action returns cairnctl's exit code: 0 success (for verify
// commands: valid), 1 refused, failed or invalid (the reason is on stderr),
// 2 usage error (bad flags or arguments). The global options (--json, and
// --service-cert as the default of receipt verify and audit) are read when
// the action runs, after parsing; `options` must outlive it.
#pragma once

#include <functional>

namespace CLI {
class App;
}  // namespace CLI

namespace cairn::cli {

struct GlobalOptions;

// What a parsed command runs: prints its output, returns the exit code.
using Action = std::function<int()>;

// certs create-service | create-node | create-user | fingerprint
void RegisterCertsCommands(CLI::App& app, const GlobalOptions& options, Action* action);
// proof root | inclusion | consistency | verify-inclusion | verify-consistency
void RegisterProofCommands(CLI::App& app, const GlobalOptions& options, Action* action);
// receipt verify
void RegisterReceiptCommands(CLI::App& app, const GlobalOptions& options, Action* action);
// audit
void RegisterAuditCommand(CLI::App& app, const GlobalOptions& options, Action* action);
// dr verify: audits a paired-region archive offline (storage/archive_layout.h).
void RegisterDrVerifyCommand(CLI::App& app, const GlobalOptions& options, Action* action);
// recovery share: an operator's share of a private ledger's recovery key.
void RegisterRecoveryShareCommand(CLI::App& app, const GlobalOptions& options, Action* action);

}  // namespace cairn::cli
