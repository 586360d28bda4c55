// cairnctl offline verification commands: proof, receipt verify, audit.
#include <CLI/CLI.hpp>

#include "commands.h"

namespace cairn::cli {

void RegisterProofCommands(CLI::App&, Action*) {}
void RegisterReceiptCommands(CLI::App&, Action*) {}
void RegisterAuditCommand(CLI::App&, Action*) {}

}  // namespace cairn::cli
