// cairnctl: the command-line client. This minimal entry point carries only
// the offline commands (certs, proof, receipt, audit); the data-plane
// commands register themselves the same way.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app("cairnctl: use and audit a Cairn ledger.", "cairnctl");
  app.footer("Exit codes: 0 success (valid), 1 refused or failed (invalid), 2 usage error.");
  app.require_subcommand(1);
  cairn::cli::Action action;
  cairn::cli::RegisterCertsCommands(app, &action);
  cairn::cli::RegisterProofCommands(app, &action);
  cairn::cli::RegisterReceiptCommands(app, &action);
  cairn::cli::RegisterAuditCommand(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "cairnctl: " << e.what() << "\nRun 'cairnctl --help' for usage.\n";
    return 2;
  }
  return action ? action() : 2;
}
