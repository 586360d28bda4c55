// The RocksDB instance shared by the Raft log, the ledger and snapshots: its
// column families ("tables"), the one write path every module uses, the
// sticky write error, and the applied index with how much of it is durable.
//
// Keeping the write path in one place is what makes "nothing is acknowledged
// after a failed sync" hold for every writer: DbCore::Write refuses to run
// once any write has failed. By default an I/O failure never comes back
// here at all: the file system below RocksDB stops the process first
// (fatal_write_fs.h). The latch then holds errors RocksDB raises itself,
// and under WriteFailure::kLatchError (tests) I/O failures too.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "cairn/storage/database.h"
#include "cairn/storage/ledger_types.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
struct IngestExternalFileArg;
class DB;
class Env;
class Snapshot;
class Status;
class WriteBatch;
class WriteBufferManager;
}  // namespace rocksdb

namespace cairn::storage::internal {

// Column families. The numbering is internal; names are the on-disk identity.
enum Table : int {
  kRaftLog = 0,      // u64 index -> term, flags, conf change, data
  kRaftState,        // "hard_state", "snapshot", 'c' u64 index -> conf change
  kEntries,          // u64 index -> ledger entry record
  kCollectionIndex,  // u16 len, collection id, u64 index -> u64 term
  kCollections,      // collection id -> summary
  kMerkle,           // u8 level, u64 index -> 32-byte hash
  kMerkleTiles,      // u8 group, u64 tile -> 510 hashes (ledger/merkle_tiles.h)
  kCheckpoints,      // u64 signature index -> term, tree size, signed checkpoint
  kIdempotency,      // 'k' user, key -> txid, ts; 't' ts, user, key -> ""
  kGovernance,       // 'u' user id | 'n' u64 node id | 's' name -> opaque bytes
  kMeta,             // "layout_version", "applied"
  kTableCount,
};

const char* TableName(Table t);

// Meta table key of the applied index and term (u64 index, u64 term).
inline constexpr char kMetaAppliedKey[] = "applied";

// The tables a ledger snapshot carries, in payload order. The meta table is
// not among them: install writes the applied index from the snapshot's
// metadata. Nor are Merkle tiles: they index the merkle table, and install
// drops them with it (the node writes them again, BackfillTiles).
inline constexpr std::array<Table, 7> kSnapshotTables = {
    kEntries, kCollectionIndex, kCollections, kMerkle, kCheckpoints, kIdempotency, kGovernance};

// RocksDB status to absl: Corruption is DataLoss; the message keeps RocksDB's.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what);

class DbCore {
 public:
  static absl::StatusOr<std::unique_ptr<DbCore>> Open(const std::string& path,
                                                      const DatabaseOptions& options);
  ~DbCore();
  DbCore(const DbCore&) = delete;
  DbCore& operator=(const DbCore&) = delete;

  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* cf(Table t) const { return handles_[t]; }
  const DatabaseOptions& options() const { return options_; }
  const std::string& path() const { return path_; }

  // Writes `batch` atomically. With `sync`, returns only once it is durable
  // (unless syncing is disabled for testing). Fails at once if an earlier
  // write failed; a failure here becomes that sticky error.
  absl::Status Write(rocksdb::WriteBatch* batch, bool sync, absl::string_view what);
  // Ingests SST files into their tables, all of them or none (one MANIFEST
  // record); durable once it returns OK. Sticky like Write.
  absl::Status Ingest(const std::vector<rocksdb::IngestExternalFileArg>& args,
                      absl::string_view what);
  // Syncs the WAL: every write so far becomes durable. Sticky like Write.
  absl::Status SyncWal();
  absl::Status write_error() const;

  // Point read. NotFound when absent; `snapshot` may be null (latest).
  absl::Status Get(Table t, absl::string_view key, std::string* value,
                   const rocksdb::Snapshot* snapshot = nullptr) const;

  // The largest key `t` holds now; nullopt when it is empty.
  absl::StatusOr<std::optional<std::string>> LastKey(Table t) const;

  MemoryUsage memory_usage() const;

  TxId applied() const;
  // Records a committed apply write; `durable` when that write was synced.
  void SetApplied(TxId applied, bool durable);
  // Ensures that applied().index is durable, syncing the WAL if needed.
  absl::Status MakeAppliedDurable();
  uint64_t durable_applied_index() const;

  // At most one snapshot sink at a time (they share a staging file).
  bool TryBeginSnapshotSink() { return !sink_active_.exchange(true); }
  void EndSnapshotSink() { sink_active_.store(false); }

 private:
  DbCore() = default;
  absl::Status LoadMeta();
  absl::Status Fail(absl::Status st) ABSL_LOCKS_EXCLUDED(mu_);

  std::string path_;
  DatabaseOptions options_;
  // The Env RocksDB runs on under WriteFailure::kAbortProcess (null
  // otherwise). Outlives db_, which ~DbCore closes in its body.
  std::unique_ptr<rocksdb::Env> env_;
  // Shared by every table. ~DbCore closes db_ in its body, before these go.
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers_;
  rocksdb::DB* db_ = nullptr;  // owned; closed in ~DbCore
  std::array<rocksdb::ColumnFamilyHandle*, kTableCount> handles_{};

  mutable absl::Mutex mu_;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  TxId applied_ ABSL_GUARDED_BY(mu_);
  // Invariant: durable_applied_index_ <= applied_.index. Advanced when a
  // synced write (or WAL sync) completes: the single WAL is replayed as a
  // prefix, so every apply write that completed before it is durable too.
  uint64_t durable_applied_index_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> sink_active_{false};
};

}  // namespace cairn::storage::internal
