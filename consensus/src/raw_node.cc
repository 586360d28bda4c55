// RawNode: packages the core's output into Ready batches and enforces their
// sequencing. The persist-before-send split of messages is decided here, in
// ClassifyMessages, and nowhere else.
#include "cairn/consensus/raw_node.h"

#include <utility>

#include "cairn/base/check.h"
#include "raft.h"

namespace cairn::consensus {
namespace {

// Messages only a leader sends, which carry no promise about the sender's own
// log being durable (thesis §10.2.1).
bool MaySendBeforePersist(MessageType type) {
  switch (type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
    case MessageType::kTimeoutNow:
    case MessageType::kReadIndexResponse:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

// RawNode keeps what the last handled Ready made durable, to compute the next
// Ready as a difference and to classify messages.
struct RawNodeState {
  SoftState soft;
  HardState hard;  // durable hard state
  ConfState conf;  // durable membership (Ready::conf_state)
  bool ready_outstanding = false;
  HardState pending_hard;
  ConfState pending_conf;
  Index pending_applied = 0;
};

RawNode::RawNode(std::unique_ptr<internal::Raft> raft) : raft_(std::move(raft)) {}
RawNode::~RawNode() = default;

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::Create(const Config& config,
                                                         const LogStorage* storage) {
  absl::StatusOr<std::unique_ptr<internal::Raft>> raft = internal::Raft::Create(config, storage);
  if (!raft.ok()) return raft.status();
  std::unique_ptr<RawNode> node(new RawNode(*std::move(raft)));
  node->state_ = std::make_unique<RawNodeState>();
  node->state_->soft = node->raft_->soft_state();
  node->state_->hard = node->raft_->hard_state();
  node->state_->conf = node->raft_->latest_conf();
  return node;
}

#define CAIRN_CHECK_NO_READY() \
  CAIRN_CHECK(!state_->ready_outstanding) << "call Advance() before using the RawNode again"

void RawNode::Tick() {
  CAIRN_CHECK_NO_READY();
  raft_->Tick();
}

absl::Status RawNode::Campaign() {
  CAIRN_CHECK_NO_READY();
  return raft_->Campaign();
}

absl::Status RawNode::Step(const Message& message) {
  CAIRN_CHECK_NO_READY();
  return raft_->Step(message);
}

absl::StatusOr<ProposalPosition> RawNode::Propose(std::vector<std::string> data) {
  CAIRN_CHECK_NO_READY();
  return raft_->Propose(std::move(data));
}

absl::StatusOr<ProposalPosition> RawNode::Propose(std::string data) {
  std::vector<std::string> batch;
  batch.push_back(std::move(data));
  return Propose(std::move(batch));
}

absl::StatusOr<ProposalPosition> RawNode::ProposeConfChange(const ConfChange& change,
                                                            std::string data) {
  CAIRN_CHECK_NO_READY();
  return raft_->ProposeConfChange(change, std::move(data));
}

absl::Status RawNode::TransferLeadership(NodeId transferee) {
  CAIRN_CHECK_NO_READY();
  return raft_->TransferLeadership(transferee);
}

absl::Status RawNode::ReadIndex(std::string context) {
  CAIRN_CHECK_NO_READY();
  return raft_->ReadIndex(std::move(context));
}

void RawNode::ReportUnreachable(NodeId id) {
  CAIRN_CHECK_NO_READY();
  raft_->ReportUnreachable(id);
}

void RawNode::ReportSnapshot(NodeId id, bool ok) {
  CAIRN_CHECK_NO_READY();
  raft_->ReportSnapshot(id, ok);
}

bool RawNode::HasReady() const {
  if (state_->ready_outstanding) return false;
  const internal::RaftLog& log = raft_->log();
  const bool unpersisted = raft_->injected_bug() == InjectedBug::kApplyUnpersisted;
  return raft_->soft_state() != state_->soft || raft_->hard_state() != state_->hard ||
         raft_->latest_conf() != state_->conf || log.UnstableSnapshot().has_value() ||
         !log.UnstableEntries().empty() || raft_->HasOutput() ||
         log.HasNextCommittedEntries(unpersisted);
}

void RawNode::ClassifyMessages(std::vector<Message> messages, Ready& ready) const {
  // A leader's message may go out before this Ready is durable only if the
  // term it was sent in, and our vote for ourselves in it, already are: a
  // node that won an election before persisting its own vote (a single
  // voter) must not let anyone see that term until the vote is safe.
  const HardState& durable = state_->hard;
  for (Message& m : messages) {
    const bool now =
        MaySendBeforePersist(m.type) && m.term == durable.term && durable.vote == raft_->id();
    (now ? ready.messages_now : ready.messages_after_persist).push_back(std::move(m));
  }
}

Ready RawNode::GetReady() {
  CAIRN_CHECK_NO_READY();
  Ready rd;
  const internal::RaftLog& log = raft_->log();
  if (raft_->soft_state() != state_->soft) {
    rd.soft_state = raft_->soft_state();
    state_->soft = *rd.soft_state;
  }
  rd.snapshot = log.UnstableSnapshot();
  rd.entries = log.UnstableEntries();
  const HardState hard = raft_->hard_state();
  if (hard != state_->hard) rd.hard_state = hard;
  if (raft_->latest_conf() != state_->conf) rd.conf_state = raft_->latest_conf();
  const bool new_vote =
      rd.hard_state && (hard.term != state_->hard.term || hard.vote != state_->hard.vote);
  rd.must_sync = rd.snapshot.has_value() || !rd.entries.empty() ||
                 (new_vote && raft_->injected_bug() != InjectedBug::kUnsyncedHardState);
  ClassifyMessages(raft_->TakeMessages(), rd);
  rd.committed_entries =
      log.NextCommittedEntries(raft_->committed_entries_bytes_max(),
                               raft_->injected_bug() == InjectedBug::kApplyUnpersisted);
  rd.read_states = raft_->TakeReadStates();

  state_->ready_outstanding = true;
  state_->pending_hard = hard;
  state_->pending_conf = raft_->latest_conf();
  state_->pending_applied = rd.committed_entries.empty() ? 0 : rd.committed_entries.back().index;
  return rd;
}

void RawNode::Advance() {
  CAIRN_CHECK(state_->ready_outstanding) << "Advance() without a Ready";
  state_->ready_outstanding = false;
  state_->hard = state_->pending_hard;
  state_->conf = state_->pending_conf;
  raft_->OnReadyHandled(state_->pending_applied);
}

NodeStatus RawNode::Status() const { return raft_->Status(); }

std::vector<FollowerProgress> RawNode::Progress() const { return raft_->Progress(); }

ConfState RawNode::AppliedConfState() const { return raft_->applied_conf(); }

absl::StatusOr<Term> RawNode::TermAt(Index i) const { return raft_->log().TermAt(i); }

}  // namespace cairn::consensus
