// MemoryStorage: a LogStorage kept in memory, for tests and the simulator.
//
// It also has the write side a durable implementation needs, so it doubles as
// the reference for storage/: Append (with conflict truncation), SetHardState,
// SetConfState, ApplySnapshot (install a received snapshot) and Compact (the
// node's own snapshot and log compaction at an applied index). Writing is
// the node's job: it calls these while handling a Ready, never the core.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cairn/consensus/storage.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus {

class MemoryStorage final : public LogStorage {
 public:
  // An empty log whose membership is `bootstrap` (empty for a node that will
  // join an existing cluster as a learner).
  explicit MemoryStorage(ConfState bootstrap = {});

  absl::StatusOr<InitialState> LoadInitialState() const override;
  absl::StatusOr<std::vector<Entry>> Entries(Index lo, Index hi, size_t bytes_max) const override;
  absl::StatusOr<Term> TermAt(Index i) const override;
  Index FirstIndex() const override;
  Index LastIndex() const override;
  SnapshotMeta Snapshot() const override;

  // Appends contiguous entries; durable entries at or after entries.front().index
  // are replaced. FailedPrecondition if that would leave a gap or rewrite a
  // compacted entry.
  absl::Status Append(const std::vector<Entry>& entries);
  void SetHardState(const HardState& hard_state) { hard_state_ = hard_state; }
  void SetConfState(const ConfState& conf_state) { conf_state_ = conf_state; }
  const HardState& hard_state() const { return hard_state_; }

  // Installs a snapshot received from a leader: drops the whole log and takes
  // the snapshot's membership.
  // FailedPrecondition if it is older than the current snapshot.
  absl::Status ApplySnapshot(const SnapshotMeta& meta);
  // Records a snapshot of the node's own state at `index` (an applied index,
  // <= LastIndex()) with membership `conf_state` (RawNode::AppliedConfState)
  // and drops the entries it covers. FailedPrecondition if `index` is not
  // after the current snapshot or beyond the log.
  absl::Status Compact(Index index, const ConfState& conf_state);

 private:
  // Invariant: entries_ is contiguous and entries_[0] is the snapshot's
  // (index, term) marker, so TermAt(FirstIndex() - 1) needs no special case.
  std::vector<Entry> entries_;
  SnapshotMeta snapshot_;
  HardState hard_state_;
  ConfState conf_state_;
};

}  // namespace cairn::consensus
