// RaftLog: durable log behind LogStorage plus the unstable tail (see log.h).
#include "log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"

namespace cairn::consensus::internal {

bool IsCompacted(const absl::Status& status) { return absl::IsFailedPrecondition(status); }

RaftLog::RaftLog(const LogStorage* storage, Index committed, Index applied)
    : storage_(storage), offset_(storage->LastIndex() + 1) {
  const Index snapshot_index = storage->FirstIndex() - 1;
  applied_ = std::max(applied, snapshot_index);
  // Entries the node applied were committed, even if a crash lost the hard
  // state that said so (the Ready rule lets apply overlap persisting).
  committed_ = std::max(committed, applied_);
  CAIRN_CHECK(committed_ <= LastIndex())
      << "commit " << committed_ << " is beyond the durable log, which ends at " << LastIndex();
}

Index RaftLog::FirstIndex() const {
  if (unstable_snapshot_) return unstable_snapshot_->index + 1;
  return storage_->FirstIndex();
}

Index RaftLog::LastIndex() const {
  if (!unstable_entries_.empty()) return offset_ + unstable_entries_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->index;
  return storage_->LastIndex();
}

Term RaftLog::LastTerm() const {
  absl::StatusOr<Term> term = TermAt(LastIndex());
  CAIRN_CHECK_OK(term.status()) << "term of the last entry";
  return *term;
}

absl::StatusOr<Term> RaftLog::TermAt(Index i) const {
  if (unstable_snapshot_ && i == unstable_snapshot_->index) return unstable_snapshot_->term;
  if (i >= offset_) {
    if (i - offset_ < unstable_entries_.size()) return unstable_entries_[i - offset_].term;
    return absl::OutOfRangeError(absl::StrCat("entry ", i, " is beyond the log"));
  }
  if (unstable_snapshot_) return absl::FailedPreconditionError("compacted");
  absl::StatusOr<Term> term = storage_->TermAt(i);
  if (!term.ok() && !IsCompacted(term.status()) && !absl::IsOutOfRange(term.status())) {
    CAIRN_CHECK_OK(term.status()) << "LogStorage::TermAt(" << i << ")";
  }
  return term;
}

bool RaftLog::MatchTerm(Index i, Term term) const {
  absl::StatusOr<Term> t = TermAt(i);
  return t.ok() && *t == term;
}

bool RaftLog::IsUpToDate(Index last_index, Term last_term) const {
  const Term our_term = LastTerm();
  return last_term > our_term || (last_term == our_term && last_index >= LastIndex());
}

std::optional<Index> RaftLog::MaybeAppend(Index prev_index, Term prev_term, Index commit,
                                          const std::vector<Entry>& entries,
                                          Index* rewritten_from) {
  *rewritten_from = 0;
  if (!MatchTerm(prev_index, prev_term)) return std::nullopt;
  const Index last_new = prev_index + entries.size();
  for (size_t k = 0; k < entries.size(); ++k) {
    if (MatchTerm(entries[k].index, entries[k].term)) continue;
    // Log Matching (§5.3): from the first mismatch on, the leader's entries win.
    CAIRN_CHECK(entries[k].index > committed_)
        << "entry " << entries[k].index << " conflicts with the committed prefix (commit "
        << committed_ << ")";
    TruncateAndAppend(entries, k);
    *rewritten_from = entries[k].index;
    break;
  }
  CommitTo(std::min(commit, last_new));
  return last_new;
}

void RaftLog::Append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  CAIRN_CHECK(entries.front().index == LastIndex() + 1)
      << "leader append at " << entries.front().index << " after last index " << LastIndex();
  TruncateAndAppend(entries, 0);
}

void RaftLog::TruncateAndAppend(const std::vector<Entry>& entries, size_t from) {
  const Index first = entries[from].index;
  CAIRN_CHECK(first <= LastIndex() + 1) << "gap: append at " << first << ", last " << LastIndex();
  CAIRN_CHECK(first > committed_) << "rewriting committed entry " << first;
  if (first == offset_ + unstable_entries_.size()) {
    // Plain append.
  } else if (first <= offset_) {
    // Shadows durable entries at and after `first`; the Ready deletes them.
    unstable_entries_.clear();
    offset_ = first;
  } else {
    unstable_entries_.resize(first - offset_);
  }
  unstable_entries_.insert(unstable_entries_.end(), entries.begin() + from, entries.end());
}

