// Keys of the Raft state table and the membership arithmetic the Raft log
// store and snapshots share.
//
// The raft_state table holds the hard state, the snapshot metadata (index,
// term and membership of the compacted prefix), and one record per
// conf-change entry still in the log ('c' + index), so membership as of any
// index in the log is the snapshot's membership plus the recorded changes up
// to it, in order.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "cairn/consensus/types.h"
#include "db_core.h"

namespace rocksdb {
class Snapshot;
}  // namespace rocksdb

namespace cairn::storage::internal {

inline constexpr char kHardStateKey[] = "hard_state";
inline constexpr char kSnapshotMetaKey[] = "snapshot";
// The latest membership the node saved (Ready::conf_state).
inline constexpr char kConfStateKey[] = "conf_state";

// 'c' + big-endian index: the conf change carried by the entry at `index`.
std::string ConfChangeKey(consensus::Index index);

// Applies one membership change, one server at a time, as the consensus
// core does: AddLearner adds a non-member as a learner, PromoteLearner makes
// a learner a voter, RemoveNode removes a learner or a voter other than the
// last one. A change that breaks those rules (or names node 0) changes
// nothing. Lists stay sorted and disjoint.
void ApplyConfChange(const consensus::ConfChange& cc, consensus::ConfState* cs);

// The stored snapshot metadata (all zero when there is none), read at
// `snapshot` (null: latest).
absl::StatusOr<consensus::SnapshotMeta> ReadSnapshotMeta(const DbCore& core,
                                                         const rocksdb::Snapshot* snapshot);

// Membership as of log index `index` (>= the snapshot index), read at
// `snapshot` (null: latest).
absl::StatusOr<consensus::ConfState> ReadConfStateAt(const DbCore& core, consensus::Index index,
                                                     const rocksdb::Snapshot* snapshot);

}  // namespace cairn::storage::internal
