// Raft: the protocol state machine behind RawNode.
//
// One class, split by concern over three files so each stays readable:
//   raft.cc         terms, roles, elections (pre-vote, check-quorum lease),
//                   ticks and message dispatch            (Raft §5.1-5.2, thesis ch. 9)
//   raft_leader.cc  proposals, replication (pipelining, batching, probing,
//                   snapshots), commitment, membership    (§5.3-5.4, thesis ch. 4, 10)
//   raft_extras.cc  follower handlers, ReadIndex and leadership transfer
//                                                          (thesis §3.10, §6.4)
// It never performs I/O: outgoing messages and read states accumulate here
// until RawNode drains them into a Ready.
#pragma once

#include <deque>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cairn/consensus/config.h"
#include "cairn/consensus/raw_node.h"
#include "cairn/consensus/storage.h"
#include "cairn/consensus/types.h"
#include "conf.h"
#include "log.h"
#include "prng.h"
#include "progress.h"
#include "read_only.h"

namespace cairn::consensus::internal {

// Vote context that marks an election started by a leadership transfer; such
// votes bypass the check-quorum lease (thesis §3.10).
inline constexpr absl::string_view kTransferContext = "transfer";

class Raft {
 public:
  static absl::StatusOr<std::unique_ptr<Raft>> Create(const Config& config,
                                                      const LogStorage* storage);

  // --- inputs (RawNode forwards these) ---
  void Tick();
  absl::Status Campaign();
  absl::Status Step(const Message& m);
  absl::StatusOr<ProposalPosition> Propose(std::vector<std::string> data);
  absl::StatusOr<ProposalPosition> ProposeConfChange(const ConfChange& change, std::string data);
  absl::Status TransferLeadership(NodeId transferee);
  absl::Status ReadIndex(std::string context);
  void ReportUnreachable(NodeId id);
  void ReportSnapshot(NodeId id, bool ok);

  // --- Ready support ---
  NodeId id() const { return id_; }
  size_t committed_entries_bytes_max() const { return config_.committed_entries_bytes_max; }
  InjectedBug injected_bug() const { return config_.injected_bug; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return SoftState{lead_, role_}; }
  const RaftLog& log() const { return log_; }
  const ConfState& latest_conf() const { return conf_.Latest(); }
  const ConfState& applied_conf() const { return conf_.Applied(); }
  bool HasOutput() const { return !msgs_.empty() || !read_states_.empty(); }
  std::vector<Message> TakeMessages() { return std::exchange(msgs_, {}); }
  std::vector<ReadState> TakeReadStates() { return std::exchange(read_states_, {}); }
  // The node made the last Ready's log changes and hard state durable and
  // applied its committed entries up to `applied`.
  void OnReadyHandled(Index applied);

  NodeStatus Status() const;
  std::vector<FollowerProgress> Progress() const;

 private:
  Raft(const Config& config, const LogStorage* storage, const InitialState& state);
  void RestoreConfHistory(const ConfState& latest);

  // raft.cc: terms, roles, elections.
  bool Promotable() const;
  // A node that joined with empty storage and has not yet learned any
  // membership: it must install a snapshot (possibly the index-0 bootstrap
  // snapshot) before it can accept entries.
  bool IsBlank() const;
  void Reset(Term term);
  void BecomeFollower(Term term, NodeId lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void StartElection(bool pre_vote, bool transfer);
  void TickLeader();
  bool HandleTerm(const Message& m);
  void HandleVoteRequest(const Message& m);
  void HandleVoteResponse(const Message& m);
  void StepLeader(const Message& m);
  void StepCandidate(const Message& m);
  void StepFollower(const Message& m);
  Message Make(MessageType type, NodeId to) const;
  void Send(Message m) { msgs_.push_back(std::move(m)); }
  // Sends a follower's answer to its leader; it carries the follower's commit
  // index, which tells the leader when a leaving server knows its removal.
  void Respond(Message r) {
    r.commit = log_.committed();
    Send(std::move(r));
  }

  // raft_leader.cc: proposals, replication, commitment, membership.
  absl::Status CheckCanPropose(size_t bytes) const;
  ProposalPosition AppendLocal(std::vector<Entry> entries);
  void OnLogRewritten(Index from, const std::vector<Entry>& entries);
  void SyncConf();
  // Removed servers that may not know it yet (ProgressTracker::Leave).
  void KeepLeavingInformed();
  void NoteStranger(NodeId from);
  bool MaybeReleaseLeaving(const Message& m);
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  bool SendSnapshot(NodeId to, internal::Progress& pr);
  void BroadcastAppend();
  void BroadcastHeartbeat();
  void HandleAppendResponse(const Message& m);
  void HandleAppendRejection(const Message& m, internal::Progress& pr);
  void HandleHeartbeatResponse(const Message& m);
  bool MaybeCommit();
  void OnCommitted();
  bool CommittedInTerm() const { return role_ == Role::kLeader && log_.committed() >= term_start_; }

  // raft_extras.cc: follower handlers, ReadIndex, leadership transfer.
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  absl::Status HandleReadRequest(NodeId from, std::string context);
  void HandleReadAcks(const Message& m);
  void AnswerRead(const ReadRequest& request);
  absl::Status StartTransfer(NodeId transferee);
  void SendTimeoutNow(NodeId to);
  void AbortTransfer() { lead_transferee_ = kNoNode; }

  const Config config_;
  const NodeId id_;
  const LogStorage* storage_;
  Prng prng_;

  // Persistent state (thesis Figure 3.1); reaches storage through Ready.
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  RaftLog log_;

  Role role_ = Role::kFollower;
  NodeId lead_ = kNoNode;
  // Membership history of the log; tracker_.conf() always equals conf_.Latest().
  ConfHistory conf_;
  ProgressTracker tracker_;

  // Ticks since the last election timeout reset (follower/candidate; unused
  // by a leader, whose check-quorum counts per member: Progress::idle_ticks).
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  // In [election_tick, 2 * election_tick); redrawn on every Reset().
  int randomized_election_timeout_ = 0;

  // Leader state.
  Index term_start_ = 0;  // index of the empty entry this leader appended
  NodeId lead_transferee_ = kNoNode;
  int transfer_elapsed_ = 0;
  // Entries appended in this term and not yet committed: (index, bytes).
  // Invariant: uncommitted_bytes_ is the sum of the bytes in uncommitted_.
  std::deque<std::pair<Index, size_t>> uncommitted_;
  size_t uncommitted_bytes_ = 0;
  ReadOnly read_only_;
  // ReadIndex requests that arrived before the leader committed in its term.
  std::vector<std::pair<NodeId, std::string>> pending_reads_;
  // Servers outside the latest membership that asked this node for votes:
  // most likely removed servers that missed their removal. When this node
  // leads it replicates to them as leaving servers until they know. Kept
  // across terms; bounded, since only a few removed servers can be running.
  std::set<NodeId> strangers_;
  static constexpr size_t kStrangersMax = 8;

  // Output not yet drained into a Ready.
  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
};

}  // namespace cairn::consensus::internal
