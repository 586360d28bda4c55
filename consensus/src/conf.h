// Membership: single-server changes and the history of changes in the log.
//
// Cairn changes membership one server at a time and a server uses the latest
// configuration in its log, committed or not (thesis §4.1). So the membership
// is a function of the log, and when a follower's uncommitted suffix is
// overwritten the membership must roll back with it. ConfHistory remembers
// the membership before each conf-change entry that is not yet applied, which
// is all a rollback can need: entries at or below the commit index never
// change, and applied <= committed.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus::internal {

bool IsVoter(const ConfState& conf, NodeId id);
bool IsLearner(const ConfState& conf, NodeId id);

// The membership after `change`, or InvalidArgument naming why it does not fit
// (adding a member, promoting a non-learner, removing a non-member or the last
// voter). All nodes reach the same verdict for the same entry.
absl::StatusOr<ConfState> ApplyConfChange(const ConfState& conf, const ConfChange& change);

// The membership after an entry: invalid changes leave it unchanged. (A leader
// never appends one; this keeps replay total and identical on every node.)
ConfState ConfAfter(const ConfState& conf, const ConfChange& change);

class ConfHistory {
 public:
  // Membership `conf` as of log index `index`, with no changes after it yet.
  void Reset(const ConfState& conf, Index index);

  // The membership as of the last entry of the log.
  const ConfState& Latest() const;
  // The membership as of the index passed to the last Fold().
  const ConfState& Applied() const { return base_; }
  // The membership as of log index `index` (>= the last Fold()).
  const ConfState& AsOf(Index index) const;
  // Servers that a conf change above the applied index removed and the
  // latest membership leaves out, each with the index of that change.
  std::map<NodeId, Index> RemovedSinceApplied() const;
  // Index of the last conf-change entry above the applied index (0 if none).
  Index LastChangeIndex() const { return changes_.empty() ? 0 : changes_.back().index; }
  bool HasChangeAfter(Index index) const { return LastChangeIndex() > index; }

  // A conf-change entry at `index` was appended after every recorded one.
  void Push(Index index, const ConfChange& change);
  // Entries at and after `index` were removed from the log. Returns true if
  // that removed a conf change (the membership rolled back).
  bool TruncateFrom(Index index);
  // Entries up to `index` are applied and can no longer be removed.
  void Fold(Index index);

 private:
  struct Change {
    Index index;
    ConfState after;
  };
  ConfState base_;
  Index base_index_ = 0;
  std::vector<Change> changes_;  // ascending index, all > base_index_
};

}  // namespace cairn::consensus::internal
