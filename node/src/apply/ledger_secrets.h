// A private ledger's secrets as this node holds them (docs/formats.md,
// "Private entries v1"): unwrapped with the node's own key from the copies
// the governance state records for it, and kept in memory only. The leader
// seals user entries with the newest version when it assigns their txid
// (SealCommand, called by the Raft loop); readers open them with the version
// that sealed them.
//
// Thread-safe: the apply thread refreshes, the Raft loop seals, RPC threads
// open and compute request digests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "apply/governance.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"

namespace cairn::node {

class LedgerSecrets {
 public:
  // `node_key` (this node's TLS key) must outlive this object.
  LedgerSecrets(uint64_t node_id, std::string service_id, const ledger::PrivateKey* node_key);
  ~LedgerSecrets();  // wipes the request digest key (the secrets wipe themselves)
  LedgerSecrets(const LedgerSecrets&) = delete;
  LedgerSecrets& operator=(const LedgerSecrets&) = delete;

  // Takes the ledger type from `governance` and unwraps every version
  // recorded for this node that it does not hold yet. A copy that does not
  // open (wrapped to another certificate of this node id, or altered) is
  // skipped and reported in the returned status; the versions that did open
  // are kept. Called at load and after governance changes are applied.
  absl::Status Refresh(const Governance& governance) ABSL_LOCKS_EXCLUDED(mu_);

  // Whether the ledger is private (known once the genesis is applied).
  bool private_ledger() const ABSL_LOCKS_EXCLUDED(mu_);
  // The newest version the ledger records (0: none): new entries are sealed
  // with it, and only with it.
  uint32_t newest_version() const ABSL_LOCKS_EXCLUDED(mu_);
  // The secret versions this node holds, ascending.
  std::vector<uint32_t> versions() const ABSL_LOCKS_EXCLUDED(mu_);
  // One version; UNAVAILABLE naming it when this node does not hold it.
  absl::StatusOr<ledger::LedgerSecret> Get(uint32_t version) const ABSL_LOCKS_EXCLUDED(mu_);

  // `command` (a serialized LogCommand) as the log stores it at `txid`: a
  // user transaction's contents sealed with the newest version the ledger
  // records (a fresh salt, the commitment, the request digest: `digest`
  // when the caller computed it with RequestDigest, else computed here);
  // any other
  // command, or any command of a public ledger, unchanged. UNAVAILABLE when
  // this node does not hold that version yet (after a rotation or a
  // recovery an older one must not seal: see docs/formats.md).
  absl::StatusOr<std::string> SealCommand(
      const ledger::TxId& txid, std::string command,
      const std::optional<ledger::Hash>& digest = std::nullopt) const ABSL_LOCKS_EXCLUDED(mu_);

  // What identifies an append of `tx` (plain contents) for idempotent
  // retries in a private ledger: HMAC-SHA256 under a key derived from
  // version 1 over the collection, contents and claims digest, each after
  // its length. UNAVAILABLE when this node does not hold version 1.
  absl::StatusOr<ledger::Hash> RequestDigest(const v1::UserTransaction& tx) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The contents and salt of a sealed user transaction stored at `txid`.
  // UNAVAILABLE when this node lacks the version; DataLoss when the tag
  // does not verify.
  absl::StatusOr<ledger::OpenedContents> Open(const ledger::TxId& txid,
                                              const v1::UserTransaction& tx) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::StatusOr<ledger::LedgerSecret> GetLocked(uint32_t version) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const uint64_t node_id_;
  const std::string service_id_;
  const ledger::PrivateKey* const node_key_;
  mutable absl::Mutex mu_;
  bool private_ ABSL_GUARDED_BY(mu_) = false;
  uint32_t newest_ ABSL_GUARDED_BY(mu_) = 0;  // recorded by the ledger
  std::map<uint32_t, ledger::LedgerSecret> secrets_ ABSL_GUARDED_BY(mu_);
  std::string request_key_ ABSL_GUARDED_BY(mu_);  // from version 1; empty until held
};

}  // namespace cairn::node
