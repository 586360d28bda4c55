// RaftLog: the core's view of the replicated log, durable part and not.
//
// Entries live in two places: the durable log behind LogStorage (read-only to
// the core) and the unstable tail below, which holds entries (and possibly a
// received snapshot) that a Ready has not yet made durable. Lookups at or past
// the unstable offset see the unstable tail, which shadows durable entries it
// is about to overwrite (a conflict truncation in flight).
//
// Invariants: applied <= committed <= LastIndex(); committed and applied never
// decrease; unstable entries are contiguous and start at `offset`.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cairn/consensus/storage.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus::internal {

// True when `status` says the entry was compacted away (LogStorage contract).
bool IsCompacted(const absl::Status& status);

class RaftLog {
 public:
  // Starts from whatever `storage` holds; `committed`/`applied` come from the
  // durable hard state and the node's applied index.
  RaftLog(const LogStorage* storage, Index committed, Index applied);

  Index FirstIndex() const;
  Index LastIndex() const;
  Term LastTerm() const;
  // Term of entry i for i in [FirstIndex() - 1, LastIndex()]; FailedPrecondition
  // ("compacted") below, OutOfRange above.
  absl::StatusOr<Term> TermAt(Index i) const;
  bool MatchTerm(Index i, Term term) const;
  // Raft §5.4.1: a candidate's log is at least as up to date as ours.
  bool IsUpToDate(Index last_index, Term last_term) const;

  // Follower side of AppendEntries: if entry prev_index has prev_term, writes
  // `entries` after it (truncating a conflicting suffix), advances commit to
  // min(commit, last new index) and returns that last new index.
  // `*rewritten_from` is the first index written (0 if all were present).
  std::optional<Index> MaybeAppend(Index prev_index, Term prev_term, Index commit,
                                   const std::vector<Entry>& entries, Index* rewritten_from);
  // Leader side: appends entries that directly follow LastIndex().
  void Append(std::vector<Entry> entries);

  // Fast backtracking (thesis §5.3 optimization): the largest index <= index
  // whose term is <= term, with that term (0 if it is compacted).
  std::pair<Index, Term> FindConflictByTerm(Index index, Term term) const;

  // Entries in [lo, hi), at least one if lo < hi, within bytes_max otherwise.
  // FailedPrecondition ("compacted") if lo < FirstIndex().
  absl::StatusOr<std::vector<Entry>> Slice(Index lo, Index hi, size_t bytes_max) const;

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  void CommitTo(Index index);
  void AppliedTo(Index index);

  // Replaces the log with a snapshot received from the leader.
  void Restore(const SnapshotMeta& snapshot);

  // --- Ready support ---
  const std::vector<Entry>& UnstableEntries() const { return unstable_entries_; }
  const std::optional<SnapshotMeta>& UnstableSnapshot() const { return unstable_snapshot_; }
  // Last index whose entry is durable and still part of this log.
  Index PersistedIndex() const;
  // Committed, durable entries after `applied`, within `bytes_max` (at least
  // one). `unpersisted_too` is only for InjectedBug::kApplyUnpersisted.
  bool HasNextCommittedEntries(bool unpersisted_too = false) const;
  std::vector<Entry> NextCommittedEntries(size_t bytes_max, bool unpersisted_too = false) const;
  // The node made the unstable snapshot and entries durable.
  void MarkPersisted();

 private:
  std::vector<Entry> UnstableSlice(Index lo, Index hi) const;
  void TruncateAndAppend(const std::vector<Entry>& entries, size_t from);

  const LogStorage* storage_;
  // A snapshot received from the leader and not yet durable.
  std::optional<SnapshotMeta> unstable_snapshot_;
  // Entries not yet durable; unstable_entries_[k] has index offset_ + k.
  std::vector<Entry> unstable_entries_;
  Index offset_ = 0;
  // Invariant: applied_ <= committed_ <= LastIndex().
  Index committed_ = 0;
  Index applied_ = 0;
};

}  // namespace cairn::consensus::internal
