// One atomic unit of ledger state change: the committed entries of a Ready
// batch with everything the node derives from them (collection index and
// summaries, idempotency keys, Merkle nodes, checkpoints, governance
// changes) and the new applied index. Nothing is visible until
// LedgerStore::Commit writes it all in one RocksDB write.
//
// The batch reads through itself: ReadNode, and the summaries and
// idempotency keys it maintains, see earlier additions to the same batch,
// so the Merkle tree can build parents from children written moments ago.
//
// Not thread-safe; built and committed by the applying thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/merkle_store.h"
#include "cairn/storage/ledger_types.h"

namespace rocksdb {
class WriteBatch;
class WriteBatchWithIndex;
}  // namespace rocksdb

namespace cairn::storage {

namespace internal {
class DbCore;
}  // namespace internal

class LedgerStore;

class ApplyBatch final : public ledger::MerkleNodeWriter, public ledger::MerkleNodeReader {
 public:
  ~ApplyBatch() override;
  ApplyBatch(const ApplyBatch&) = delete;
  ApplyBatch& operator=(const ApplyBatch&) = delete;

  // Adds the next committed entry (index = applied index + 1, term not below
  // the previous entry's; anything else aborts: the caller broke the apply
  // order). Indexes it under its collection, and records its idempotency key
  // unless (user_id, key) is already held by an unexpired entry: the first
  // entry with a key keeps it, on every node alike.
  absl::Status AddEntry(const StoredEntry& entry);

  // The transaction holding (user_id, key) within the idempotency window at
  // `now_unix_ms`, seeing this batch's own additions. NotFound otherwise. The
  // node asks before AddEntry, to recognize a retried append at apply time.
  absl::StatusOr<TxId> LookupIdempotencyKey(absl::string_view user_id, absl::string_view key,
                                            int64_t now_unix_ms) const;

  // ledger::MerkleNodeWriter / MerkleNodeReader (sees this batch's writes).
  void WriteNode(uint32_t level, uint64_t index, const ledger::Hash& hash) override;
  absl::StatusOr<ledger::Hash> ReadNode(uint32_t level, uint64_t index) const override;

  // Records the checkpoint carried by a signature transaction.
  void AddCheckpoint(const CheckpointRecord& checkpoint);

  // Governance state changes (values are serialized by node/).
  void PutUser(absl::string_view user_id, absl::string_view user);
  void RemoveUser(absl::string_view user_id);
  void PutMember(uint64_t node_id, absl::string_view node_info);
  void RemoveMember(uint64_t node_id);
  void PutServiceValue(absl::string_view name, absl::string_view value);

  // Forgets up to idempotency_expire_per_batch_max keys whose entries are
  // older than the window at `now_unix_ms`, oldest first, and returns how
  // many it forgot. Pass a committed entry's timestamp (the latest in this
  // batch), never the local clock, so every replica forgets the same keys.
  // Call it once per batch, after the AddEntry calls. Cost: one seek plus
  // O(keys forgotten), whatever the number of keys held or forgotten before:
  // keys are indexed by time, and a persisted floor skips what earlier calls
  // removed. Lookups already ignore expired keys; this reclaims their space.
  absl::StatusOr<size_t> ExpireIdempotencyKeys(int64_t now_unix_ms);

  // The applied index and term once this batch commits.
  TxId applied() const { return applied_; }
  // Entries added so far.
  size_t entry_count() const { return entry_count_; }
  // Approximate bytes the write will carry.
  size_t ByteSize() const;

 private:
  friend class LedgerStore;
  ApplyBatch(internal::DbCore* core, TxId base);

  absl::Status IndexCollection(const StoredEntry& entry);
  absl::Status IndexIdempotencyKey(const StoredEntry& entry);
  // The idempotency expiry floor as this batch sees it (its own change
  // included); and a change of it, written with the batch.
  absl::StatusOr<int64_t> IdempotencyFloor();
  void SetIdempotencyFloor(int64_t floor_unix_ms);
  // Writes the collection summaries this batch changed (LedgerStore::Commit).
  void WriteSummaries();
  // Writes the Merkle tiles this batch's nodes completed (LedgerStore::Commit).
  absl::Status WriteTiles();
  // Writes to table `table` (an internal::Table) of this batch.
  void Put(int table, absl::string_view key, absl::string_view value);
  void Delete(int table, absl::string_view key);
  // Reads `key`: the idempotency table through this batch's writes, the
  // others (whose changes the batch keeps in memory) from the database.
  absl::StatusOr<std::string> ReadThrough(int table, absl::string_view key) const;

  internal::DbCore* const core_;
  const TxId base_;  // the applied index this batch continues from
  TxId applied_;
  size_t entry_count_ = 0;
  // Cache of IdempotencyFloor(). Invariant: no idempotency time key, in the
  // database or this batch, is older than it.
  std::optional<int64_t> idempotency_floor_;
  std::unique_ptr<rocksdb::WriteBatch> writes_;  // what Commit writes
  // The idempotency table's writes again, searchable (never written itself).
  std::unique_ptr<rocksdb::WriteBatchWithIndex> idempotency_;
  // Collection summaries as this batch leaves them, written by
  // WriteSummaries: once per collection and batch, not once per entry.
  absl::flat_hash_map<std::string, CollectionSummary> summaries_;
  // The Merkle nodes this batch wrote, which the tree reads back as it grows
  // (a lookup here instead of a search of the indexed batch).
  absl::flat_hash_map<std::pair<uint32_t, uint64_t>, ledger::Hash> nodes_;
  // Tiles (group, tile) completed by this batch's nodes, in order.
  std::vector<std::pair<uint32_t, uint64_t>> completed_tiles_;
};

}  // namespace cairn::storage
