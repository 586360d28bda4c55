// In-memory LogStorage with a write side (see memory_storage.h).
#include "cairn/consensus/memory_storage.h"

#include "absl/strings/str_cat.h"

namespace cairn::consensus {

MemoryStorage::MemoryStorage(ConfState bootstrap) {
  snapshot_.conf_state = bootstrap;
  conf_state_ = std::move(bootstrap);
  entries_.push_back(Entry{});  // marker for the (empty) snapshot at index 0
}

absl::StatusOr<InitialState> MemoryStorage::LoadInitialState() const {
  return InitialState{hard_state_, conf_state_};
}

Index MemoryStorage::FirstIndex() const { return entries_.front().index + 1; }

Index MemoryStorage::LastIndex() const { return entries_.front().index + entries_.size() - 1; }

SnapshotMeta MemoryStorage::Snapshot() const { return snapshot_; }

absl::StatusOr<Term> MemoryStorage::TermAt(Index i) const {
  const Index offset = entries_.front().index;
  if (i < offset) return absl::FailedPreconditionError("compacted");
  if (i > LastIndex()) return absl::OutOfRangeError(absl::StrCat("entry ", i, " beyond the log"));
  return entries_[i - offset].term;
}

absl::StatusOr<std::vector<Entry>> MemoryStorage::Entries(Index lo, Index hi,
                                                          size_t bytes_max) const {
  if (lo < FirstIndex()) return absl::FailedPreconditionError("compacted");
  if (hi > LastIndex() + 1) {
    return absl::OutOfRangeError(absl::StrCat("entries up to ", hi, " beyond the log"));
  }
  if (lo > hi) return absl::InvalidArgumentError("entries: lo > hi");
  std::vector<Entry> out;
  size_t bytes = 0;
  const Index offset = entries_.front().index;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset];
    if (!out.empty() && bytes + e.ByteSize() > bytes_max) break;
    bytes += e.ByteSize();
    out.push_back(e);
  }
  return out;
}

absl::Status MemoryStorage::Append(const std::vector<Entry>& entries) {
  for (size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != entries[k - 1].index + 1) {
      return absl::InvalidArgumentError("append: entries are not contiguous");
    }
  }
  size_t skip = 0;
  // Entries already covered by the snapshot are dropped, not rewritten.
  while (skip < entries.size() && entries[skip].index < FirstIndex()) ++skip;
  if (skip == entries.size()) return absl::OkStatus();
  const Index first = entries[skip].index;
  if (first > LastIndex() + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("append at ", first, " leaves a gap after ", LastIndex()));
  }
  entries_.resize(first - entries_.front().index);
  entries_.insert(entries_.end(), entries.begin() + skip, entries.end());
  return absl::OkStatus();
}

absl::Status MemoryStorage::ApplySnapshot(const SnapshotMeta& meta) {
  // A joining node with an empty log may install the bootstrap snapshot (index 0).
  const bool bootstrap = meta.index == 0 && LastIndex() == 0;
  if (meta.index <= snapshot_.index && !bootstrap) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot ", meta.index, " is not after ", snapshot_.index));
  }
  snapshot_ = meta;
  conf_state_ = meta.conf_state;
  entries_.assign(1, Entry{meta.term, meta.index, "", std::nullopt});
  return absl::OkStatus();
}

absl::Status MemoryStorage::Compact(Index index, const ConfState& conf_state) {
  if (index <= snapshot_.index || index > LastIndex()) {
    return absl::FailedPreconditionError(
        absl::StrCat("compact at ", index, " outside (", snapshot_.index, ", ", LastIndex(), "]"));
  }
  const Index offset = entries_.front().index;
  snapshot_ = SnapshotMeta{index, entries_[index - offset].term, conf_state};
  entries_.erase(entries_.begin(), entries_.begin() + (index - offset));
  entries_.front().data.clear();
  entries_.front().conf_change.reset();
  return absl::OkStatus();
}

}  // namespace cairn::consensus
