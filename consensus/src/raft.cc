// Raft core, part 1: restoring state, terms and roles, elections with
// pre-vote and the check-quorum lease, ticks, and message dispatch.
// Section numbers refer to the Raft paper (§) and Ongaro's thesis.
#include "raft.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"

namespace cairn::consensus::internal {
namespace {

// Conf-change entries in [lo, hi) of the durable log, read in bounded pages.
std::vector<std::pair<Index, ConfChange>> ScanConfChanges(const LogStorage& storage, Index lo,
                                                          Index hi, size_t page_bytes) {
  std::vector<std::pair<Index, ConfChange>> out;
  while (lo < hi) {
    absl::StatusOr<std::vector<Entry>> page = storage.Entries(lo, hi, page_bytes);
    CAIRN_CHECK_OK(page.status()) << "reading entries [" << lo << ", " << hi << ")";
    CAIRN_CHECK(!page->empty()) << "storage returned no entries at " << lo;
    for (const Entry& e : *page) {
      if (e.conf_change) out.emplace_back(e.index, *e.conf_change);
    }
    lo = page->back().index + 1;
  }
  return out;
}

bool IsLeaderOnly(MessageType type) {
  return type == MessageType::kAppend || type == MessageType::kHeartbeat ||
         type == MessageType::kSnapshot;
}

absl::Status ValidateMessage(const Message& m, NodeId self) {
  if (m.to != self) return absl::InvalidArgumentError(absl::StrCat("message to ", m.to));
  if (m.from == kNoNode || m.from == self) {
    return absl::InvalidArgumentError(absl::StrCat("message from ", m.from));
  }
  if (m.term == 0) return absl::InvalidArgumentError("message term is 0");
  if (m.type < MessageType::kAppend || m.type > MessageType::kTransferLeader) {
    return absl::InvalidArgumentError("unknown message type");
  }
  Term prev_term = m.log_term;
  for (size_t k = 0; k < m.entries.size(); ++k) {
    const Entry& e = m.entries[k];
    if (m.type != MessageType::kAppend || e.index != m.index + 1 + k || e.term < prev_term ||
        e.term > m.term) {
      return absl::InvalidArgumentError(absl::StrCat("entry ", k, " out of order"));
    }
    prev_term = e.term;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Raft>> Raft::Create(const Config& config,
                                                   const LogStorage* storage) {
  if (storage == nullptr) return absl::InvalidArgumentError("storage is null");
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  absl::StatusOr<InitialState> state = storage->LoadInitialState();
  if (!state.ok()) return state.status();
  if (state->hard_state.commit > storage->LastIndex()) {
    return absl::DataLossError(absl::StrCat("hard state commit ", state->hard_state.commit,
                                            " is beyond the log's last index ",
                                            storage->LastIndex()));
  }
  if (config.applied > storage->LastIndex()) {
    return absl::InvalidArgumentError(
        absl::StrCat("applied ", config.applied, " is beyond the log's last index"));
  }
  std::unique_ptr<Raft> raft(new Raft(config, storage, *state));
  raft->RestoreConfHistory(state->conf_state);
  return raft;
}

Raft::Raft(const Config& config, const LogStorage* storage, const InitialState& state)
    : config_(config),
      id_(config.id),
      storage_(storage),
      prng_(config.random_seed ^ (config.id * 0x9e3779b97f4a7c15ULL)),
      term_(state.hard_state.term),
      vote_(state.hard_state.vote),
      log_(storage, state.hard_state.commit, config.applied),
      tracker_(config.inflight_messages_max) {
  if (config.injected_bug == InjectedBug::kForgetPersistedVote) vote_ = kNoNode;
  BecomeFollower(term_, kNoNode);
}

void Raft::RestoreConfHistory(const ConfState& latest) {
  // Only conf changes after the applied index can still be rolled back, so
  // only they need a history; usually the unapplied tail has none.
  const Index applied = log_.applied();
  auto tail =
      ScanConfChanges(*storage_, applied + 1, log_.LastIndex() + 1, config_.message_bytes_max);
  if (tail.empty()) {
    conf_.Reset(latest, applied);
  } else {
    // Rare: rebuild the membership as of `applied` from the snapshot.
    const SnapshotMeta snapshot = storage_->Snapshot();
    ConfState base = snapshot.conf_state;
    for (const auto& [index, change] :
         ScanConfChanges(*storage_, snapshot.index + 1, applied + 1, config_.message_bytes_max)) {
      base = ConfAfter(base, change);
    }
    conf_.Reset(base, applied);
    for (const auto& [index, change] : tail) conf_.Push(index, change);
    CAIRN_CHECK(conf_.Latest() == latest)
        << "storage's conf_state disagrees with the conf changes in its log";
  }
  SyncConf();
}

bool Raft::Promotable() const {
  if (log_.UnstableSnapshot().has_value()) return false;
  // Thesis §4.1: a server may be needed for elections even when its latest
  // configuration leaves it out, as long as that change is not committed: a
  // leader that appended its own removal and then crashed may hold the only
  // copy of that entry, and the remaining voters cannot elect anyone without
  // it. Once the removal is committed it never campaigns again.
  return tracker_.IsVoter(id_) || IsVoter(conf_.AsOf(log_.committed()), id_);
}

bool Raft::IsBlank() const {
  const ConfState& conf = conf_.Latest();
  return log_.LastIndex() == 0 && conf.voters.empty() && conf.learners.empty();
}

void Raft::Reset(Term term) {
  if (term != term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  randomized_election_timeout_ =
      config_.election_tick + static_cast<int>(prng_.Below(config_.election_tick));
  AbortTransfer();
  transfer_elapsed_ = 0;
  tracker_.ResetVotes();
  tracker_.ForgetLeaving();  // only a leader keeps leaving servers informed
  tracker_.ResetAll(log_.LastIndex() + 1);
  term_start_ = 0;
  uncommitted_.clear();
  uncommitted_bytes_ = 0;
  read_only_.Reset();
  pending_reads_.clear();
}

void Raft::BecomeFollower(Term term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  CAIRN_CHECK(role_ != Role::kLeader) << "a leader cannot become a pre-candidate";
  // Pre-vote changes neither term nor vote (thesis §9.6).
  tracker_.ResetVotes();
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::BecomeCandidate() {
  CAIRN_CHECK(role_ != Role::kLeader) << "a leader cannot become a candidate";
  Reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  CAIRN_CHECK(role_ == Role::kCandidate) << "only a candidate can become leader";
  // The voters that just answered were heard from: a new leader holds a
  // majority for its first election timeout (check-quorum).
  const std::vector<NodeId> voted = tracker_.Voted();
  Reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  for (NodeId id : voted) {
    if (internal::Progress* pr = tracker_.Get(id)) pr->Heard();
  }
  if (internal::Progress* self = tracker_.Get(id_)) {
    self->BecomeReplicate();
    self->MaybeUpdate(log_.PersistedIndex());
    self->Heard();
  }
  KeepLeavingInformed();
  // An empty entry of the new term lets the leader commit everything before
  // it (§5.4.2, §8); it is also the first leaf of the term in the ledger.
  Entry empty;
  empty.term = term_;
  empty.index = log_.LastIndex() + 1;
  term_start_ = empty.index;
  log_.Append({empty});
  BroadcastAppend();
}

void Raft::StartElection(bool pre_vote, bool transfer) {
  if (pre_vote) {
    BecomePreCandidate();
  } else {
    BecomeCandidate();
  }
  tracker_.RecordVote(id_, true);
  if (tracker_.TallyVotes() == VoteResult::kWon) {
    // A single voter wins at once.
    if (pre_vote) {
      StartElection(false, transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId voter : tracker_.conf().voters) {
    if (voter == id_) continue;
    Message m = Make(pre_vote ? MessageType::kPreVote : MessageType::kVote, voter);
    // A pre-vote asks about the term the node would campaign in.
    m.term = pre_vote ? term_ + 1 : term_;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (transfer) m.context = std::string(kTransferContext);
    Send(std::move(m));
  }
}

absl::Status Raft::Campaign() {
  if (role_ == Role::kLeader) return absl::OkStatus();
  if (!Promotable()) {
    return absl::FailedPreconditionError(absl::StrCat("node ", id_, " is not a voter"));
  }
  StartElection(config_.pre_vote, false);
  return absl::OkStatus();
}

void Raft::Tick() {
  if (role_ == Role::kLeader) {
    TickLeader();
    return;
  }
  ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
    election_elapsed_ = 0;
    StartElection(config_.pre_vote, false);
  }
}

void Raft::TickLeader() {
  ++heartbeat_elapsed_;
  if (lead_transferee_ != kNoNode && ++transfer_elapsed_ >= config_.election_tick) {
    AbortTransfer();  // thesis §3.10: give up after an election timeout
  }
  tracker_.TickIdle();
  if (internal::Progress* self = tracker_.Get(id_)) self->Heard();
  // Thesis §6.2: a leader that has not heard from a majority of voters for a
  // whole election timeout steps down. Checked at every tick, so it steps
  // down within one election timeout of losing the majority, not at the end
  // of a later check round.
  if (config_.check_quorum && !tracker_.QuorumActive(config_.election_tick)) {
    BecomeFollower(term_, kNoNode);
    return;
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    BroadcastHeartbeat();
  }
}

Message Raft::Make(MessageType type, NodeId to) const {
  Message m;
  m.type = type;
  m.from = id_;
  m.to = to;
  m.term = term_;
  return m;
}

// Applies the term rules of §5.1 and the lease of thesis §6.2/§9.6. Returns
// false when the message must be dropped.
bool Raft::HandleTerm(const Message& m) {
  if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      const bool transfer = m.context == kTransferContext;
      // A leader is in its lease as long as it leads: with check-quorum it
      // steps down once it has not heard from a majority for a timeout.
      const bool in_lease = config_.check_quorum && lead_ != kNoNode &&
                            (role_ == Role::kLeader || election_elapsed_ < config_.election_tick);
      // A voter that heard from a leader recently ignores campaigns: this keeps
      // removed or partitioned servers from disrupting a healthy cluster.
      if (in_lease && !transfer) return false;
    }
    if (m.type == MessageType::kPreVote) return true;  // a pre-vote changes no term
    if (m.type == MessageType::kPreVoteResponse && !m.reject) return true;
    BecomeFollower(m.term, IsLeaderOnly(m.type) ? m.from : kNoNode);
    return true;
  }
  if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A stale leader learns our term and steps down; without this a node
      // whose term rose while partitioned could never rejoin (etcd #5451).
      Send(Make(MessageType::kAppendResponse, m.from));
    } else if (m.type == MessageType::kPreVote) {
      Message r = Make(MessageType::kPreVoteResponse, m.from);
      r.reject = true;
      Send(std::move(r));
    }
    return false;
  }
  return true;
}

absl::Status Raft::Step(const Message& m) {
  if (absl::Status s = ValidateMessage(m, id_); !s.ok()) return s;
  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) NoteStranger(m.from);
  if (!HandleTerm(m)) return absl::OkStatus();
  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    HandleVoteRequest(m);
    return absl::OkStatus();
  }
  switch (role_) {
    case Role::kLeader:
      StepLeader(m);
      break;
    case Role::kPreCandidate:
    case Role::kCandidate:
      StepCandidate(m);
      break;
    case Role::kFollower:
      StepFollower(m);
      break;
  }
  return absl::OkStatus();
}

void Raft::HandleVoteRequest(const Message& m) {
  const bool pre_vote = m.type == MessageType::kPreVote;
  // §5.2: one vote per term, first come first served; a node that knows the
  // leader of this term votes for nobody else. A pre-vote for a later term
  // binds nothing.
  bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) || (pre_vote && m.term > term_);
  if (config_.injected_bug == InjectedBug::kVoteTwiceInTerm && !pre_vote) can_vote = true;
  Message r = Make(pre_vote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse, m.from);
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {  // §5.4.1
    r.term = m.term;
    if (!pre_vote) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    r.reject = true;
  }
  Send(std::move(r));
}

