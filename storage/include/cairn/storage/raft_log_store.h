// The durable Raft log and hard state on RocksDB: the implementation of
// consensus::LogStorage that the core reads, plus the writes the node makes
// when it handles a Ready batch.
//
// Obtain it from Database::raft_log(). Thread safety: any number of readers
// may run beside one writer; writes (Save, Compact) are serialized.
//
// Membership: LoadInitialState returns the latest membership the node saved
// (Ready::conf_state). If none was saved since the log was bootstrapped or a
// snapshot installed, it is computed: conf-change entries are remembered by
// index, so the snapshot's (or bootstrap) membership with every later conf
// change applied in log order comes without scanning the log. The same
// records give the membership at any index still in the log (for snapshots
// and compaction).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "cairn/consensus/storage.h"
#include "cairn/consensus/types.h"

namespace rocksdb {
class WriteBatch;
}  // namespace rocksdb

namespace cairn::storage {

namespace internal {
class DbCore;
}  // namespace internal

class RaftLogStore final : public consensus::LogStorage {
 public:
  explicit RaftLogStore(internal::DbCore* core);  // use Database::raft_log()
  ~RaftLogStore() override;
  RaftLogStore(const RaftLogStore&) = delete;
  RaftLogStore& operator=(const RaftLogStore&) = delete;

  // consensus::LogStorage. Reads of the hot path (TermAt near the end of the
  // log, FirstIndex, LastIndex, Snapshot) are answered from memory.
  absl::StatusOr<consensus::InitialState> LoadInitialState() const override;
  absl::StatusOr<std::vector<consensus::Entry>> Entries(consensus::Index lo, consensus::Index hi,
                                                        size_t bytes_max) const override;
  absl::StatusOr<consensus::Term> TermAt(consensus::Index i) const override;
  consensus::Index FirstIndex() const override;
  consensus::Index LastIndex() const override;
  consensus::SnapshotMeta Snapshot() const override;

  // The last saved hard state.
  consensus::HardState hard_state() const;

  // One Ready's worth of durable Raft state.
  struct Write {
    std::optional<consensus::HardState> hard_state;
    absl::Span<const consensus::Entry> entries;
    // Membership as of the last entry once this write is durable
    // (Ready::conf_state); LoadInitialState returns the latest one saved.
    std::optional<consensus::ConfState> conf_state;
    // Ready::must_sync. Honoured only for writes without entries (a
    // commit-only change): entries are always synced.
    bool must_sync = true;
  };

  // Appends `entries` and stores `hard_state` and `conf_state` (when given)
  // in ONE write, synced (one fsync, whatever the number of entries) unless
  // it carries no entries and !must_sync. Entries must be consecutive with
  // non-decreasing terms; the first may be at most LastIndex() + 1. Existing
  // entries at or after the first new index are replaced (a conflicting
  // suffix is truncated). Entries at or below the snapshot index are skipped
  // (already compacted, so already committed), as are committed entries
  // resent with their stored term. Rewriting a committed or applied entry is
  // a broken invariant and aborts.
  //
  // A synced write returns OK only once it is durable. A failed write stops
  // the process (DatabaseOptions::on_write_failure); under kLatchError it
  // returns the error instead, as every later write does
  // (Database::write_error()).
  absl::Status Save(const Write& write);
  absl::Status Save(const std::optional<consensus::HardState>& hard_state,
                    absl::Span<const consensus::Entry> entries) {
    return Save(Write{hard_state, entries, std::nullopt, true});
  }

  // Records the snapshot metadata of a log that was never compacted: index
  // 0, term 0 and `conf_state`, the initial membership (e.g. the voters of a
  // new cluster, or the index-0 Ready::snapshot a joining node receives,
  // which has no payload to install). Only on an empty log with no snapshot
  // (FailedPrecondition otherwise). Synced.
  absl::Status Bootstrap(const consensus::ConfState& conf_state);

  // Drops entries up to and including `index`, which becomes the snapshot
  // index (its term and the membership as of it are kept: `conf_state` when
  // given, RawNode::AppliedConfState, else computed from the conf-change
  // records). `index` must not exceed the ledger's applied index
  // (FailedPrecondition): entries above the applied index are the only way
  // to rebuild ledger state after a crash. Before compacting, Compact makes
  // the applied index durable (it syncs the WAL that holds the unsynced
  // ledger writes), so a crash can never leave the log compacted past the
  // durable applied index. A no-op when `index` is not above the current
  // snapshot index. The write is synced.
  absl::Status Compact(consensus::Index index,
                       const std::optional<consensus::ConfState>& conf_state = std::nullopt);

 private:
  friend class Database;
  friend class SnapshotSink;

  // Reads hard state, snapshot metadata and the log bounds from RocksDB.
  absl::Status Load();
  // After a snapshot is installed: the log is empty, starting after `meta`.
  void ResetToSnapshot(const consensus::SnapshotMeta& meta);

  // The part of a Save's entries that changes the log, checked against the
  // append rules (aborts on a broken one). Called under write_mu_.
  absl::StatusOr<absl::Span<const consensus::Entry>> EntriesToWrite(
      absl::Span<const consensus::Entry> entries) const;
  // Adds the truncation of (first new index, last] and the entries to `batch`.
  void AddAppendWrites(absl::Span<const consensus::Entry> entries, consensus::Index last,
                       rocksdb::WriteBatch* batch) const;
  absl::StatusOr<consensus::Term> ReadTerm(consensus::Index i) const;
  absl::StatusOr<consensus::ConfState> ConfStateAt(consensus::Index i) const;
  absl::Status RebuildTermRuns();
  void AppendTermRuns(absl::Span<const consensus::Entry> entries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  internal::DbCore* const core_;

  // Serializes writers. Held across the RocksDB write on purpose: two
  // writers interleaving a truncation with an append would corrupt the log.
  // Readers never take it.
  absl::Mutex write_mu_;
  mutable absl::Mutex mu_;
  consensus::SnapshotMeta snapshot_ ABSL_GUARDED_BY(mu_);
  consensus::HardState hard_state_ ABSL_GUARDED_BY(mu_);
  // Invariant: snapshot_.index <= last_index_; the log holds exactly
  // (snapshot_.index, last_index_].
  consensus::Index last_index_ ABSL_GUARDED_BY(mu_) = 0;
  // Term runs (first index of the run, term), ascending. Invariant: they
  // cover [term_runs_.front().first, last_index_] exactly, and the front is
  // above snapshot_.index. Bounded by term_runs_cached_max (oldest dropped).
  std::vector<std::pair<consensus::Index, consensus::Term>> term_runs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cairn::storage
