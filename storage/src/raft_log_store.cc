// The Raft log and hard state on RocksDB (see raft_log_store.h).
//
// Layout: raft_log maps a big-endian index to the entry; raft_state holds
// the hard state, the snapshot metadata and conf-change records (raft_state.h).
// Every write is one RocksDB WriteBatch, so an append, its truncation of a
// conflicting suffix and the hard state land together or not at all.
#include "cairn/storage/raft_log_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "codec.h"
#include "db_core.h"
#include "raft_state.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace cairn::storage {

using consensus::Entry;
using consensus::Index;
using consensus::Term;
using internal::Decoder;
using internal::U64Key;

namespace {

absl::Status Compacted(Index i, Index snapshot_index) {
  return absl::FailedPreconditionError(
      absl::StrCat("compacted: index ", i, " is at or below snapshot index ", snapshot_index));
}

absl::Status PastEnd(Index i, Index last) {
  return absl::OutOfRangeError(absl::StrCat("index ", i, " is past the last log index ", last));
}

absl::StatusOr<Index> DecodeIndexKey(const rocksdb::Slice& key) {
  Decoder d(absl::string_view(key.data(), key.size()));
  uint64_t index = 0;
  if (!d.GetU64(&index) || !d.empty()) return internal::Malformed("raft log key");
  return index;
}

}  // namespace

RaftLogStore::RaftLogStore(internal::DbCore* core) : core_(core) {}
RaftLogStore::~RaftLogStore() = default;

absl::Status RaftLogStore::Load() {
  consensus::HardState hs;
  std::string value;
  absl::Status st = core_->Get(internal::kRaftState, internal::kHardStateKey, &value);
  if (st.ok()) {
    Decoder d(value);
    if (!internal::GetHardState(&d, &hs) || !d.empty()) return internal::Malformed("hard state");
  } else if (!absl::IsNotFound(st)) {
    return st;
  }
  absl::StatusOr<consensus::SnapshotMeta> meta = internal::ReadSnapshotMeta(*core_, nullptr);
  if (!meta.ok()) return meta.status();

  Index last = meta->index;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(rocksdb::ReadOptions(), core_->cf(internal::kRaftLog)));
  it->SeekToFirst();
  if (it->Valid()) {
    absl::StatusOr<Index> first = DecodeIndexKey(it->key());
    if (!first.ok()) return first.status();
    if (*first != meta->index + 1) {
      return absl::DataLossError(absl::StrCat("raft log starts at index ", *first,
                                              " but the snapshot ends at ", meta->index));
    }
    it->SeekToLast();
    absl::StatusOr<Index> back = DecodeIndexKey(it->key());
    if (!back.ok()) return back.status();
    last = *back;
  }
  st = internal::FromRocks(it->status(), "scanning the raft log");
  if (!st.ok()) return st;
  {
    absl::MutexLock lock(&mu_);
    hard_state_ = hs;
    snapshot_ = *meta;
    last_index_ = last;
  }
  return RebuildTermRuns();
}

// Terms never decrease along a Raft log, so each run of one term is found by
// binary search from the end: O(runs * log n) reads, not a scan of the log.
absl::Status RaftLogStore::RebuildTermRuns() {
  Index first = 0, hi = 0;
  {
    absl::MutexLock lock(&mu_);
    first = snapshot_.index + 1;
    hi = last_index_;
  }
  std::vector<std::pair<Index, Term>> runs;
  while (hi >= first && runs.size() < core_->options().term_runs_cached_max) {
    absl::StatusOr<Term> t = ReadTerm(hi);
    if (!t.ok()) return t.status();
    Index lo = first, top = hi;
    while (lo < top) {
      const Index mid = lo + (top - lo) / 2;
      absl::StatusOr<Term> m = ReadTerm(mid);
      if (!m.ok()) return m.status();
      if (*m >= *t) {
        top = mid;
      } else {
        lo = mid + 1;
      }
    }
    runs.emplace_back(lo, *t);
    hi = lo - 1;
  }
  std::reverse(runs.begin(), runs.end());
  absl::MutexLock lock(&mu_);
  term_runs_ = std::move(runs);
  return absl::OkStatus();
}

