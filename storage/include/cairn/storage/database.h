// A node's RocksDB database: one instance holding the Raft log and hard state,
// the ledger tables and the metadata that ties them together.
//
// Open it once per process, under a locked DataDir:
//
//   auto dir = DataDir::Open(path, /*create_if_missing=*/true);
//   auto db = Database::Open((*dir)->db_path(), DatabaseOptions{});
//   RaftLogStore& log = (*db)->raft_log();   // consensus::LogStorage + Save/Compact
//   LedgerStore& ledger = (*db)->ledger();   // ApplyBatch + readers
//
// Opening refuses (never repairs) a database RocksDB reports as corrupt
// (DataLoss, with RocksDB's message), one whose layout version is unknown
// (FailedPrecondition), and one whose applied index and Raft log disagree
// (DataLoss). The caller should exit with the message: restarting will not help.
//
// Durability: Raft log writes (RaftLogStore::Save, Compact) are synced, one
// fsync per call. Ledger writes (LedgerStore::Commit) need not be: they are
// replayed from the log after a crash. The log is never compacted past an
// applied index that is not yet durable (see RaftLogStore::Compact).
//
// A failed write (an fsync above all) is never acknowledged, and nothing
// after it is: by default the process stops at once with one line naming
// the file and the error (DatabaseOptions::on_write_failure); with
// WriteFailure::kLatchError the write path fails for good instead
// (write_error()) while reads keep working.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/consensus/types.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace cairn::storage {

namespace internal {
class DbCore;
}  // namespace internal

class LedgerStore;
class RaftLogStore;
class SnapshotSink;
class SnapshotSource;

// Version of the key/value layout inside the database (distinct from the data
// directory's format version). Stored in the meta table; unknown versions are refused.
inline constexpr uint32_t kDatabaseLayoutVersion = 1;

// What a failed write-path I/O does (DatabaseOptions::on_write_failure).
enum class WriteFailure {
  // The process prints one line and aborts, on the thread whose I/O failed
  // and before RocksDB sees the error:
  //   FATAL <source>:<line> invariant violated: s.ok(): storage: the disk
  //   failed while writing <file> (<operation>): <error>. The node stops so
  //   that nothing is acknowledged after a failed write; check the disk,
  //   then restart the node.
  // Covers every write RocksDB makes (WAL, flushes, compactions, MANIFEST,
  // directory fsyncs, snapshot SST files), whichever thread makes it.
  // What the node uses.
  kAbortProcess,
  // The failed write returns its error, and so does every later write
  // (Database::write_error()); reads keep working and the process lives
  // on. For tests of that latch, which write from one thread: with several
  // writers, RocksDB (when built with assertions, as Debian's is) may abort
  // in its own assert on reusing the failed file before anyone reads the
  // error.
  kLatchError,
};

struct DatabaseOptions {
  // An idempotency key is remembered for this long after the entry that
  // carried it (by that entry's timestamp). Must be the same on every node.
  int64_t idempotency_window_ms = 24LL * 60 * 60 * 1000;
  // Expired idempotency keys removed by one ApplyBatch::ExpireIdempotencyKeys call.
  size_t idempotency_expire_per_batch_max = 1024;
  // Runs of equal terms the Raft log keeps in memory for TermAt. One run per
  // term present in the log, so this is rarely reached; beyond it, TermAt
  // reads RocksDB for the oldest indexes.
  size_t term_runs_cached_max = 4096;
  // Memory bound, together with write_buffer_bytes_total (docs/storage.md,
  // "Memory"): one LRU cache shared by every table for data, index and
  // filter blocks.
  size_t block_cache_bytes = 128u << 20;
  // Memtable memory across all tables. Writes wait for a flush rather than
  // exceed it.
  size_t write_buffer_bytes_total = 128u << 20;
  // A snapshot install writes the payload into SST files cut at about this
  // size. Building one holds its index and bloom filter in memory, about 10
  // bytes per record (under 64 MiB at this size even for the smallest
  // records); larger files mean fewer L0 files right after the install.
  uint64_t snapshot_install_file_bytes_max = 256u << 20;
  // WAL size that forces a flush of the tables pinning the oldest WAL file.
  uint64_t wal_bytes_max = 512u << 20;