std::pair<Index, Term> RaftLog::FindConflictByTerm(Index index, Term term) const {
  Index i = std::min(index, LastIndex());
  for (;; --i) {
    absl::StatusOr<Term> t = TermAt(i);
    if (!t.ok()) return {i, 0};
    if (*t <= term || i == 0) return {i, *t};
  }
}

std::vector<Entry> RaftLog::UnstableSlice(Index lo, Index hi) const {
  return std::vector<Entry>(unstable_entries_.begin() + (lo - offset_),
                            unstable_entries_.begin() + (hi - offset_));
}

absl::StatusOr<std::vector<Entry>> RaftLog::Slice(Index lo, Index hi, size_t bytes_max) const {
  CAIRN_CHECK(lo <= hi && hi <= LastIndex() + 1) << "slice [" << lo << ", " << hi << ")";
  if (lo < FirstIndex()) return absl::FailedPreconditionError("compacted");
  std::vector<Entry> out;
  size_t bytes = 0;
  if (lo < offset_) {
    const Index storage_hi = std::min(hi, offset_);
    absl::StatusOr<std::vector<Entry>> stored = storage_->Entries(lo, storage_hi, bytes_max);
    if (!stored.ok()) {
      if (IsCompacted(stored.status())) return stored.status();
      CAIRN_CHECK_OK(stored.status()) << "LogStorage::Entries(" << lo << ", " << storage_hi << ")";
    }
    out = *std::move(stored);
    CAIRN_CHECK(!out.empty() && out.front().index == lo) << "storage returned a bad slice";
    if (out.back().index + 1 < storage_hi) return out;  // the byte bound was reached
    for (const Entry& e : out) bytes += e.ByteSize();
  }
  for (Index i = std::max(lo, offset_); i < hi; ++i) {
    const Entry& e = unstable_entries_[i - offset_];
    if (!out.empty() && bytes + e.ByteSize() > bytes_max) break;
    bytes += e.ByteSize();
    out.push_back(e);
  }
  return out;
}

void RaftLog::CommitTo(Index index) {
  if (index <= committed_) return;
  CAIRN_CHECK(index <= LastIndex()) << "commit " << index << " beyond last index " << LastIndex();
  committed_ = index;
}

void RaftLog::AppliedTo(Index index) {
  CAIRN_CHECK(index >= applied_ && index <= committed_)
      << "applied " << index << " outside [" << applied_ << ", " << committed_ << "]";
  applied_ = index;
}

void RaftLog::Restore(const SnapshotMeta& snapshot) {
  CAIRN_CHECK(snapshot.index > committed_ || LastIndex() == 0)
      << "restoring an old snapshot " << snapshot.index;
  unstable_snapshot_ = snapshot;
  unstable_entries_.clear();
  offset_ = snapshot.index + 1;
  committed_ = snapshot.index;
}

Index RaftLog::PersistedIndex() const {
  if (unstable_snapshot_) return 0;
  if (!unstable_entries_.empty()) return offset_ - 1;
  return LastIndex();
}

bool RaftLog::HasNextCommittedEntries(bool unpersisted_too) const {
  if (unstable_snapshot_) return false;
  return applied_ < std::min(committed_, unpersisted_too ? LastIndex() : PersistedIndex());
}

std::vector<Entry> RaftLog::NextCommittedEntries(size_t bytes_max, bool unpersisted_too) const {
  if (!HasNextCommittedEntries(unpersisted_too)) return {};
  const Index hi = std::min(committed_, unpersisted_too ? LastIndex() : PersistedIndex()) + 1;
  absl::StatusOr<std::vector<Entry>> entries = Slice(applied_ + 1, hi, bytes_max);
  CAIRN_CHECK_OK(entries.status()) << "committed entries after " << applied_;
  return *std::move(entries);
}

void RaftLog::MarkPersisted() {
  if (unstable_snapshot_) {
    applied_ = std::max(applied_, unstable_snapshot_->index);
    unstable_snapshot_.reset();
  }
  offset_ += unstable_entries_.size();
  unstable_entries_.clear();
  // The node must have made the log durable exactly as the Ready said.
  CAIRN_CHECK(storage_->LastIndex() == offset_ - 1)
      << "storage ends at " << storage_->LastIndex() << " but the persisted log ends at "
      << offset_ - 1;
}

}  // namespace cairn::consensus::internal