absl::StatusOr<Term> RaftLogStore::ReadTerm(Index i) const {
  std::string value;
  absl::Status st = core_->Get(internal::kRaftLog, U64Key(i), &value);
  if (absl::IsNotFound(st)) {
    return absl::DataLossError(absl::StrCat("raft log entry ", i, " is missing"));
  }
  if (!st.ok()) return st;
  Decoder d(value);
  uint64_t term = 0;
  if (!d.GetU64(&term)) return internal::Malformed(absl::StrCat("raft log entry ", i));
  return term;
}

absl::StatusOr<consensus::InitialState> RaftLogStore::LoadInitialState() const {
  consensus::InitialState state;
  Index last = 0;
  {
    absl::MutexLock lock(&mu_);
    state.hard_state = hard_state_;
    last = last_index_;
  }
  std::string value;
  absl::Status st = core_->Get(internal::kRaftState, internal::kConfStateKey, &value);
  if (st.ok()) {
    Decoder d(value);
    if (!internal::GetConfState(&d, &state.conf_state) || !d.empty()) {
      return internal::Malformed("saved conf state");
    }
    return state;
  }
  if (!absl::IsNotFound(st)) return st;
  // Never saved: the snapshot's membership plus the log's conf changes.
  absl::StatusOr<consensus::ConfState> cs = internal::ReadConfStateAt(*core_, last, nullptr);
  if (!cs.ok()) return cs.status();
  state.conf_state = *std::move(cs);
  return state;
}

absl::StatusOr<std::vector<Entry>> RaftLogStore::Entries(Index lo, Index hi,
                                                         size_t bytes_max) const {
  if (lo > hi) {
    return absl::InvalidArgumentError(absl::StrCat("entries: lo ", lo, " is above hi ", hi));
  }
  {
    absl::MutexLock lock(&mu_);
    if (lo <= snapshot_.index) return Compacted(lo, snapshot_.index);
    if (hi > last_index_ + 1) return PastEnd(hi - 1, last_index_);
  }
  std::vector<Entry> out;
  if (lo == hi) return out;
  const std::string end = U64Key(hi);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(ro, core_->cf(internal::kRaftLog)));
  size_t bytes = 0;
  for (it->Seek(U64Key(lo)); it->Valid(); it->Next()) {
    absl::StatusOr<Index> index = DecodeIndexKey(it->key());
    if (!index.ok()) return index.status();
    Entry e;
    if (!internal::DecodeRaftEntry(*index,
                                   absl::string_view(it->value().data(), it->value().size()), &e)) {
      return internal::Malformed(absl::StrCat("raft log entry ", *index));
    }
    if (*index != lo + out.size()) {
      return absl::DataLossError(
          absl::StrCat("raft log has a hole: found ", *index, ", expected ", lo + out.size()));
    }
    if (!out.empty() && bytes + e.ByteSize() > bytes_max) break;
    bytes += e.ByteSize();
    out.push_back(std::move(e));
  }
  absl::Status st = internal::FromRocks(it->status(), "reading raft log entries");
  if (!st.ok()) return st;
  if (out.empty()) {
    // The log changed under us (compacted or truncated) after the bounds check.
    const Index first = FirstIndex();
    return lo < first ? Compacted(lo, first - 1) : PastEnd(lo, LastIndex());
  }
  return out;
}

absl::StatusOr<Term> RaftLogStore::TermAt(Index i) const {
  {
    absl::MutexLock lock(&mu_);
    if (i == snapshot_.index) return snapshot_.term;
    if (i < snapshot_.index) return Compacted(i, snapshot_.index);
    if (i > last_index_) return PastEnd(i, last_index_);
    if (!term_runs_.empty() && i >= term_runs_.front().first) {
      auto it = std::upper_bound(
          term_runs_.begin(), term_runs_.end(), i,
          [](Index v, const std::pair<Index, Term>& run) { return v < run.first; });
      return std::prev(it)->second;
    }
  }
  return ReadTerm(i);  // older than the cached runs
}

Index RaftLogStore::FirstIndex() const {
  absl::MutexLock lock(&mu_);
  return snapshot_.index + 1;
}

Index RaftLogStore::LastIndex() const {
  absl::MutexLock lock(&mu_);
  return last_index_;
}

consensus::SnapshotMeta RaftLogStore::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

consensus::HardState RaftLogStore::hard_state() const {
  absl::MutexLock lock(&mu_);
  return hard_state_;
}