  // See WriteFailure. Errors that are not I/O failures of the file system
  // (RocksDB refusing a write) take the latch in either mode.
  WriteFailure on_write_failure = WriteFailure::kAbortProcess;

  // TEST ONLY. Writes are acknowledged before they leave the process: no
  // fsync, and the WAL is kept in RocksDB's user-space buffer (manual WAL
  // flush), so SIGKILL loses acknowledged writes. Exists only to show that
  // the crash test detects missing durability. Never set it in a node.
  bool unsafe_disable_sync_for_testing = false;
  // TEST ONLY. Called during a snapshot install at "sst_file_written"
  // (`bytes`: the file's size), "before_ingest" and "after_ingest", so tests
  // can check the file bound and simulate a crash at each point.
  std::function<void(absl::string_view stage, uint64_t bytes)> snapshot_install_hook_for_testing;
  // TEST ONLY. An Env whose file system RocksDB runs on (e.g. one that
  // injects fsync failures); under kAbortProcess its failures are fatal like
  // the real disk's, and threads and clock are Env::Default()'s. Not owned;
  // must outlive the Database.
  rocksdb::Env* env_for_testing = nullptr;
};

// Where the database's memory goes (Database::memory_usage), for metrics and
// to check the bound documented in docs/storage.md.
struct MemoryUsage {
  uint64_t block_cache_capacity_bytes = 0;  // = DatabaseOptions::block_cache_bytes
  uint64_t block_cache_bytes = 0;           // data, index and filter blocks cached now
  uint64_t block_cache_pinned_bytes = 0;    // of which pinned (L0 index/filter, iterators)
  uint64_t memtable_bytes = 0;              // <= write_buffer_bytes_total
  uint64_t table_readers_bytes = 0;         // per-file readers, outside the cache
};

class Database {
 public:
  // Opens (creating when missing) the database at `db_path`, normally
  // DataDir::db_path().
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& db_path,
                                                        const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  RaftLogStore& raft_log() { return *raft_log_; }
  const RaftLogStore& raft_log() const { return *raft_log_; }
  LedgerStore& ledger() { return *ledger_; }
  const LedgerStore& ledger() const { return *ledger_; }

  // A consistent snapshot of the ledger state at the current applied index,
  // read as a stream of chunks of at most `chunk_bytes_max` bytes. The
  // database may keep changing meanwhile; the stream does not. Returns
  // FailedPrecondition if nothing has been applied yet.
  absl::StatusOr<std::unique_ptr<SnapshotSource>> TakeSnapshot(size_t chunk_bytes_max);

  // Starts receiving a snapshot (see snapshot.h). One at a time: a second
  // call while a sink is alive returns FailedPrecondition.
  absl::StatusOr<std::unique_ptr<SnapshotSink>> NewSnapshotSink(size_t chunk_bytes_max);

  // Makes every write so far durable (syncs the WAL). Save and Compact do
  // this on their own; the node needs it only to make unsynced ledger writes
  // durable without a log write (e.g. before a planned shutdown).
  absl::Status Sync();

  MemoryUsage memory_usage() const;

  // OK until a write fails; then the error every later write returns.
  // Under WriteFailure::kAbortProcess an I/O failure never gets here (the
  // process stops); other write errors do.
  absl::Status write_error() const;

  const std::string& path() const { return path_; }

 private:
  Database(std::string path, std::shared_ptr<internal::DbCore> core);

  std::string path_;
  std::shared_ptr<internal::DbCore> core_;
  std::unique_ptr<RaftLogStore> raft_log_;
  std::unique_ptr<LedgerStore> ledger_;
};

}  // namespace cairn::storage
