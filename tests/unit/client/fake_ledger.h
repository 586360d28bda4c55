// The state behind the fake Cairn nodes the client tests talk to: a ledger
// of entries whose leaves go into a real RFC 9162 Merkle tree, checkpoints
// signed with a real node key from the TestPki, receipts and consistency
// proofs built with ledger/, users with roles, and idempotency keys. Several
// FakeServers may share one FakeLedger (a "cluster"); a second FakeLedger
// that copies a prefix of the first and then diverges is a fork.
//
// It is not a Raft node: every append commits at once (term `term`, index =
// position + 1), and a checkpoint is signed on demand over everything so far.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/v1/admin.pb.h"
#include "cairn/v1/ledger.pb.h"
#include "cairn/v1/log.pb.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::testing {

class FakeLedger {
 public:
  // Signs as node `node_id` with the key and certificate in the given files;
  // `service_cert_file` is the service identity. `term` is the term of every
  // txid this ledger assigns.
  FakeLedger(const std::string& service_cert_file, const std::string& node_cert_file,
             const std::string& node_key_file, uint64_t node_id, uint64_t term = 1);

  // A ledger holding this one's first `size` entries, assigning later ones in
  // `term` and signing with the same node identity: a fork once both grow.
  std::unique_ptr<FakeLedger> ForkAt(uint64_t size, uint64_t term) const;

  // ---- Users (by certificate fingerprint) ----
  void PutUser(const std::string& user_id, v1::Role role);
  v1::Role RoleOf(const std::string& user_id) const;

  // ---- What the services do ----
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& request,
                                            const std::string& user_id);
  absl::StatusOr<v1::Entry> GetEntry(const std::string& txid) const;
  absl::StatusOr<v1::Entry> GetCurrentEntry(const std::string& collection_id) const;
  absl::StatusOr<v1::ListEntriesResponse> ListEntries(const v1::ListEntriesRequest& request) const;
  v1::ListCollectionsResponse ListCollections(const v1::ListCollectionsRequest& request) const;
  absl::StatusOr<v1::GetTransactionStatusResponse> Status(const std::string& txid);
  // A receipt under a checkpoint signed now over the first `size` leaves (0: all).
  absl::StatusOr<v1::Receipt> Receipt(const std::string& txid, uint64_t size = 0);
  absl::StatusOr<v1::ConsistencyProof> ConsistencyProof(uint64_t from, uint64_t to) const;
  // The checkpoint over the first `size` leaves (0: all), signed now.
  absl::StatusOr<v1::GetLatestCheckpointResponse> Checkpoint(uint64_t size = 0);
  v1::GetServiceIdentityResponse Identity() const;
  // A governance change recorded as a governance leaf; returns its txid.
  std::string RecordGovernance(const v1::GovernanceTransaction& change);
  std::vector<v1::User> Users() const;

  uint64_t size() const;
  const std::string& node_cert_pem() const { return node_cert_pem_; }
  const std::string& service_cert_pem() const { return service_cert_pem_; }
  uint64_t node_id() const { return node_id_; }
  // Status polls an append made with wait=NONE answers PENDING before COMMITTED.
  void set_pending_polls(int polls) {
    absl::MutexLock lock(&mu_);
    pending_polls_ = polls;
  }
  // Every idempotency key Append has seen, in arrival order (retries included).
  std::vector<std::string> SeenKeys() const;

 private:
  struct Stored {
    v1::Entry entry;  // contents empty for governance entries
    v1::LeafComponents leaf;
    std::string idempotency_key;
    int pending_polls_left = 0;
  };

  std::string AddLocked(const v1::LogCommand& command, v1::Entry entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const Stored*> FindLocked(const std::string& txid) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::SignedCheckpoint> SignLocked(uint64_t size) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string service_cert_pem_;
  const std::string node_cert_pem_;
  const ledger::Certificate service_cert_;
  const ledger::PrivateKey node_key_;
  const uint64_t node_id_;
  const uint64_t term_;

  mutable absl::Mutex mu_;
  std::vector<Stored> entries_ ABSL_GUARDED_BY(mu_);  // entries_[i] is log index i + 1
  ledger::MemoryMerkleStore store_ ABSL_GUARDED_BY(mu_);
  ledger::MerkleTree tree_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::string> by_key_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::User> users_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> seen_keys_ ABSL_GUARDED_BY(mu_);
  int pending_polls_ ABSL_GUARDED_BY(mu_) = 0;
  const std::vector<std::string> files_;  // service cert, node cert, node key (for ForkAt)
};

}  // namespace cairn::testing
