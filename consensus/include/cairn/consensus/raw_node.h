// RawNode: the Raft core as a pure state machine (etcd-raft RawNode style).
//
// The node feeds it inputs (Tick, Step, Propose, ...) and drains its outputs
// as Ready batches. The core performs no I/O, owns no thread and reads no
// clock: it reads durable state through LogStorage and tells the node, in a
// Ready, what to persist, send and apply. Everything it decides is a function
// of its inputs and Config::random_seed, so a cluster of RawNodes replays
// exactly under a simulator.
//
// Threading: a RawNode is not thread-safe; one I/O loop owns it.
// Sequencing: after GetReady() the caller must persist/send/apply that Ready
// and call Advance() before calling any other mutating method (checked).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/consensus/config.h"
#include "cairn/consensus/storage.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus {

namespace internal {
class Raft;
}  // namespace internal
struct RawNodeState;

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
absl::string_view RoleName(Role role);

// Volatile state the node may want to show or act on (who leads); never persisted.
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// The answer to a ReadIndex(context) request (thesis §6.4): once the node's
// applied index reaches `index`, a read of the state machine is linearizable.
struct ReadState {
  Index index = 0;
  std::string context;
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

// Where accepted proposals landed: entries first_index..last_index of `term`.
// Transaction ids are term.index; they commit or are lost together with
// their term (a later leader may overwrite them).
struct ProposalPosition {
  Term term = 0;
  Index first_index = 0;
  Index last_index = 0;
};

// One batch of work for the node's I/O loop. The ORDERING RULE, enforced by
// the node in one function:
//
//   1. `messages_now` may be sent at once, before or while persisting. They
//      are only AppendEntries, heartbeats, snapshots, TimeoutNow and ReadIndex
//      answers of a leader whose term and vote are already durable; a leader
//      counts its own log towards commitment only once it is durable, so it
//      may replicate in parallel with its own fsync (Raft thesis §10.2.1).
//   2. Persist `snapshot` (install the payload received with it), then
//      `entries` (first delete any durable entries at or after
//      entries.front().index, they conflict), then `hard_state` and
//      `conf_state`, as one atomic batch; fsync it if `must_sync`.
//   3. Only after that batch is durable, send `messages_after_persist`
//      (votes, append/vote responses, ...: they promise the durable state).
//   4. Apply `committed_entries` in order and hand `read_states` to waiting
//      readers. Committed entries are always already durable on this node
//      (they come only from earlier, acknowledged Readies), so applying may
//      overlap step 2; a read state may be answered once applied >= index.
//   5. Call RawNode::Advance().
//
// If the batch in step 2 fails, the node must stop (STYLE.md §6): it may never
// send the messages of step 3 or call Advance().
struct Ready {
  // Set when the leader or role changed.
  std::optional<SoftState> soft_state;
  // Safe to send immediately (see step 1).
  std::vector<Message> messages_now;
  // A snapshot to install: the node received its payload along with the
  // kSnapshot message that produced it. Replaces the state machine and the
  // whole log (FirstIndex becomes snapshot->index + 1). A node that joined
  // with empty storage may get index 0: the bootstrap snapshot of a log that
  // was never compacted (empty state, the cluster's initial membership).
  std::optional<SnapshotMeta> snapshot;
  // Entries to append to the durable log, contiguous, in index order.
  std::vector<Entry> entries;
  // Set when term, vote or commit changed.
  std::optional<HardState> hard_state;
  // Membership as of the last entry of the log once this Ready is persisted
  // (a server uses the latest configuration in its log, thesis §4.1); set when
  // it changed. Stored with the hard state; LoadInitialState returns it.
  std::optional<ConfState> conf_state;
  // True when the batch must be fsynced before step 3: it holds entries, a
  // snapshot, or a new term or vote. A commit-only change need not be synced.
  bool must_sync = false;
  // Send only after snapshot, entries, hard_state and conf_state are durable.
  std::vector<Message> messages_after_persist;
  // Entries to apply to the state machine, contiguous, in index order.
  std::vector<Entry> committed_entries;
  // Answers to ReadIndex requests made on this node.
  std::vector<ReadState> read_states;
};

// A follower's replication progress as the leader sees it (thesis §3.5, §10.2).
struct FollowerProgress {
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };
  NodeId id = kNoNode;
  bool is_learner = false;
  State state = State::kProbe;
  Index match = 0;
  Index next = 0;
  size_t inflight_messages = 0;
  // Heard from within the last election timeout.
  bool recent_active = false;
  // Removed from the membership, replicated to until it knows (is_learner
  // is then true too; it counts in no quorum).
  bool leaving = false;
};

