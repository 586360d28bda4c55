// Opening the node's database and wiring its parts together (see database.h).
#include "cairn/storage/database.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "cairn/storage/snapshot.h"
#include "db_core.h"
#include "snapshot_install.h"

namespace cairn::storage {

using internal::SnapshotStagingPath;
using internal::SstStagingPath;

Database::Database(std::string path, std::shared_ptr<internal::DbCore> core)
    : path_(std::move(path)),
      core_(std::move(core)),
      raft_log_(std::make_unique<RaftLogStore>(core_.get())),
      ledger_(std::make_unique<LedgerStore>(core_.get())) {}

Database::~Database() = default;

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& db_path,
                                                         const DatabaseOptions& options) {
  // Leftovers of a snapshot install a crash interrupted: the install had
  // not reached the database (it ingests in one step), so they are garbage.
  std::error_code ec;
  std::filesystem::remove(SnapshotStagingPath(db_path), ec);
  std::filesystem::remove_all(SstStagingPath(db_path), ec);
  absl::StatusOr<std::unique_ptr<internal::DbCore>> core = internal::DbCore::Open(db_path, options);
  if (!core.ok()) return core.status();
  std::unique_ptr<Database> db(new Database(db_path, std::move(*core)));
  absl::Status st = db->raft_log_->Load();
  if (!st.ok()) return st;
  // The two halves must agree: apply only ever follows durable log entries,
  // and the log is never compacted past the durable applied index.
  const uint64_t applied = db->core_->applied().index;
  const consensus::Index snapshot = db->raft_log_->Snapshot().index;
  const consensus::Index last = db->raft_log_->LastIndex();
  // A database whose Raft log was never written (ledger-only use through
  // the transitional LedgerStore::Open, or tools) has nothing to compare.
  const bool log_used =
      last > 0 || snapshot > 0 || !(db->raft_log_->hard_state() == consensus::HardState{});
  if (applied < snapshot || (log_used && applied > last)) {
    return absl::DataLossError(absl::StrCat("database ", db_path, ": applied index ", applied,
                                            " is outside the raft log (snapshot ", snapshot,
                                            ", last index ", last, "); refusing to start"));
  }
  return db;
}

absl::StatusOr<std::unique_ptr<SnapshotSource>> Database::TakeSnapshot(size_t chunk_bytes_max) {
  std::unique_ptr<SnapshotSource> source(new SnapshotSource(core_.get(), chunk_bytes_max));
  absl::Status st = source->Start();
  if (!st.ok()) return st;
  return source;
}

absl::StatusOr<std::unique_ptr<SnapshotSink>> Database::NewSnapshotSink(size_t chunk_bytes_max) {
  if (!core_->TryBeginSnapshotSink()) {
    return absl::FailedPreconditionError("a snapshot is already being received");
  }
  std::unique_ptr<SnapshotSink> sink(new SnapshotSink(core_.get(), raft_log_.get(),
                                                      SnapshotStagingPath(path_),
                                                      SstStagingPath(path_), chunk_bytes_max));
  absl::Status st = sink->Start();
  if (!st.ok()) return st;  // the sink's destructor ends the reservation
  return sink;
}

absl::Status Database::Sync() { return core_->SyncWal(); }

MemoryUsage Database::memory_usage() const { return core_->memory_usage(); }

absl::Status Database::write_error() const { return core_->write_error(); }

}  // namespace cairn::storage