absl::StatusOr<absl::Span<const Entry>> RaftLogStore::EntriesToWrite(
    absl::Span<const Entry> entries) const {
  Index snapshot_index = 0, last = 0, commit = 0;
  {
    absl::MutexLock lock(&mu_);
    snapshot_index = snapshot_.index;
    last = last_index_;
    commit = hard_state_.commit;
  }
  size_t skip = 0;
  while (skip < entries.size() && entries[skip].index <= snapshot_index) ++skip;
  // Committed entries never change (Log Matching: same index and term, same
  // entry), so resent committed entries are skipped; a different term there
  // would rewrite history.
  const Index committed = std::max(commit, core_->applied().index);
  while (skip < entries.size() && entries[skip].index <= std::min(committed, last)) {
    absl::StatusOr<Term> term = TermAt(entries[skip].index);
    if (!term.ok()) return term.status();
    CAIRN_CHECK(*term == entries[skip].term)
        << "truncating committed raft log entries: index " << entries[skip].index << " has term "
        << *term << ", new entry has term " << entries[skip].term << ", committed " << committed;
    ++skip;
  }
  entries.remove_prefix(skip);
  if (entries.empty()) return entries;

  const Index first_new = entries.front().index;
  CAIRN_CHECK(first_new <= last + 1)
      << "raft log append leaves a gap: first new index " << first_new << ", last " << last;
  CAIRN_CHECK(first_new > last || first_new > committed)
      << "truncating committed raft log entries: first new " << first_new << ", committed "
      << committed;
  absl::StatusOr<Term> prev_term = TermAt(first_new - 1);
  if (!prev_term.ok()) return prev_term.status();
  Term prev = *prev_term;
  for (size_t k = 0; k < entries.size(); ++k) {
    const Entry& e = entries[k];
    CAIRN_CHECK(e.index == first_new + k) << "raft log append is not consecutive at " << e.index;
    CAIRN_CHECK(e.term >= prev) << "raft log term decreases at index " << e.index << ": " << prev
                                << " -> " << e.term;
    prev = e.term;
  }
  return entries;
}

void RaftLogStore::AddAppendWrites(absl::Span<const Entry> entries, Index last,
                                   rocksdb::WriteBatch* batch) const {
  const Index first_new = entries.front().index;
  if (first_new <= last) {
    // Range deletions first: the puts after them in the batch win.
    batch->DeleteRange(core_->cf(internal::kRaftLog), U64Key(first_new), U64Key(last + 1));
    batch->DeleteRange(core_->cf(internal::kRaftState), internal::ConfChangeKey(first_new),
                       internal::ConfChangeKey(last + 1));
  }
  for (const Entry& e : entries) {
    batch->Put(core_->cf(internal::kRaftLog), U64Key(e.index), internal::EncodeRaftEntry(e));
    if (e.conf_change) {
      std::string cc;
      internal::PutConfChange(&cc, *e.conf_change);
      batch->Put(core_->cf(internal::kRaftState), internal::ConfChangeKey(e.index), cc);
    }
  }
}

absl::Status RaftLogStore::Save(const Write& write) {
  absl::MutexLock write_lock(&write_mu_);
  absl::StatusOr<absl::Span<const Entry>> to_write = EntriesToWrite(write.entries);
  if (!to_write.ok()) return to_write.status();
  rocksdb::WriteBatch batch;
  if (!to_write->empty()) AddAppendWrites(*to_write, LastIndex(), &batch);
  std::string value;
  if (write.hard_state) {
    internal::PutHardState(&value, *write.hard_state);
    batch.Put(core_->cf(internal::kRaftState), internal::kHardStateKey, value);
  }
  if (write.conf_state) {
    value.clear();
    internal::PutConfState(&value, *write.conf_state);
    batch.Put(core_->cf(internal::kRaftState), internal::kConfStateKey, value);
  }
  if (batch.Count() == 0) return core_->write_error();
  const bool sync = write.must_sync || !write.entries.empty();
  absl::Status st = core_->Write(&batch, sync, "saving raft log entries");
  if (!st.ok()) return st;

  absl::MutexLock lock(&mu_);
  if (!to_write->empty()) {
    last_index_ = to_write->back().index;
    AppendTermRuns(*to_write);
  }
  if (write.hard_state) hard_state_ = *write.hard_state;
  return absl::OkStatus();
}

