// The leader of a private ledger gives the ledger secret to the members that
// lack it: each version it holds, wrapped to the certificate a member
// presented when it called this node (or the one it was added with), in a
// ShareLedgerSecrets governance transaction. A member unwraps its copy when
// it applies that transaction (LedgerSecrets::Refresh). Joining nodes, and
// the initial members of a new service (whose certificates the genesis does
// not hold), get the secret this way.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "apply/governance.h"
#include "apply/ledger_secrets.h"
#include "cairn/ledger/identity.h"
#include "raft/raft_loop.h"
#include "security/auth.h"

namespace cairn::node {

class SecretSharer {
 public:
  // Everything passed must outlive this object.
  SecretSharer(uint64_t self, const ledger::Certificate* self_cert, const LedgerSecrets* secrets,
               const Governance* governance, const CallerIdentifier* identifier,
               const ledger::Certificate* service_cert, RaftLoop* loop, absl::Duration interval);
  ~SecretSharer() { Stop(); }
  SecretSharer(const SecretSharer&) = delete;
  SecretSharer& operator=(const SecretSharer&) = delete;

  // Checks every `interval` while this node leads a private ledger.
  void Start();
  void Stop();

  // The transaction that would give every member the versions it lacks
  // that this node can wrap to a certificate it knows; nullopt when there is
  // none. A certificate that does not name the member or is not issued by
  // the service now is skipped (and logged once per pass).
  std::optional<v1::GovernanceTransaction> Pending() const;

  // A rotation (AdminService.RotateLedgerSecret): a new secret, one version
  // above the newest recorded, wrapped to this node and to every member whose
  // certificate it knows (the others get it from Pending once this node holds
  // it). FailedPrecondition on a public ledger.
  absl::StatusOr<v1::ShareLedgerSecrets> Rotation() const;

 private:
  void Run();
  // The certificate to wrap to for `member`: the one it presented, else the
  // one it was added with; checked to be its node certificate of this
  // service now. nullopt when there is none that passes (a bad one logged
  // once).
  std::optional<ledger::Certificate> MemberCertificate(const v1::NodeInfo& member) const;
  absl::Status AddWrapped(const ledger::LedgerSecret& secret, uint64_t node_id,
                          const ledger::Certificate& cert, v1::ShareLedgerSecrets* share) const;

  const uint64_t self_;
  const ledger::Certificate* const self_cert_;
  const LedgerSecrets* const secrets_;
  const Governance* const governance_;
  const CallerIdentifier* const identifier_;
  const ledger::Certificate* const service_cert_;
  RaftLoop* const loop_;
  const absl::Duration interval_;
  std::atomic<bool> inflight_{false};  // a proposal not answered yet
  // The certificates already warned about (PEM), so a bad one is logged once.
  mutable absl::Mutex warned_mu_;
  mutable absl::flat_hash_set<std::string> warned_ ABSL_GUARDED_BY(warned_mu_);
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace cairn::node
