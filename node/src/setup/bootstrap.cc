// Service start-up helpers (see bootstrap.h).
#include "setup/bootstrap.h"

#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/private_entry.h"
#include "setup/recovery_key.h"

namespace cairn::node {

absl::StatusOr<std::vector<v1::NodeInfo>> ParseInitialCluster(
    const std::vector<std::string>& items) {
  std::vector<v1::NodeInfo> members;
  std::set<uint64_t> ids;
  for (const std::string& item : items) {
    const auto at = item.find('@');
    const auto slash = item.find('/', at);
    v1::NodeInfo info;
    uint64_t id = 0;
    if (at == std::string::npos || slash == std::string::npos ||
        !absl::SimpleAtoi(item.substr(0, at), &id) || id == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--initial-cluster: '", item, "' is not ID@PEER_ADDRESS/CLIENT_ADDRESS"));
    }
    if (!ids.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--initial-cluster: node ", id, " appears twice"));
    }
    info.set_node_id(id);
    info.set_peer_address(item.substr(at + 1, slash - at - 1));
    std::string client = item.substr(slash + 1);
    if (const auto second = client.find('/'); second != std::string::npos) {
      info.set_region(client.substr(second + 1));
      client.resize(second);
      if (absl::Status s = ledger::ValidateRegion(info.region(), "--initial-cluster region");
          !s.ok()) {
        return s;
      }
    }
    info.set_client_address(std::move(client));
    info.set_membership(v1::MEMBERSHIP_VOTER);
    members.push_back(std::move(info));
  }
  return members;
}

absl::Status CheckNodeIdentity(const ledger::Certificate& service_cert,
                               const ledger::Certificate& node_cert,
                               const ledger::PrivateKey& node_key, uint64_t node_id) {
  if (absl::Status st = node_cert.VerifyIssuedBy(service_cert, absl::Now()); !st.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--tls-cert-file is not a certificate of this service (--service-cert-file): ",
                     st.message()));
  }
  if (node_cert.CommonName() != absl::StrCat("node-", node_id)) {
    return absl::FailedPreconditionError(absl::StrCat("--tls-cert-file names ",
                                                      node_cert.CommonName(), " but --node-id is ",
                                                      node_id, " (expected node-", node_id, ")"));
  }
  if (!node_cert.MatchesKey(node_key)) {
    return absl::FailedPreconditionError("--tls-key-file is not the key of --tls-cert-file");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::CreateService> MakeGenesis(const ledger::Certificate& service_cert,
                                              std::vector<v1::NodeInfo> members,
                                              const std::string& admin_cert_file,
                                              const std::string& default_region) {
  auto admin = ledger::ReadCertificateFile(admin_cert_file);
  if (!admin.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--initial-admin-cert-file: ", admin.status().message()));
  }
  if (absl::Status st = admin->VerifyIssuedBy(service_cert, absl::Now()); !st.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--initial-admin-cert-file is not issued by the service identity: ", st.message()));
  }
  v1::CreateService genesis;
  genesis.set_service_certificate_pem(service_cert.ToPem());
  for (auto& m : members) {
    if (m.region().empty()) m.set_region(default_region);
    *genesis.add_members() = std::move(m);
  }
  v1::User* first = genesis.mutable_first_administrator();
  first->set_user_id(admin->Fingerprint());
  first->set_role(v1::ROLE_ADMINISTRATOR);
  first->set_description("initial administrator");
  return genesis;
}

absl::Status MakeGenesisPrivate(v1::CreateService* genesis, uint64_t node_id,
                                const ledger::Certificate& node_cert,
                                const ledger::Certificate& service_cert,
                                const std::vector<std::string>& recovery_operator_cert_files,
                                uint32_t recovery_threshold) {
  const std::string service_id = service_cert.Fingerprint();
  if (recovery_operator_cert_files.empty() && recovery_threshold != 0) {
    return absl::FailedPreconditionError(
        "--recovery-threshold needs the operators it counts (--recovery-operator-cert-file)");
  }
  std::optional<v1::RecoveryKey> recovery_key;
  if (!recovery_operator_cert_files.empty()) {
    auto operators = ReadRecoveryOperators(recovery_operator_cert_files);
    if (!operators.ok()) return operators.status();
    const uint32_t threshold = recovery_threshold != 0
                                   ? recovery_threshold
                                   : static_cast<uint32_t>(operators->size() / 2 + 1);
    if (threshold > operators->size()) {
      return absl::FailedPreconditionError(absl::StrCat("--recovery-threshold ", threshold,
                                                        " is more than the ", operators->size(),
                                                        " recovery operator(s) named"));
    }
    auto made = MakeRecoveryKey(*operators, threshold, service_id);
    if (!made.ok()) return absl::FailedPreconditionError(made.status().message());
    recovery_key = *std::move(made);
  }
  auto secret = ledger::LedgerSecret::Generate(1);
  if (!secret.ok()) return secret.status();
  auto wrapped = ledger::WrapLedgerSecretForNode(*secret, node_id, node_cert, service_id);
  if (!wrapped.ok()) return wrapped.status();
  genesis->set_ledger_type(v1::LEDGER_TYPE_PRIVATE);
  *genesis->add_ledger_secrets() = *std::move(wrapped);
  if (recovery_key.has_value()) {
    auto for_recovery = ledger::WrapLedgerSecretForRecovery(*secret, *recovery_key, service_id);
    if (!for_recovery.ok()) return for_recovery.status();
    *genesis->add_ledger_secrets() = *std::move(for_recovery);
    *genesis->mutable_recovery_key() = *std::move(recovery_key);
  }
  return absl::OkStatus();
}

}  // namespace cairn::node
