// The deterministic cluster simulator: the node's real Raft loop
// (node/src/raft/raft_loop.h: its Ready handling, in-flight idempotency keys,
// signing gates, waiters) on every simulated node, over a simulated network,
// disk and clock, driven by one seeded PRNG and a discrete event queue.
//
// Time is virtual (milliseconds); it reaches a loop as the `now` of each
// DriveOnce. Every node ticks every kTickMs. A message is delivered after a
// random delay (so messages reorder), or lost, or duplicated, or dropped by a
// partition. Inputs (messages, transport reports, client calls) queue in the
// loop's own inbox; the world drives the loop, which takes them all and
// handles every Ready as a node does. Each durable write takes a random time:
// the node is busy until the last write of an iteration completes (inputs
// wait in the inbox meanwhile, as in a node blocked in fsync), and whatever
// it sends after a write leaves when that write completes. Power can fail in
// the middle of a write: the write and everything the node did after it
// vanish. A crash also discards writes made without fsync (must_sync false)
// since the last synced one, of which it keeps a random prefix. The state
// machine (applied index, digest, idempotency keys, signature state) is
// durable, like the ledger's; snapshots carry it whole.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apply/governance.h"
#include "apply/idempotency.h"
#include "apply/signer.h"
#include "apply/state_machine.h"
#include "cairn/consensus/memory_storage.h"
#include "cairn/consensus/raw_node.h"
#include "checker.h"
#include "observe/metrics.h"
#include "raft/index_waiters.h"
#include "raft/raft_loop.h"
#include "raft/seams.h"
#include "rng.h"

