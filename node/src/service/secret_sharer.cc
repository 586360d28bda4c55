// Sharing a private ledger's secret with the members (see secret_sharer.h).
#include "service/secret_sharer.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "cairn/base/clock.h"
#include "cairn/ledger/private_entry.h"
#include "observe/log.h"

namespace cairn::node {

SecretSharer::SecretSharer(uint64_t self, const ledger::Certificate* self_cert,
                           const LedgerSecrets* secrets, const Governance* governance,
                           const CallerIdentifier* identifier,
                           const ledger::Certificate* service_cert, RaftLoop* loop,
                           absl::Duration interval)
    : self_(self),
      self_cert_(self_cert),
      secrets_(secrets),
      governance_(governance),
      identifier_(identifier),
      service_cert_(service_cert),
      loop_(loop),
      interval_(interval) {}

void SecretSharer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void SecretSharer::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

std::optional<ledger::Certificate> SecretSharer::MemberCertificate(
    const v1::NodeInfo& member) const {
  std::optional<std::string> pem = identifier_->NodeCertificatePem(member.node_id());
  if (!pem.has_value() && !member.certificate_pem().empty()) pem = member.certificate_pem();
  if (!pem.has_value()) return std::nullopt;  // not seen yet: it will call, or be called back
  auto cert = ledger::Certificate::FromPem(*pem);
  if (!cert.ok() || cert->NodeId() != member.node_id() ||
      !cert->VerifyIssuedBy(*service_cert_, absl::Now()).ok()) {
    absl::MutexLock lock(&warned_mu_);
    if (warned_.size() < 1024 && warned_.insert(*pem).second) {
      spdlog::warn(
          "not sharing the ledger secret with node {}: its certificate is not a valid "
          "node certificate of this service for that id",
          member.node_id());
    }
    return std::nullopt;
  }
  return *std::move(cert);
}

absl::Status SecretSharer::AddWrapped(const ledger::LedgerSecret& secret, uint64_t node_id,
                                      const ledger::Certificate& cert,
                                      v1::ShareLedgerSecrets* share) const {
  auto wrapped =
      ledger::WrapLedgerSecretForNode(secret, node_id, cert, service_cert_->Fingerprint());
  if (!wrapped.ok()) return wrapped.status();
  *share->add_secrets() = *std::move(wrapped);
  return absl::OkStatus();
}

std::optional<v1::GovernanceTransaction> SecretSharer::Pending() const {
  if (!secrets_->private_ledger()) return std::nullopt;
  const std::vector<uint32_t> versions = secrets_->versions();
  if (versions.empty()) return std::nullopt;
  v1::GovernanceTransaction tx;
  v1::ShareLedgerSecrets* share = tx.mutable_share_ledger_secrets();
  for (const v1::NodeInfo& member : governance_->Members()) {
    if (member.node_id() == self_) continue;
    std::optional<ledger::Certificate> cert;
    for (uint32_t version : versions) {
      if (governance_->HasLedgerSecret(member.node_id(), version)) continue;
      if (!cert.has_value()) cert = MemberCertificate(member);
      if (!cert.has_value()) break;
      auto secret = secrets_->Get(version);
      if (!secret.ok()) continue;
      if (absl::Status st = AddWrapped(*secret, member.node_id(), *cert, share); !st.ok()) {
        spdlog::warn("cannot wrap the ledger secret for node {}: {}", member.node_id(),
                     st.message());
        break;
      }
    }
  }
  if (share->secrets_size() == 0) return std::nullopt;
  return tx;
}

absl::StatusOr<v1::ShareLedgerSecrets> SecretSharer::Rotation() const {
  if (!secrets_->private_ledger()) {
    return absl::FailedPreconditionError("this ledger is public: it has no ledger secret");
  }
  const uint32_t version = governance_->newest_ledger_secret_version() + 1;
  auto secret = ledger::LedgerSecret::Generate(version);
  if (!secret.ok()) return secret.status();
  v1::ShareLedgerSecrets share;
  if (absl::Status st = AddWrapped(*secret, self_, *self_cert_, &share); !st.ok()) return st;
  for (const v1::NodeInfo& member : governance_->Members()) {
    if (member.node_id() == self_) continue;
    std::optional<ledger::Certificate> cert = MemberCertificate(member);
    if (!cert.has_value()) continue;  // shared once this node holds the version
    if (absl::Status st = AddWrapped(*secret, member.node_id(), *cert, &share); !st.ok()) {
      return st;
    }
  }
  // Every version is wrapped to the recovery key too, so that k of n
  // operators can still recover what it seals.
  if (std::optional<v1::RecoveryKey> recovery = governance_->recovery_key(); recovery.has_value()) {
    auto wrapped =
        ledger::WrapLedgerSecretForRecovery(*secret, *recovery, service_cert_->Fingerprint());
    if (!wrapped.ok()) return wrapped.status();
    *share.add_secrets() = *std::move(wrapped);
  }
  return share;
}

void SecretSharer::Run() {
  while (!stop_.WaitForNotificationWithTimeout(interval_)) {
    if (inflight_.load() || loop_->status().node.role != consensus::Role::kLeader) continue;
    std::optional<v1::GovernanceTransaction> tx = Pending();
    if (!tx.has_value()) continue;
    tx->set_timestamp_unix_ms(base::NowUnixMs());
    v1::LogCommand command;
    *command.mutable_governance() = *std::move(tx);
    const int shares = command.governance().share_ledger_secrets().secrets_size();
    inflight_.store(true);
    loop_->Propose(command.SerializeAsString(), AppendIdentity{}, /*wait_commit=*/true,
                   std::chrono::steady_clock::now() + std::chrono::seconds(10),
                   [this, shares](absl::StatusOr<CommitResult> r) {
                     if (r.ok()) {
                       spdlog::info("shared the ledger secret: {} wrapped cop{} at {}", shares,
                                    shares == 1 ? "y" : "ies", r->txid.ToString());
                     } else {
                       spdlog::warn("sharing the ledger secret: {}", r.status().message());
                     }
                     inflight_.store(false);
                   });
  }
}

}  // namespace cairn::node
