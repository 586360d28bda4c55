// The ledger state machine: applies committed Raft entries, in order, to the
// ledger tables and the Merkle tree, in one atomic write per batch.
//
// Every entry becomes one Merkle leaf (leaf i = log index i + 1). User
// entries are indexed by collection, unless they repeat an idempotency key
// already in the ledger (a retried append): then the entry stays a leaf but
// is recorded as a duplicate of the original, on every node alike.
// Governance entries change users and members. Signature entries are checked
// before they are accepted: the signed root must equal this node's own root
// at the signed size and the signature must verify under a node certificate
// issued by the service identity. A mismatch means a leader signed a history
// this node does not hold: the node halts with a clear error.
//
// Used by one thread at a time (the apply stage's, apply_stage.h), except
// the const accessors marked thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "apply/governance.h"
#include "apply/ledger_secrets.h"
#include "apply/state_machine.h"
#include "apply/tile_backfill.h"
#include "cairn/consensus/types.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/txid.h"
#include "cairn/storage/database.h"

namespace cairn::node {

// Forwards Merkle node reads to the batch being applied (which reads through
// to the database), or to the database between batches.
class ApplyNodeReader final : public ledger::MerkleNodeReader {
 public:
  explicit ApplyNodeReader(const ledger::MerkleNodeReader* committed) : committed_(committed) {}
  void set_batch(const ledger::MerkleNodeReader* batch) { batch_ = batch; }
  absl::StatusOr<ledger::Hash> ReadNode(uint32_t level, uint64_t index) const override {
    return (batch_ ? batch_ : committed_)->ReadNode(level, index);
  }

 private:
  const ledger::MerkleNodeReader* committed_;
  const ledger::MerkleNodeReader* batch_ = nullptr;
};

class Applier final : public StateMachine {
 public:
  Applier(storage::Database* db, Governance* governance, ledger::Certificate service_cert);

  // Loads the tree and the signature state from the database (at start and
  // after a snapshot is installed), and asks `tile_backfill` (if set) for
  // the Merkle tiles the loaded tree lacks.
  absl::Status Load() override;

  // Not owned; must outlive this. Set before Load.
  void set_tile_backfill(TileBackfill* tile_backfill) { tile_backfill_ = tile_backfill; }
  // Not owned; must outlive this. Set before Load: refreshed from the
  // governance state at load and after a batch changes the ledger secrets.
  void set_ledger_secrets(LedgerSecrets* secrets) { secrets_ = secrets; }

  // Applies `entries` (consecutive, from applied_index() + 1) in one atomic
  // write. A storage failure or a bad signature transaction halts the process.
  std::vector<ApplyResult> Apply(const std::vector<consensus::Entry>& entries) override;

  // Thread-safe.
  uint64_t applied_index() const override { return applied_index_.load(std::memory_order_acquire); }
  // Thread-safe: leaves covered by the latest applied signature.
  uint64_t signed_tree_size() const override {
    return signed_tree_size_.load(std::memory_order_acquire);
  }
  SignState sign_state() const override;

  // Apply-stage thread only (Apply's caller): what the leader needs to decide
  // when to sign. The stage reads these after each batch and publishes a
  // copy (SignState, apply_stage.h) that the Raft loop reads; the loop never
  // calls them.
  const ledger::MerkleTree& tree() const { return tree_; }
  // Highest applied index of a user or governance entry (the entries a
  // signature must eventually cover; signatures and internal entries need none).
  uint64_t last_signable_index() const { return last_signable_index_; }
  // When the oldest applied entry not yet covered by a signature was applied.
  std::chrono::steady_clock::time_point unsigned_since() const { return unsigned_since_; }
  const std::string& service_id() const { return service_id_; }
  // Term of the last applied entry (0 when nothing is applied).
  uint64_t applied_term() const { return applied_term_; }

 private:
  // Fills `result`'s duplicate_of / key_held_by / key for a user append.
  void ApplyUser(const v1::UserTransaction& tx, const std::vector<consensus::Entry>& entries,
                 storage::StoredEntry* se, storage::ApplyBatch* batch, ApplyResult* result);
  // The data of the entry at `index`: in `entries` (this batch) or applied.
  std::string DataAt(uint64_t index, const std::vector<consensus::Entry>& entries) const;
  void RefreshSecrets();
  void VerifySignature(const consensus::Entry& entry, const v1::SignatureTransaction& sig);
  // Moves the ledger clock to `timestamp_unix_ms` if that is later, and
  // returns the clock: the time this entry is stored and judged at.
  int64_t Tick(int64_t timestamp_unix_ms);
  uint64_t TermOfIndex(uint64_t index) const;

  storage::Database* const db_;
  Governance* const governance_;
  const ledger::Certificate service_cert_;
  const std::string service_id_;
  ApplyNodeReader reader_;
  ledger::MerkleTree tree_;
  TileBackfill* tile_backfill_ = nullptr;
  LedgerSecrets* secrets_ = nullptr;
  std::atomic<uint64_t> applied_index_{0};
  std::atomic<uint64_t> signed_tree_size_{0};
  uint64_t last_signable_index_ = 0;
  uint64_t applied_term_ = 0;
  // The ledger clock: the latest timestamp of any applied entry. Idempotency
  // keys are looked up and expired against it, never against a local clock or
  // one entry's own (leaders' clocks differ), so every replica keeps and
  // forgets the same keys whatever batches it applies in.
  // Invariant: never decreases.
  int64_t clock_unix_ms_ = 0;
  // Node certificates seen in signature transactions, parsed (by PEM). Few:
  // one per node that ever signed; cleared when it passes the bound.
  absl::flat_hash_map<std::string, ledger::Certificate> node_certs_;
  std::chrono::steady_clock::time_point unsigned_since_;
};

}  // namespace cairn::node