namespace cairn::sim {

using consensus::Message;
using consensus::MessageType;

struct SimOptions {
  uint64_t seed = 1;
  int steps = 10000;  // events before the network heals
  int nodes = 0;      // 3..7; 0 picks one per seed
  consensus::InjectedBug bug = consensus::InjectedBug::kNone;
  // The loop's test-only switch that puts back the lost acknowledged write
  // of a retry joining a replaced entry (RaftLoopOptions).
  bool inject_stale_idempotency_join = false;
  bool trace = false;
  // Check the lemmas too, not only the outcomes: one vote per server and
  // term, and that every write that must be synced says so (must_sync).
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
  int pauses = 0;
  int partitions = 0;
  int snapshots_installed = 0;
  int conf_changes_applied = 0;
  int transfers = 0;
  int reads_answered = 0;
  int compactions = 0;
  int backpressure = 0;
  int retries = 0;           // appends sent again with their idempotency key
  int retries_joined = 0;    // ... answered as duplicates of the first attempt
  int batches = 0;           // retries sent in a batch with other appends
  int signatures = 0;        // signature entries applied (on the first node to apply)
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

// --- internals shared by world.cc, sim_node.cc and actions.cc ---

inline constexpr uint64_t kTickMs = 10;

// The loop's clock at virtual time `ms`.
inline node::RaftLoop::Clock::time_point TimeAt(uint64_t ms) {
  return node::RaftLoop::Clock::time_point(std::chrono::milliseconds(ms));
}

// The durable state machine of a simulated node: what the ledger keeps.
struct MachineState {
  Index applied = 0;
  uint64_t digest = 0;  // ChainDigest over the applied entries
  Term applied_term = 0;
  uint64_t signed_size = 0;
  Index last_signable = 0;
  uint64_t unsigned_since_ms = 0;
  // Idempotency keys of applied appends: the entry holding each, and its
  // contents digest (apply/idempotency.h).
  std::map<std::string, std::pair<ledger::TxId, ledger::Hash>> keys;
};

// What a power failure in the middle of a write rolls a node back to.
struct DurableState {
  consensus::MemoryStorage disk;
  consensus::HardState synced_hard;
  consensus::ConfState synced_conf;
  std::vector<std::pair<std::optional<consensus::HardState>, std::optional<consensus::ConfState>>>
      unsynced;
  MachineState machine;
  Index snap_index = 0;
  MachineState snap_state;
};

class World;
struct SimNode;

// The seams of one node's loop (raft/seams.h, apply/state_machine.h,
// apply/signer.h), each handing the call to the world.
class SimSeams final : public node::DurableLog,
                       public node::StateMachine,
                       public node::PeerTransport,
                       public node::SnapshotTransfers,
                       public node::CheckpointSigner {
 public:
  SimSeams(World* world, SimNode* node) : world_(world), node_(node) {}

  // DurableLog.
  consensus::LogStorage* reader() override;
  absl::Status Save(const node::DurableLog::Write& write) override;
  absl::Status Compact(Index index, std::optional<consensus::ConfState> conf_state) override;
  // StateMachine.
  absl::Status Load() override { return absl::OkStatus(); }  // durable all along
  std::vector<node::ApplyResult> Apply(const std::vector<Entry>& entries) override;
  uint64_t applied_index() const override;
  uint64_t signed_tree_size() const override;
  node::SignState sign_state() const override;
  // PeerTransport: every node is reachable by id.
  void SetPeer(NodeId, const std::string&) override {}
  void RemovePeer(NodeId) override {}
  std::vector<NodeId> PeerIds() override { return {}; }
  void Send(std::vector<Message> messages) override;
  // SnapshotTransfers.
  void Send(Message message) override;
  // CheckpointSigner: a stand-in checkpoint (tree size, root), no signature.
  absl::StatusOr<std::string> SignatureCommand(uint64_t tree_size, const ledger::Hash& root,
                                               uint64_t last_term) override;

 private:
  World* const world_;
  SimNode* const node_;
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
  // Durable: survives crashes (but see DurableState for power failures).
  DurableState durable;
  // The process (rebuilt by every boot).
  std::unique_ptr<SimSeams> seams;
  std::unique_ptr<node::Governance> governance;
  std::unique_ptr<node::IndexWaiters> applied_waiters;
  std::unique_ptr<node::IndexWaiters> signed_waiters;
  std::unique_ptr<node::RaftLoop> loop;
  // Driving: the loop waits for its disk until busy_until, or is paused
  // (SIGSTOP) until paused_until; a tick that fell due meanwhile is owed.
  uint64_t busy_until = 0;
  uint64_t paused_until = 0;
  bool tick_owed = false;
  bool drive_owed = false;
  bool driving = false;
  // Within one drive: time the writes so far take, and whether power failed
  // during one of them (then the node crashes when the drive returns, and
  // nothing it did from that write on happened).
  uint64_t write_delay = 0;
  bool wrote = false;
  bool voted = false;
  std::optional<DurableState> doomed;
  // What the checker last saw of this incarnation.
  Index seen_commit = 0;
  consensus::Role seen_role = consensus::Role::kFollower;
  Term seen_term = 0;
};

struct Event {
  enum class Kind : uint8_t {
    kTick,
    kDeliver,
    kWake,  // a node's disk write completed, or its pause ended
    kSnapshotReport,
    kRetry,  // a client sends an unanswered append again
    kUnreachable,
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
  std::shared_ptr<const MachineState> snapshot;  // kDeliver of kSnapshot: its payload
  bool ok = false;                               // kSnapshotReport; kWake: after a vote
  size_t append = 0;                             // kRetry: index into World::appends_

  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

// An append a client sent, and sends again (with its key) until answered.
struct ClientAppend {
  std::string command;  // a serialized LogCommand
  node::AppendIdentity identity;
  NodeId first_node = 0;
  bool acked = false;
};

class World {
 public:
  explicit World(const SimOptions& options);
  // Stops every loop first: what they answer on the way out reaches nobody.
  ~World();
  SimResult Run();

 private:
  friend class SimSeams;

