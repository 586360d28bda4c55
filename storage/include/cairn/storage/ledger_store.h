// Committed ledger state on RocksDB: entries by log index, each collection's
// entries and summary, Merkle tree nodes and tiles, checkpoints, idempotency keys,
// governance state (users, members, service values) and the applied index.
//
// Writes go through an ApplyBatch (apply_batch.h) committed in one atomic
// RocksDB write together with the new applied index: readers and crashes
// see all of a batch or none of it. Readers are thread-safe and may run
// beside the (single) applying thread; multi-key reads use one consistent
// RocksDB snapshot.
//
// Payloads are opaque here (see ledger_types.h). Obtain the store from
// Database::ledger().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/merkle_store.h"
#include "cairn/ledger/merkle_tiles.h"
#include "cairn/storage/ledger_types.h"

namespace cairn::storage {

namespace internal {
class DbCore;
}  // namespace internal

class ApplyBatch;
class Database;

class LedgerStore final : public ledger::MerkleNodeReader, public ledger::MerkleTileReader {
 public:
  explicit LedgerStore(internal::DbCore* core);  // use Database::ledger()
  ~LedgerStore() override;
  LedgerStore(const LedgerStore&) = delete;
  LedgerStore& operator=(const LedgerStore&) = delete;

  // Transitional: opens a Database at `db_path` with default options and
  // returns its ledger, owning the database. node/ should move to
  // Database::Open, which also gives the Raft log (one RocksDB per node).
  static absl::StatusOr<std::unique_ptr<LedgerStore>> Open(const std::string& db_path);

  // --- Writing -----------------------------------------------------------

  // A batch that continues from applied_index(). Build it, then Commit it.
  // One batch at a time: Commit refuses a batch that no longer starts at
  // applied_index() + 1.
  std::unique_ptr<ApplyBatch> NewBatch() const;

  // Writes the batch and the new applied index in one atomic write. With
  // `sync` false (the normal case) the write is durable at the next synced
  // write (any Raft log Save) or Database::Sync(); until then a crash loses
  // it and the node replays the entries from the Raft log. After a failed
  // write, this and every later write return the error.
  absl::Status Commit(ApplyBatch& batch, bool sync = false);

  // Convenience: applies `entries` (consecutive, from applied_index() + 1)
  // with their derived fields, in one synced write.
  absl::Status Apply(const std::vector<StoredEntry>& entries);

  // --- Reading -----------------------------------------------------------

  // Highest applied index (0 for an empty ledger) and its term.
  uint64_t applied_index() const;
  TxId applied() const;

  // The entry at `index`. NotFound if it has not been applied.
  absl::StatusOr<StoredEntry> Get(uint64_t index) const;

  // Entries `from`..`to` in index order, read with one iterator: stops
  // after the entry that brings the data read to `bytes_max` or more (so at
  // least one entry when `from` is applied). DataLoss when an applied index
  // in the range is missing.
  absl::StatusOr<std::vector<StoredEntry>> GetRange(uint64_t from, uint64_t to,
                                                    uint64_t bytes_max) const;

  // The latest entry of a collection. NotFound for an unknown collection.
  absl::StatusOr<StoredEntry> CurrentEntry(absl::string_view collection_id) const;

  // A collection's entries in index order, one page at a time (see
  // ListEntriesOptions). A page token from another query is InvalidArgument.
  // An unknown collection gives an empty last page.
  absl::StatusOr<EntryPage> ListEntries(absl::string_view collection_id,
                                        const ListEntriesOptions& options) const;

  // One collection's summary. NotFound for an unknown collection.
  absl::StatusOr<CollectionSummary> GetCollection(absl::string_view collection_id) const;

  // Collections by id (bytewise order), `page_size` (at least 1) at a time.
  absl::StatusOr<CollectionPage> ListCollections(uint32_t page_size,
                                                 absl::string_view page_token) const;

  // The transaction that first used (user_id, key), if it is still inside
  // the idempotency window at `now_unix_ms`. NotFound otherwise.
  absl::StatusOr<TxId> LookupIdempotencyKey(absl::string_view user_id, absl::string_view key,
                                            int64_t now_unix_ms) const;

  // Governance state, as serialized by node/ (cairn.v1.User, cairn.v1.NodeInfo).
  absl::StatusOr<std::string> GetUser(absl::string_view user_id) const;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListUsers() const;
  absl::StatusOr<std::string> GetMember(uint64_t node_id) const;
  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> ListMembers() const;
  // Service-wide values (e.g. the service certificate). NotFound if unset.
  absl::StatusOr<std::string> GetServiceValue(absl::string_view name) const;

  // The checkpoint of the highest signature transaction. NotFound if none.
  absl::StatusOr<CheckpointRecord> LatestCheckpoint() const;
  // The first checkpoint whose tree covers at least `tree_size_min` leaves
  // (what a receipt for leaf tree_size_min - 1 needs). NotFound if none yet.
  absl::StatusOr<CheckpointRecord> CheckpointCovering(uint64_t tree_size_min) const;

  // ledger::MerkleNodeReader: committed nodes only.
  absl::StatusOr<ledger::Hash> ReadNode(uint32_t level, uint64_t index) const override;
  // ledger::MerkleTileReader: committed tiles only (written with the node
  // that completes them).
  absl::StatusOr<std::optional<std::string>> ReadTile(uint32_t group, uint64_t tile) const override;

  // Writes every complete Merkle tile of the first `tree_size` leaves that
  // is not stored (a ledger written before tiles existed; the tiles a
  // snapshot install dropped), from the committed nodes, each tile its own
  // unsynced write: one lost in a crash is written again by the next call.
  // `tree_size` must be committed. Safe beside the applying thread (a tile
  // both write has the same bytes). Returns early when `stop` returns true;
  // returns how many tiles it wrote. DataLoss when a node is missing.
  absl::StatusOr<uint64_t> BackfillTiles(uint64_t tree_size, absl::FunctionRef<bool()> stop);

 private:
  internal::DbCore* const core_;
  std::unique_ptr<Database> owned_database_;  // set only by the transitional Open
};

}  // namespace cairn::storage
