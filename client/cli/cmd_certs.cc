// cairnctl certs: create the service identity, node and user certificates,
// and print a certificate's fingerprint. Keys are written 0600 and nothing is
// ever overwritten; a command that fails leaves no file (or directory) behind.
// With --json the result is one JSON document on stdout (the fingerprint and
// the files written), and a failure (exit 1) also prints {"error","message"}
// there; usage errors (exit 2) are on stderr only, as for every command.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cairn/ledger/identity.h"
#include "cli_util.h"
#include "commands.h"
#include "global_options.h"

namespace cairn::cli {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

// Reports `status`: on stderr always; with --json a failure (not a usage
// error) is also an {"error","message"} object on stdout.
int Fail(int code, const absl::Status& status, bool json) {
  if (json && code == kFailed) {
    PrintJson({{"error", CodeName(status.code())}, {"message", std::string(status.message())}});
  }
  std::cerr << "cairnctl: " << status.message() << "\n";
  return code;
}

// Creates `dir` (and missing parents). Returns the directories it created,
// deepest last, so a failed command can remove exactly those again.
absl::StatusOr<std::vector<std::string>> MakeDirs(const std::string& dir) {
  std::vector<std::string> created;
  std::filesystem::path path;
  for (const auto& part : std::filesystem::path(dir)) {
    path /= part;
    std::error_code ec;
    if (std::filesystem::create_directory(path, ec)) {
      created.push_back(path.string());
    } else if (ec || !std::filesystem::is_directory(path)) {
      for (auto it = created.rbegin(); it != created.rend(); ++it) {
        std::filesystem::remove(*it, ec);
      }
      return absl::FailedPreconditionError(
          absl::StrCat("--out-dir ", dir, ": cannot create ", path.string(), ": ", ec.message()));
    }
  }
  return created;
}

// Writes <out_dir>/<name>.{key,pem}; on failure removes directories it made.
int WriteIdentity(const std::string& out_dir, const std::string& name,
                  const ledger::PrivateKey& key, const ledger::Certificate& cert, bool json) {
  absl::StatusOr<std::vector<std::string>> created = MakeDirs(out_dir);
  if (!created.ok()) return Fail(kFailed, created.status(), json);
  absl::Status written = ledger::WriteKeyAndCertificate(out_dir, name, key, cert);
  if (!written.ok()) {
    std::error_code ec;
    for (auto it = created->rbegin(); it != created->rend(); ++it) std::filesystem::remove(*it, ec);
    return Fail(kFailed, written, json);
  }
  const std::string cert_file = absl::StrCat(out_dir, "/", name, ".pem");
  const std::string key_file = absl::StrCat(out_dir, "/", name, ".key");
  std::cerr << "wrote " << cert_file << " and " << key_file << "\n";
  if (json) {
    PrintJson(
        {{"fingerprint", cert.Fingerprint()}, {"cert_file", cert_file}, {"key_file", key_file}});
  } else {
    std::cout << cert.Fingerprint() << "\n";
  }
  return kOk;
}

struct ServiceFiles {
  ledger::Certificate cert;
  ledger::PrivateKey key;
};

absl::StatusOr<ServiceFiles> ReadService(const std::string& dir) {
  absl::StatusOr<ledger::Certificate> cert = ledger::ReadCertificateFile(dir + "/service.pem");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<ledger::PrivateKey> key = ledger::ReadPrivateKeyFile(dir + "/service.key");
  if (!key.ok()) return key.status();
  return ServiceFiles{std::move(*cert), std::move(*key)};
}

// A user's name also names its files, so it must be a plain file name.
bool IsPlainFileName(absl::string_view name) {
  if (name.empty() || name.size() > ledger::kCommonNameBytesMax || name[0] == '.') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

struct CreateServiceArgs {
  std::string out_dir;
  std::string cn = "Cairn service identity";
  int days = 3650;
};

int CreateService(const CreateServiceArgs& args, bool json) {
  absl::StatusOr<ledger::PrivateKey> key = ledger::PrivateKey::Generate();
  if (!key.ok()) return Fail(kFailed, key.status(), json);
  ledger::ServiceCertificateOptions options;
  options.common_name = args.cn;
  options.validity_days = args.days;
  absl::StatusOr<ledger::Certificate> cert = ledger::CreateServiceCertificate(*key, options);
  if (!cert.ok()) return Fail(kUsage, cert.status(), json);
  return WriteIdentity(args.out_dir, "service", *key, *cert, json);
}

struct CreateNodeArgs {
  std::string service_dir;
  uint64_t node_id = 0;
  std::string out_dir;
  std::vector<std::string> ips = {"127.0.0.1"};
  std::vector<std::string> dns = {"localhost"};
  int days = 365;
};

int CreateNode(const CreateNodeArgs& args, bool json) {
  if (args.node_id == 0) {
    return Fail(kUsage, absl::InvalidArgumentError("--node-id: must be > 0"), json);
  }
  absl::StatusOr<ServiceFiles> service = ReadService(args.service_dir);
  if (!service.ok()) return Fail(kFailed, service.status(), json);
  absl::StatusOr<ledger::PrivateKey> key = ledger::PrivateKey::Generate();
  if (!key.ok()) return Fail(kFailed, key.status(), json);
  ledger::NodeCertificateOptions options;
  options.node_id = args.node_id;
  options.ip_addresses = args.ips;
  options.dns_names = args.dns;
  options.validity_days = args.days;
  absl::StatusOr<ledger::Certificate> cert =
      ledger::IssueNodeCertificate(service->cert, service->key, *key, options);
  if (!cert.ok()) return Fail(kUsage, cert.status(), json);
  return WriteIdentity(args.out_dir, absl::StrCat("node-", args.node_id), *key, *cert, json);
}

struct CreateUserArgs {
  std::string service_dir;
  std::string name;
  std::string out_dir;
  int days = 365;
};

int CreateUser(const CreateUserArgs& args, bool json) {
  if (!IsPlainFileName(args.name)) {
    return Fail(kUsage,
                absl::InvalidArgumentError("--name: use 1 to 64 letters, digits, '-', '_' or '.' "
                                           "(not first); it also names the files"),
                json);
  }
  absl::StatusOr<ServiceFiles> service = ReadService(args.service_dir);
  if (!service.ok()) return Fail(kFailed, service.status(), json);
  absl::StatusOr<ledger::PrivateKey> key = ledger::PrivateKey::Generate();
  if (!key.ok()) return Fail(kFailed, key.status(), json);
  ledger::UserCertificateOptions options;
  options.name = args.name;
  options.validity_days = args.days;
  absl::StatusOr<ledger::Certificate> cert =
      ledger::IssueUserCertificate(service->cert, service->key, *key, options);
  if (!cert.ok()) return Fail(kUsage, cert.status(), json);
  return WriteIdentity(args.out_dir, args.name, *key, *cert, json);
}

int PrintFingerprint(const std::string& cert_path, bool json) {
  absl::StatusOr<ledger::Certificate> cert = ledger::ReadCertificateFile(cert_path);
  if (!cert.ok()) return Fail(kFailed, cert.status(), json);
  if (json) {
    PrintJson({{"fingerprint", cert->Fingerprint()}, {"cert_file", cert_path}});
  } else {
    std::cout << cert->Fingerprint() << "\n";
  }
  return kOk;
}

void AddDays(CLI::App* cmd, int* days) {
  cmd->add_option("--days", *days, "Validity in days")
      ->check(CLI::Range(1, ledger::kValidityDaysMax))
      ->capture_default_str();
}

}  // namespace

void RegisterCertsCommands(CLI::App& app, const GlobalOptions& options, Action* action) {
  CLI::App* certs = app.add_subcommand("certs", "Create identities and inspect certificates");
  certs->require_subcommand(1);

  auto svc = std::make_shared<CreateServiceArgs>();
  CLI::App* cmd =
      certs->add_subcommand("create-service",
                            "Create the service identity: <out-dir>/service.pem and service.key; "
                            "prints the service_id");
  cmd->add_option("--out-dir", svc->out_dir, "Directory to write into")->required();
  cmd->add_option("--cn", svc->cn, "Subject common name")->capture_default_str();
  AddDays(cmd, &svc->days);
  cmd->callback([svc, action, &options] {
    *action = [svc, &options] { return CreateService(*svc, options.json); };
  });

  auto node = std::make_shared<CreateNodeArgs>();
  cmd = certs->add_subcommand("create-node",
                              "Issue a node certificate: <out-dir>/node-<id>.pem and .key");
  cmd->add_option("--service-dir", node->service_dir, "Directory with service.pem, service.key")
      ->required();
  cmd->add_option("--node-id", node->node_id, "Raft node id (> 0)")->required();
  cmd->add_option("--out-dir", node->out_dir, "Directory to write into")->required();
  cmd->add_option("--ip", node->ips, "IP address for subjectAltName (repeatable)")
      ->capture_default_str();
  cmd->add_option("--dns", node->dns, "DNS name for subjectAltName (repeatable)")
      ->capture_default_str();
  AddDays(cmd, &node->days);
  cmd->callback([node, action, &options] {
    *action = [node, &options] { return CreateNode(*node, options.json); };
  });

  auto user = std::make_shared<CreateUserArgs>();
  cmd = certs->add_subcommand(
      "create-user", "Issue a user certificate: <out-dir>/<name>.pem and .key; prints the user_id");
  cmd->add_option("--service-dir", user->service_dir, "Directory with service.pem, service.key")
      ->required();
  cmd->add_option("--name", user->name, "User name (certificate CN and file name)")->required();
  cmd->add_option("--out-dir", user->out_dir, "Directory to write into")->required();
  AddDays(cmd, &user->days);
  cmd->callback([user, action, &options] {
    *action = [user, &options] { return CreateUser(*user, options.json); };
  });

  auto cert_path = std::make_shared<std::string>();
  cmd = certs->add_subcommand("fingerprint",
                              "Print a certificate's SHA-256 fingerprint (user_id / service_id)");
  cmd->add_option("--cert", *cert_path, "Certificate (PEM)")->required();
  cmd->callback([cert_path, action, &options] {
    *action = [cert_path, &options] { return PrintFingerprint(*cert_path, options.json); };
  });
}

}  // namespace cairn::cli