struct NodeStatus {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  NodeId leader = kNoNode;
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;
  Index applied = 0;
  Index first_index = 0;
  Index last_index = 0;
  // Membership as of the last log entry.
  ConfState conf_state;
  // Target of an ongoing leadership transfer, or kNoNode.
  NodeId lead_transferee = kNoNode;
  // Bytes of entries this leader appended in its term and has not committed.
  size_t uncommitted_bytes = 0;
};

class RawNode {
 public:
  // Restores the core from `storage` (which must outlive it) and `config`.
  // A fresh cluster starts from storage holding the bootstrap membership.
  static absl::StatusOr<std::unique_ptr<RawNode>> Create(const Config& config,
                                                         const LogStorage* storage);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances logical time by one tick (elections, heartbeats, check-quorum).
  void Tick();

  // Starts an election now (pre-vote first when enabled). FailedPrecondition
  // if this node is not a voter; OK and nothing happens if it already leads.
  absl::Status Campaign();

  // Hands a message from the network to the core. Returns InvalidArgument for
  // a malformed message (wrong recipient, entries out of order); messages that
  // are merely stale are ignored and return OK.
  absl::Status Step(const Message& message);

  // Appends `data` entries to the log (leader only). UNAVAILABLE when not the
  // leader or while a leadership transfer is in progress, RESOURCE_EXHAUSTED
  // when uncommitted_bytes_max is reached. Nothing is appended on error.
  absl::StatusOr<ProposalPosition> Propose(std::vector<std::string> data);
  absl::StatusOr<ProposalPosition> Propose(std::string data);

  // Appends one membership change; `data` is opaque to the core (the node's
  // governance transaction). Single-server changes (docs/consensus.md):
  // FAILED_PRECONDITION while another change is uncommitted, before this
  // leader has committed an entry of its term, or when a learner to promote
  // has not caught up; INVALID_ARGUMENT when the change does not fit the
  // membership (adding a member, promoting a non-learner, removing a
  // non-member or the last voter); UNAVAILABLE / RESOURCE_EXHAUSTED as Propose.
  absl::StatusOr<ProposalPosition> ProposeConfChange(const ConfChange& change, std::string data);

  // Leadership transfer (thesis §3.10). On the leader: brings `transferee` up
  // to date, then sends it TimeoutNow; proposals are refused meanwhile; the
  // transfer is abandoned after election_tick ticks. On a follower, only
  // `transferee == own id` is accepted and forwarded to the leader as
  // kTransferLeader (FAILED_PRECONDITION for any other transferee).
  // INVALID_ARGUMENT if the transferee is not a voter, UNAVAILABLE when no
  // leader is known.
  absl::Status TransferLeadership(NodeId transferee);

  // Linearizable read (thesis §6.4): a ReadState with `context` (unique among
  // the node's outstanding requests) appears in a later Ready once the leader
  // has confirmed it still leads. On a follower the request is forwarded to
  // the leader. UNAVAILABLE when no leader is known or the request queue is
  // full; the caller retries on a timeout (a lost request is never answered).
  absl::Status ReadIndex(std::string context);

  // The transport could not reach `id`: the leader stops pipelining to it.
  void ReportUnreachable(NodeId id);
  // The snapshot stream the node was sending to `id` finished (`ok`) or failed.
  void ReportSnapshot(NodeId id, bool ok);

  bool HasReady() const;
  // Returns the next batch; the caller must call Advance() after handling it.
  Ready GetReady();
  // Acknowledges that the last Ready was handled as its ordering rule says.
  void Advance();

  NodeStatus Status() const;
  // Leader only: one entry per member other than this node (empty otherwise).
  std::vector<FollowerProgress> Progress() const;
  // Membership as of the applied index: the ConfState to store in a snapshot
  // the node takes at its applied index.
  ConfState AppliedConfState() const;
  // Term of entry i of the log (durable or not), for diagnostics and checkers.
  absl::StatusOr<Term> TermAt(Index i) const;

 private:
  explicit RawNode(std::unique_ptr<internal::Raft> raft);
  // Splits the core's messages by the ordering rule (see Ready).
  void ClassifyMessages(std::vector<Message> messages, Ready& ready) const;

  std::unique_ptr<internal::Raft> raft_;
  std::unique_ptr<RawNodeState> state_;
};

}  // namespace cairn::consensus
