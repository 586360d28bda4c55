// cairnctl: the command-line client for operators and auditors. Commands
// that talk to a node use the SDK (data_commands.h); the offline ones
// (certificates, proofs, receipt verification, audit) are in commands.h.
#include <grpc/support/log.h>
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cairn/base/yaml_config.h"
#include "commands.h"
#include "data_commands.h"
#include "global_options.h"

namespace cairn::cli {
namespace {

// The YAML config file, except for settings an environment variable gives:
// CLI11 would let the file win over the environment; cairnctl's documented
// order is flags, then CAIRN_* variables, then the file.
class EnvironmentFirstConfig : public base::YamlConfig {
 public:
  explicit EnvironmentFirstConfig(const CLI::App* app) : base::YamlConfig(app), app_(app) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items = base::YamlConfig::from_config(input);
    std::erase_if(items, [this](const CLI::ConfigItem& item) {
      const CLI::Option* option = app_->get_option_no_throw("--" + item.name);
      if (option == nullptr || option->get_envname().empty()) return false;
      const char* value = std::getenv(option->get_envname().c_str());
      return value != nullptr && *value != '\0';
    });
    return items;
  }

 private:
  const CLI::App* app_;
};

constexpr char kFooter[] =
    "Exit codes: 0 success (for verify commands: valid), 1 refused or failed (invalid),\n"
    "2 usage error, 3 no node reachable in time.\n"
    "Settings: flags, then CAIRN_* environment variables (CAIRN_ENDPOINT, CAIRN_CERT,\n"
    "CAIRN_KEY, CAIRN_SERVICE_CERT, CAIRN_STATE_FILE, ...), then --config FILE (YAML,\n"
    "keys are flag names). Every command has --help; see docs/cli.md.";

}  // namespace

// gRPC's own log lines (a failed handshake, once per connection attempt)
// are noise at a terminal: the error cairnctl reports says what failed.
// GRPC_VERBOSITY, gRPC's own switch, brings them back.
void QuietGrpcLog(gpr_log_func_args*) {}

int Main(int argc, char** argv) {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(QuietGrpcLog);
  CLI::App app("cairnctl: use, administer and audit a Cairn ledger.", "cairnctl");
  app.footer(kFooter);
  // CLI11 reads the config file before the environment, so CAIRN_CONFIG is
  // applied here, as the default file name (which must then exist).
  const char* config_env = std::getenv("CAIRN_CONFIG");
  const bool config_from_env = config_env != nullptr && *config_env != '\0';
  app.set_config("--config", config_from_env ? config_env : "",
                 "YAML file with default flag values (env: CAIRN_CONFIG)", config_from_env);
  app.config_formatter(std::make_shared<EnvironmentFirstConfig>(&app));
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  GlobalOptions options;
  AddGlobalOptions(app, options);
  Action action;
  RegisterDataCommands(app, options, &action);
  // The offline receipt commands first: "receipt get" joins their "receipt".
  RegisterReceiptCommands(app, options, &action);
  RegisterProofQueryCommands(app, options, &action);
  RegisterAdminCommands(app, options, &action);
  RegisterCertsCommands(app, options, &action);
  RegisterProofCommands(app, options, &action);
  RegisterAuditCommand(app, options, &action);
  RegisterDrVerifyCommand(app, options, &action);
  RegisterRecoveryShareCommand(app, options, &action);
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

int main(int argc, char** argv) {
  // gRPC's own threads (a TLS handshake still finishing on a closed channel)
  // can outlive main; OpenSSL's exit-time cleanup would free what they are
  // using. The process is ending either way, so OpenSSL skips that cleanup.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  return cairn::cli::Main(argc, argv);
}
