// cairnctl: the command-line client for operators and auditors.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cairn/base/yaml_config.h"
#include "commands.h"
#include "data_commands.h"
#include "global_options.h"

namespace cairn::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& o) {
  app.add_option("--endpoint", o.endpoints,
                 "Node client address(es), host:port; repeat or comma-separate")
      ->envname("CAIRN_ENDPOINT")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--cert", o.credentials.cert_file, "Your certificate (PEM)")
      ->envname("CAIRN_CERT");
  app.add_option("--key", o.credentials.key_file, "Your private key (PEM)")->envname("CAIRN_KEY");
  app.add_option("--service-cert", o.credentials.service_cert_file,
                 "The service identity certificate (PEM) to pin")
      ->envname("CAIRN_SERVICE_CERT");
  app.add_flag("--json", o.json, "Print results as JSON");
  app.add_option("--timeout-ms", o.timeout_ms, "Deadline of each call, in milliseconds")
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}))
      ->capture_default_str();
}

int Main(int argc, char** argv) {
  CLI::App app("cairnctl: use and audit a Cairn ledger.", "cairnctl");
  app.footer(
      "Exit codes: 0 success (valid), 1 refused or failed (invalid), 2 usage error,\n"
      "3 no node reachable. Settings: flags, then CAIRN_* environment variables, then\n"
      "--config FILE (YAML, keys are flag names).");
  app.set_config("--config", "", "YAML file with default flag values");
  app.config_formatter(std::make_shared<base::YamlConfig>(&app));
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  GlobalOptions options;
  AddGlobalOptions(app, options);
  Action action;
  RegisterDataCommands(app, options, &action);
  RegisterCertsCommands(app, &action);
  RegisterProofCommands(app, &action);
  RegisterReceiptCommands(app, &action);
  RegisterAuditCommand(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "cairnctl: " << e.what() << "\nRun 'cairnctl --help' for usage.\n";
    return kExitUsage;
  }
  return action ? action() : kExitUsage;
}

}  // namespace cairn::cli

int main(int argc, char** argv) { return cairn::cli::Main(argc, argv); }
