// The read side of durable Raft state, declared here by its consumer (the
// core) and implemented by storage/ (RocksDB) and by the simulator (memory).
//
// The core never writes through this interface: writes leave the core in a
// Ready batch and the node persists them. Contract, as in etcd's raft.Storage:
// the storage holds a contiguous run of entries [FirstIndex(), LastIndex()],
// preceded by a snapshot at FirstIndex() - 1 (index 0, term 0 when there is
// none). Entries before FirstIndex() were compacted away.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus {

struct InitialState {
  HardState hard_state;
  // Membership as of the last durable entry: the latest Ready::conf_state the
  // node persisted (or the snapshot's, or the bootstrap membership).
  ConfState conf_state;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Durable hard state and membership, read once when the core starts.
  virtual absl::StatusOr<InitialState> LoadInitialState() const = 0;

  // Entries in [lo, hi), at least one if lo < hi, then as many more as fit in
  // `bytes_max` bytes (Entry::ByteSize). Returns FailedPrecondition("compacted")
  // if lo < FirstIndex(), OutOfRange if hi > LastIndex() + 1.
  virtual absl::StatusOr<std::vector<Entry>> Entries(Index lo, Index hi,
                                                     size_t bytes_max) const = 0;

  // Term of entry i, for i in [FirstIndex() - 1, LastIndex()]. Returns
  // FailedPrecondition("compacted") below that range, OutOfRange above it.
  virtual absl::StatusOr<Term> TermAt(Index i) const = 0;

  // Index of the first entry still in the log (snapshot index + 1).
  virtual Index FirstIndex() const = 0;

  // Index of the last durable entry (snapshot index if the log is empty).
  virtual Index LastIndex() const = 0;

  // Metadata of the latest snapshot. When there is none: index 0, term 0 and
  // the bootstrap membership (empty on a node that joins). The core replays
  // conf changes from here when it must rebuild the membership history of the
  // log, and a leader sends it to a joining node that has nothing yet, so
  // storage must accept installing an index-0 snapshot into an empty log.
  virtual SnapshotMeta Snapshot() const = 0;
};

}  // namespace cairn::consensus