void RaftLogStore::AppendTermRuns(absl::Span<const Entry> entries) {
  const Index first_new = entries.front().index;
  while (!term_runs_.empty() && term_runs_.back().first >= first_new) term_runs_.pop_back();
  for (const Entry& e : entries) {
    if (term_runs_.empty() || term_runs_.back().second != e.term) {
      term_runs_.emplace_back(e.index, e.term);
    }
  }
  const size_t max = std::max<size_t>(core_->options().term_runs_cached_max, 1);
  if (term_runs_.size() > max) {
    term_runs_.erase(term_runs_.begin(), term_runs_.end() - static_cast<ptrdiff_t>(max));
  }
}

absl::Status RaftLogStore::Bootstrap(const consensus::ConfState& conf_state) {
  absl::MutexLock write_lock(&write_mu_);
  consensus::SnapshotMeta meta;
  {
    absl::MutexLock lock(&mu_);
    if (snapshot_.index != 0 || last_index_ != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot bootstrap membership: the raft log already holds entries up to ", last_index_));
    }
  }
  meta.conf_state = conf_state;
  std::string value;
  internal::PutSnapshotMeta(&value, meta);
  rocksdb::WriteBatch batch;
  batch.Put(core_->cf(internal::kRaftState), internal::kSnapshotMetaKey, value);
  // Membership now follows from the snapshot metadata (and later saves).
  batch.Delete(core_->cf(internal::kRaftState), internal::kConfStateKey);
  absl::Status st = core_->Write(&batch, /*sync=*/true, "bootstrapping membership");
  if (!st.ok()) return st;
  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(meta);
  return absl::OkStatus();
}

absl::Status RaftLogStore::Compact(Index index,
                                   const std::optional<consensus::ConfState>& conf_state) {
  absl::MutexLock write_lock(&write_mu_);
  Index snapshot_index = 0, last = 0;
  {
    absl::MutexLock lock(&mu_);
    snapshot_index = snapshot_.index;
    last = last_index_;
  }
  if (index <= snapshot_index) return core_->write_error();
  if (index > last) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot compact the raft log to ", index, ": last index is ", last));
  }
  const uint64_t applied = core_->applied().index;
  if (index > applied) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot compact the raft log to ", index, ": applied index is ", applied,
                     " and entries above it are needed to rebuild the ledger after a crash"));
  }
  // The rule that keeps compaction safe: make the applied index durable first.
  absl::Status st = core_->MakeAppliedDurable();
  if (!st.ok()) return st;

  consensus::SnapshotMeta meta;
  meta.index = index;
  absl::StatusOr<Term> term = TermAt(index);
  if (!term.ok()) return term.status();
  meta.term = *term;
  if (conf_state) {
    meta.conf_state = *conf_state;
  } else {
    absl::StatusOr<consensus::ConfState> cs = internal::ReadConfStateAt(*core_, index, nullptr);
    if (!cs.ok()) return cs.status();
    meta.conf_state = *std::move(cs);
  }

  rocksdb::WriteBatch batch;
  batch.DeleteRange(core_->cf(internal::kRaftLog), U64Key(0), U64Key(index + 1));
  batch.DeleteRange(core_->cf(internal::kRaftState), internal::ConfChangeKey(0),
                    internal::ConfChangeKey(index + 1));
  std::string value;
  internal::PutSnapshotMeta(&value, meta);
  batch.Put(core_->cf(internal::kRaftState), internal::kSnapshotMetaKey, value);
  st = core_->Write(&batch, /*sync=*/true, "compacting the raft log");
  if (!st.ok()) return st;

  absl::MutexLock lock(&mu_);
  snapshot_ = std::move(meta);
  while (term_runs_.size() >= 2 && term_runs_[1].first <= index + 1) {
    term_runs_.erase(term_runs_.begin());
  }
  if (!term_runs_.empty() && term_runs_.front().first <= index)
    term_runs_.front().first = index + 1;
  if (index >= last_index_) term_runs_.clear();
  return absl::OkStatus();
}

void RaftLogStore::ResetToSnapshot(const consensus::SnapshotMeta& meta) {
  absl::MutexLock lock(&mu_);
  snapshot_ = meta;
  last_index_ = meta.index;
  hard_state_.commit = std::max(hard_state_.commit, meta.index);
  term_runs_.clear();
}

}  // namespace cairn::storage