  // world.cc: nodes, network, disk, driving the loops.
  void Schedule(Event e, uint64_t delay);
  void Dispatch(Event& e);
  SimNode& AddNode(NodeId id, const consensus::ConfState& bootstrap);
  void Boot(SimNode& n);
  void Crash(SimNode& n);
  // Crashes `n` and restarts it a moment later, while its messages fly on.
  void Bounce(SimNode& n);
  // Runs one iteration of `n`'s loop now, or as soon as it is neither
  // waiting for its disk nor paused.
  void Drive(SimNode& n, bool tick);
  void Wake(SimNode& n);
  // Checks that can be made after any iteration of a node's loop.
  void AfterDrive(SimNode& n);
  // The commit checks of AfterDrive; also made before a node applies.
  void CheckCommit(SimNode& n, const consensus::NodeStatus& s);
  // Power fails: what was written without fsync may be lost.
  void LoseUnsyncedWrites(SimNode& n);
  void Deliver(Event& e);
  bool Cut(NodeId from, NodeId to) const { return cut_.count({from, to}) > 0; }
  SimNode* Leader();
  std::string DumpState();
  void Trace(const std::string& line);
  bool Liveness();
  uint64_t LivenessBoundMs();
  int CountRemovedUnaware();

  // sim_node.cc: what the seams of a node's loop do.
  absl::Status Persist(SimNode& n, const node::DurableLog::Write& write);
  absl::Status CompactLog(SimNode& n, Index index, std::optional<consensus::ConfState> conf);
  std::vector<node::ApplyResult> ApplyEntries(SimNode& n, const std::vector<Entry>& entries);
  void ApplyOne(SimNode& n, const Entry& e, node::ApplyResult* result);
  void SendMessage(SimNode& from, Message m);
  void SendSnapshot(SimNode& from, Message m);
  void InstallSnapshot(SimNode& n, const consensus::SnapshotMeta& meta,
                       const MachineState& payload);
  // True when what `n` does now reaches nobody: it is down, or power failed
  // earlier in this drive.
  bool Silenced(const SimNode& n) const { return !n.up || n.doomed.has_value(); }

  // actions.cc: faults and client actions; client calls go to a node's
  // loop like a client's RPC does.
  void RandomAction();
  void ClientAction(SimNode* leader, const std::vector<SimNode*>& live,
                    const std::vector<SimNode*>& leaders);
  void Propose(SimNode& n, size_t append);
  // Sends `appends` (distinct, keys distinct) to `n` as one batch
  // (RaftLoop::ProposeBatch, as AppendBatch does).
  void ProposeBatch(SimNode& n, const std::vector<size_t>& appends);
  // A new append of `contents` (with an idempotency key when `keyed`).
  void NewAppend(SimNode& target, const std::string& contents, bool keyed);
  void RetryAppend(const std::vector<SimNode*>& live);
  void OnAppendAnswer(NodeId id, uint64_t incarnation, size_t append,
                      const absl::StatusOr<node::CommitResult>& result);
  void ReadIndex(SimNode& n);
  void ChangeMembership(SimNode& leader);
  void Transfer(SimNode& leader);
  void Compact(SimNode& n);
  void Pause(SimNode& n);
  void PartitionRandomly(bool symmetric);
  void Heal();
  std::vector<SimNode*> Live();
  std::vector<SimNode*> Down();

  SimOptions options_;
  Rng rng_;
  // Whether a retry goes out alone or batched with other unanswered appends:
  // a stream of its own, so the main stream's draws, and with them the
  // schedules the seeds were chosen for, do not shift.
  Rng batch_rng_;
  Checker checker_;
  SimStats stats_;
  consensus::Config base_config_;
  uint64_t signature_interval_txs_ = 0;
  uint64_t signature_interval_ms_ = 0;
  uint64_t snapshot_interval_entries_ = 0;
  node::NodeMetrics metrics_;  // shared: nothing reads it
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
  // Every append a client sent, in order; unanswered ones may be retried.
  std::vector<ClientAppend> appends_;
  std::vector<size_t> unacked_;  // indexes into appends_, oldest first
  // The first applied (term, data) at each index: what an answer points at.
  std::map<Index, std::pair<Term, std::string>> applied_data_;
  uint64_t read_count_ = 0;
  uint64_t conf_count_ = 0;
  // Liveness probe: the append made after healing, once acknowledged.
  std::optional<size_t> live_append_;
  bool live_acked_ = false;
  Index live_index_ = 0;
  uint64_t liveness_bound_ms_ = 0;
};

}  // namespace cairn::sim
