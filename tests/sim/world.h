// The deterministic cluster simulator: RawNodes over a simulated network and
// disk, driven by one seeded PRNG and a discrete event queue.
//
// Time is virtual (milliseconds). Every node ticks every kTickMs. A message
// is delivered after a random delay (so messages reorder), or lost, or
// duplicated, or dropped by a partition. A node's Ready is handled like the
// real node's I/O loop does it: send messages_now, start one disk write for
// the snapshot/entries/hard state, and only when that write completes (a
// random latency later) make it durable, send messages_after_persist and
// Advance. Committed entries are applied before the write starts, as the
// real node does (node/src/raft/raft_loop.cc), or after it completes (a random
// choice per Ready; always after when the Ready installs a snapshot). Input
// arriving meanwhile waits in the node's inbox. A crash discards everything
// not yet durable: a write in progress, and writes made without fsync
// (Ready::must_sync false) since the last synced one, of which it keeps a
// random prefix. The state machine (applied index and digest) is durable,
// like the ledger's.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cairn/consensus/memory_storage.h"
#include "cairn/consensus/raw_node.h"
#include "checker.h"
#include "rng.h"

namespace cairn::sim {

using consensus::Message;
using consensus::MessageType;

struct SimOptions {
  uint64_t seed = 1;
  int steps = 10000;  // events before the network heals
  int nodes = 0;      // 3..7; 0 picks one per seed
  consensus::InjectedBug bug = consensus::InjectedBug::kNone;
  bool trace = false;
  // Check the lemmas too, not only the outcomes: one vote per server and
  // term, and that every Ready that must be synced says so (must_sync).
  bool check_lemmas = true;
  // Test hook for raft_sim's abort handling: a CAIRN_CHECK fails mid-run.
  bool abort_midway = false;
};

struct SimStats {
  int nodes = 0;
  bool pre_vote = false;
  bool check_quorum = false;
  Term max_term = 0;
  Index max_commit = 0;
  size_t acked = 0;
  int crashes = 0;
  int partitions = 0;
  int snapshots_installed = 0;
  int conf_changes_applied = 0;
  int transfers = 0;
  int reads_answered = 0;
  int compactions = 0;
  int backpressure = 0;
  int removed_running = 0;   // removed servers left running
  int removed_unaware = 0;   // ... that never learned of their removal
  uint64_t liveness_ms = 0;  // time from healing to a committed proposal
};

struct SimResult {
  bool ok = true;
  std::string violation;
  SimStats stats;
};

SimResult RunSimulation(const SimOptions& options);

// --- internals shared by world.cc and actions.cc ---

inline constexpr uint64_t kTickMs = 10;

struct SimNode;

// Input to a node's core, queued while the node waits for its disk: the I/O
// loop takes network messages, timer ticks, transport reports and client
// calls one at a time between Readies.
struct Input {
  enum class Kind : uint8_t { kTick, kMessage, kSnapshotReport, kUnreachable, kCall };
  Kind kind = Kind::kTick;
  Message message;                     // kMessage; for reports, `to` names the peer
  bool ok = false;                     // kSnapshotReport
  std::function<void(SimNode&)> call;  // kCall: a client request
};

struct SimNode {
  NodeId id = 0;
  bool up = false;
  // Its removal committed. The operator then shuts it down for good
  // (decommissioned) or leaves it running, restarting it after crashes.
  bool removed = false;
  Index removal_index = 0;  // where its removal is in the log
  bool decommissioned = false;
  uint64_t incarnation = 0;
  consensus::Config config;
  std::unique_ptr<consensus::MemoryStorage> disk;
  std::unique_ptr<consensus::RawNode> raw;
  std::deque<Input> inbox;
  std::optional<consensus::Ready> in_flight;  // a disk write in progress
  // The disk as a power failure leaves it: hard state and membership as of
  // the last synced write, and the unsynced writes since, oldest first.
  // Entries and snapshots are always synced (the checker insists).
  consensus::HardState synced_hard;
  consensus::ConfState synced_conf;
  std::vector<std::pair<std::optional<consensus::HardState>, std::optional<consensus::ConfState>>>
      unsynced;
  // Durable state machine.
  Index applied = 0;
  uint64_t digest = 0;
  // This node's latest snapshot (taken or installed): the payload it streams.
  Index snap_index = 0;
  uint64_t snap_digest = 0;
  // Payloads that arrived with kSnapshot messages, by snapshot index.
  std::map<Index, uint64_t> received_snapshots;
  // What the checker last saw of this incarnation.
  Index seen_commit = 0;
  consensus::Role seen_role = consensus::Role::kFollower;
  Term seen_term = 0;
};

struct Event {
  enum class Kind : uint8_t {
    kTick,
    kDeliver,
    kDiskDone,
    kSnapshotReport,
    kAction,
    kRestart,
    kCrash,
    kPhase
  };
  uint64_t time = 0;
  uint64_t seq = 0;
  Kind kind = Kind::kTick;
  NodeId node = 0;
  uint64_t incarnation = 0;
  Message message;
  uint64_t payload = 0;  // snapshot digest (kDeliver of kSnapshot)
  bool ok = false;       // kSnapshotReport

  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

struct Proposal {
  NodeId node = 0;
  uint64_t incarnation = 0;
  Term term = 0;
  std::string data;
};

class World {
 public:
  explicit World(const SimOptions& options);
  SimResult Run();

