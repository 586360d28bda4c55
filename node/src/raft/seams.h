// The seams through which the Raft loop reaches the world: its peers (Raft
// messages, snapshot transfers), its durable log, and snapshots that arrive
// for it. The loop's state machine is the other seam (apply/state_machine.h),
// its clock the `now` its driver passes (RaftLoop::DriveOnce), its randomness
// a seed (RaftLoopOptions::random_seed).
//
// A node wires gRPC and RocksDB behind them (peer/transport.h,
// peer/snapshot_sender.h, raft/stored_log.h); the cluster simulator
// (tests/sim) wires a simulated network and disk, and unit tests wire
// recorders, so what the loop sends and writes, and when, can be checked
// message by message over the real loop.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "cairn/consensus/storage.h"
#include "cairn/consensus/types.h"

namespace cairn::node {

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Adds a peer or changes its address.
  virtual void SetPeer(consensus::NodeId id, const std::string& address) = 0;
  virtual void RemovePeer(consensus::NodeId id) = 0;
  // Ids of the peers messages can be sent to.
  virtual std::vector<consensus::NodeId> PeerIds() = 0;
  // Queues each message for its recipient; never blocks the caller. A
  // message that cannot be delivered is dropped (Raft retransmits).
  virtual void Send(std::vector<consensus::Message> messages) = 0;
};

class SnapshotTransfers {
 public:
  virtual ~SnapshotTransfers() = default;
  // Starts streaming a snapshot to message.to (kSnapshot); never blocks.
  virtual void Send(consensus::Message message) = 0;
};

// The loop's Raft log: what the core reads, and one durable write per Ready.
class DurableLog {
 public:
  // One Ready's worth of durable Raft state (see storage::RaftLogStore::Save).
  struct Write {
    std::optional<consensus::HardState> hard_state;
    absl::Span<const consensus::Entry> entries;
    std::optional<consensus::ConfState> conf_state;
    // Ready::must_sync; entries are always synced.
    bool must_sync = true;
  };

  virtual ~DurableLog() = default;
  // What the core (and the loop) reads: entries, terms, bounds, snapshot.
  virtual consensus::LogStorage* reader() = 0;
  // Makes `write` durable (synced unless it has no entries and !must_sync)
  // before it returns OK.
  virtual absl::Status Save(const Write& write) = 0;
  // Drops entries up to `index`, which becomes the snapshot point, with
  // membership `conf_state` (unknown: computed by the log from its records).
  virtual absl::Status Compact(consensus::Index index,
                               std::optional<consensus::ConfState> conf_state) = 0;
};

// A snapshot that arrived whole (checksummed) and waits for the core to
// accept it.
class IncomingSnapshot {
 public:
  virtual ~IncomingSnapshot() = default;
  // Replaces the log and the ledger state with the snapshot described by
  // `meta`, durably, before the loop reloads its state machine.
  virtual absl::Status Install(const consensus::SnapshotMeta& meta) = 0;
};

}  // namespace cairn::node