void Raft::HandleVoteResponse(const Message& m) {
  const bool pre_vote = role_ == Role::kPreCandidate;
  const MessageType expected =
      pre_vote ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  if (m.type != expected) return;
  tracker_.RecordVote(m.from, !m.reject);
  switch (tracker_.TallyVotes()) {
    case VoteResult::kWon:
      if (pre_vote) {
        StartElection(false, false);
      } else {
        BecomeLeader();
      }
      break;
    case VoteResult::kLost:
      BecomeFollower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
}

void Raft::StepLeader(const Message& m) {
  switch (m.type) {
    case MessageType::kAppendResponse:
      HandleAppendResponse(m);
      break;
    case MessageType::kHeartbeatResponse:
      HandleHeartbeatResponse(m);
      break;
    case MessageType::kReadIndex:
      if (tracker_.IsMember(m.from)) (void)HandleReadRequest(m.from, m.context);
      break;
    case MessageType::kTransferLeader:
      (void)StartTransfer(m.from);
      break;
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      CAIRN_CHECK(false) << "node " << id_ << " leads term " << term_ << " but " << m.from
                         << " sent a leader's message of the same term";
      break;
    default:
      break;
  }
}

void Raft::StepCandidate(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      // Someone won this term (§5.2).
      BecomeFollower(term_, m.from);
      StepFollower(m);
      break;
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      HandleVoteResponse(m);
      break;
    default:
      break;
  }
}

void Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      if (m.type == MessageType::kAppend) HandleAppend(m);
      if (m.type == MessageType::kHeartbeat) HandleHeartbeat(m);
      if (m.type == MessageType::kSnapshot) HandleSnapshot(m);
      break;
    case MessageType::kTimeoutNow:
      // Leadership transfer: campaign at once, skipping pre-vote (§3.10).
      if (Promotable()) StartElection(false, true);
      break;
    case MessageType::kReadIndexResponse:
      read_states_.push_back(ReadState{m.index, m.context});
      break;
    default:
      break;
  }
}

void Raft::OnReadyHandled(Index applied) {
  log_.MarkPersisted();
  if (applied > log_.applied()) log_.AppliedTo(applied);
  conf_.Fold(log_.applied());
  if (role_ != Role::kLeader) return;
  // thesis §10.2.1: the leader's own log counts only once it is durable.
  internal::Progress* self = tracker_.Get(id_);
  if (self != nullptr && self->MaybeUpdate(log_.PersistedIndex()) && MaybeCommit()) {
    BroadcastAppend();
  }
}

NodeStatus Raft::Status() const {
  NodeStatus s;
  s.id = id_;
  s.role = role_;
  s.leader = lead_;
  s.term = term_;
  s.vote = vote_;
  s.commit = log_.committed();
  s.applied = log_.applied();
  s.first_index = log_.FirstIndex();
  s.last_index = log_.LastIndex();
  s.conf_state = conf_.Latest();
  s.lead_transferee = lead_transferee_;
  s.uncommitted_bytes = uncommitted_bytes_;
  return s;
}

std::vector<FollowerProgress> Raft::Progress() const {
  std::vector<FollowerProgress> out;
  if (role_ != Role::kLeader) return out;
  for (const auto& [id, pr] : tracker_.all()) {
    if (id == id_) continue;
    out.push_back(FollowerProgress{id, pr.is_learner, pr.state, pr.match, pr.next,
                                   pr.inflights.Count(), pr.RecentlyActive(config_.election_tick),
                                   tracker_.LeavingUntil(id) > 0});
  }
  return out;
}

}  // namespace cairn::consensus::internal