 private:
  // world.cc: nodes, network, disk.
  void Schedule(Event e, uint64_t delay);
  void Dispatch(Event& e);
  // A disk write completes, or power fails just before or after it.
  void DiskDone(Event& e);
  SimNode& AddNode(NodeId id, const consensus::ConfState& bootstrap);
  void Boot(SimNode& n);
  void Crash(SimNode& n);
  // Crashes `n` and restarts it a moment later, while its messages fly on.
  void Bounce(SimNode& n);
  void Send(SimNode& from, Message m);
  void Deliver(Event& e);
  void Feed(SimNode& n, Input in);
  void AfterInput(SimNode& n);
  void Drive(SimNode& n);
  void Complete(SimNode& n);
  void Persist(SimNode& n, consensus::Ready& rd);
  // Power fails: what was written without fsync may be lost.
  void LoseUnsyncedWrites(SimNode& n);
  void ApplyReady(SimNode& n, consensus::Ready& rd);
  void Apply(SimNode& n, const Entry& e);
  bool Cut(NodeId from, NodeId to) const { return cut_.count({from, to}) > 0; }
  SimNode* Leader();
  std::string DumpState();
  void Trace(const std::string& line);
  bool Liveness();
  uint64_t LivenessBoundMs();
  int CountRemovedUnaware();

  // actions.cc: faults and client actions. Client calls are queued to the
  // node like any input and run when its I/O loop takes them.
  void RandomAction();
  void ClientAction(SimNode* leader, const std::vector<SimNode*>& live,
                    const std::vector<SimNode*>& leaders);
  void Call(SimNode& n, std::function<void(SimNode&)> call);
  void Propose(SimNode& n, const std::string& data);
  void ReadIndex(SimNode& n);
  void ChangeMembership(SimNode& leader);
  void Transfer(SimNode& leader);
  void Compact(SimNode& n);
  void PartitionRandomly(bool symmetric);
  void Heal();
  std::vector<SimNode*> Live();
  std::vector<SimNode*> Down();

  SimOptions options_;
  Rng rng_;
  Checker checker_;
  SimStats stats_;
  consensus::Config base_config_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::map<NodeId, SimNode> nodes_;
  NodeId next_id_ = 1;
  int nodes_max_ = 0;
  // Network conditions.
  std::set<std::pair<NodeId, NodeId>> cut_;
  double loss_ = 0;
  double duplicate_ = 0;
  uint64_t delay_max_ms_ = 10;
  // Fault intensity of this run: actions happen every 1..action_gap_ms_.
  uint64_t action_gap_ms_ = 20;
  bool faults_ = true;
  // Runs alternate between storms (every kind of fault) and calm spells
  // (client traffic only; partitions heal and crashed nodes come back).
  bool storm_ = true;
  // Proposals awaiting their proposer's apply, by (node, index).
  std::map<std::pair<NodeId, Index>, Proposal> proposals_;
  uint64_t proposal_count_ = 0;
  uint64_t read_count_ = 0;
  // Liveness probe: the proposal made after healing, once acknowledged.
  std::string live_data_;
  bool live_acked_ = false;
  Index live_index_ = 0;
  uint64_t liveness_bound_ms_ = 0;
};

}  // namespace cairn::sim
