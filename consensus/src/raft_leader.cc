// Raft core, part 2: the leader. Proposals with backpressure, replication
// with probing, pipelining and batching (thesis §10.2), snapshots for
// followers that fell behind compaction (§7), commitment of current-term
// entries only (§5.4.2), and single-server membership changes (thesis §4.1).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "raft.h"

namespace cairn::consensus::internal {

absl::Status Raft::CheckCanPropose(size_t bytes) const {
  if (role_ != Role::kLeader) {
    return absl::UnavailableError(
        absl::StrCat("node ", id_, " is not the leader (leader: ", lead_, ")"));
  }
  if (lead_transferee_ != kNoNode) {
    return absl::UnavailableError(
        absl::StrCat("leadership transfer to node ", lead_transferee_, " in progress"));
  }
  // The first proposal over an empty pipeline always passes, so an entry
  // larger than the bound can still make progress.
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + bytes > config_.uncommitted_bytes_max) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "uncommitted_bytes_max (", config_.uncommitted_bytes_max, ") reached: ", uncommitted_bytes_,
        " bytes uncommitted, ", bytes, " more proposed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ProposalPosition> Raft::Propose(std::vector<std::string> data) {
  if (data.empty()) return absl::InvalidArgumentError("propose: no entries");
  std::vector<Entry> entries(data.size());
  size_t bytes = 0;
  for (size_t k = 0; k < data.size(); ++k) {
    entries[k].data = std::move(data[k]);
    bytes += entries[k].ByteSize();
  }
  if (absl::Status s = CheckCanPropose(bytes); !s.ok()) return s;
  return AppendLocal(std::move(entries));
}

absl::StatusOr<ProposalPosition> Raft::ProposeConfChange(const ConfChange& change,
                                                         std::string data) {
  Entry e;
  e.data = std::move(data);
  e.conf_change = change;
  if (absl::Status s = CheckCanPropose(e.ByteSize()); !s.ok()) return s;
  // Single-server changes are safe only one at a time, and only once this
  // leader has committed an entry of its own term (raft-dev, 2015): otherwise
  // an uncommitted change of an earlier leader could still be overwritten.
  if (!CommittedInTerm()) {
    return absl::FailedPreconditionError(
        "membership change: the leader has not committed an entry of its term yet");
  }
  if (conf_.HasChangeAfter(log_.committed())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "membership change: the change at index ", conf_.LastChangeIndex(), " is not committed"));
  }
  absl::StatusOr<ConfState> next = ApplyConfChange(conf_.Latest(), change);
  if (!next.ok()) return next.status();
  if (change.kind == ConfChange::Kind::kPromoteLearner) {
    // Thesis §4.2.1: a new voter must have caught up, or it could stall commits.
    const internal::Progress* pr = tracker_.Get(change.node_id);
    if (pr == nullptr || pr->match < log_.committed()) {
      return absl::FailedPreconditionError(
          absl::StrCat("promote: learner ", change.node_id, " has not caught up (match ",
                       pr == nullptr ? 0 : pr->match, ", commit ", log_.committed(), ")"));
    }
  }
  std::vector<Entry> entries;
  entries.push_back(std::move(e));
  return AppendLocal(std::move(entries));
}

ProposalPosition Raft::AppendLocal(std::vector<Entry> entries) {
  Index index = log_.LastIndex();
  bool conf_changed = false;
  for (Entry& e : entries) {
    e.term = term_;
    e.index = ++index;
    uncommitted_.emplace_back(e.index, e.ByteSize());
    uncommitted_bytes_ += e.ByteSize();
    if (e.conf_change) {
      conf_.Push(e.index, *e.conf_change);  // in effect from now on (thesis §4.1)
      conf_changed = true;
    }
  }
  const ProposalPosition position{term_, entries.front().index, entries.back().index};
  log_.Append(std::move(entries));
  if (conf_changed) SyncConf();
  BroadcastAppend();
  return position;
}

void Raft::OnLogRewritten(Index from, const std::vector<Entry>& entries) {
  bool changed = conf_.TruncateFrom(from);
  for (const Entry& e : entries) {
    if (e.index >= from && e.conf_change) {
      conf_.Push(e.index, *e.conf_change);
      changed = true;
    }
  }
  if (changed) SyncConf();
}

void Raft::SyncConf() {
  if (role_ == Role::kLeader) {
    // Servers this change removes keep getting the log until they know
    // (thesis §4.2.3); until then they would campaign.
    const ConfState& next = conf_.Latest();
    for (const auto* ids : {&tracker_.conf().voters, &tracker_.conf().learners}) {
      for (NodeId id : *ids) {
        if (id != id_ && !IsVoter(next, id) && !IsLearner(next, id)) {
          tracker_.Leave(id, conf_.LastChangeIndex(), log_.LastIndex() + 1);
        }
      }
    }
  }
  tracker_.SetConf(conf_.Latest(), log_.LastIndex() + 1);
  for (auto it = strangers_.begin(); it != strangers_.end();) {
    it = tracker_.IsMember(*it) ? strangers_.erase(it) : std::next(it);
  }
  if (lead_transferee_ != kNoNode && !tracker_.IsVoter(lead_transferee_)) AbortTransfer();
  if (role_ != Role::kLeader) return;
  if (internal::Progress* self = tracker_.Get(id_)) {
    self->Heard();
    self->MaybeUpdate(log_.PersistedIndex());
  }
  // A smaller quorum may commit more at once; the caller broadcasts.
  MaybeCommit();
}

void Raft::KeepLeavingInformed() {
  // A new leader: servers removed by changes it has not applied yet may not
  // know, nor may servers that asked it for votes from outside the
  // membership. The latter must reach its first entry's commit, which covers
  // whatever removal they missed (they are in no membership of its log's end).
  const Index next = log_.LastIndex() + 1;
  for (const auto& [id, index] : conf_.RemovedSinceApplied()) {
    if (id != id_) tracker_.Leave(id, index, next);
  }
  for (NodeId id : strangers_) {
    if (id != id_ && !tracker_.IsMember(id)) tracker_.Leave(id, next, next);
  }
}

void Raft::NoteStranger(NodeId from) {
  if (tracker_.IsMember(from)) return;
  // Remembered even when already leaving here: this node may step down for
  // the request, and a later term of its own must still inform the server.
  if (strangers_.size() < kStrangersMax) strangers_.insert(from);
  if (role_ == Role::kLeader && strangers_.count(from) > 0) {
    tracker_.Leave(from, log_.LastIndex(), log_.LastIndex() + 1);
    MaybeSendAppend(from, true);
  }
}

// A leaving server whose commit index covers its removal knows it: let it go.
bool Raft::MaybeReleaseLeaving(const Message& m) {
  const Index until = tracker_.LeavingUntil(m.from);
  if (until == 0 || m.commit < until) return false;
  tracker_.Forget(m.from);
  strangers_.erase(m.from);
  return true;
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  internal::Progress* pr = tracker_.Get(to);
  if (pr == nullptr || to == id_ || pr->IsPaused()) return false;
  const Index prev = pr->next - 1;
  absl::StatusOr<Term> prev_term = log_.TermAt(prev);
  if (!prev_term.ok()) {
    CAIRN_CHECK(IsCompacted(prev_term.status())) << "next " << pr->next << " of " << to;
    return SendSnapshot(to, *pr);
  }
  std::vector<Entry> entries;
  if (pr->next <= log_.LastIndex()) {
    absl::StatusOr<std::vector<Entry>> slice =
        log_.Slice(pr->next, log_.LastIndex() + 1, config_.message_bytes_max);
    if (!slice.ok()) return SendSnapshot(to, *pr);
    entries = *std::move(slice);
  }
  if (entries.empty() && !send_if_empty) return false;
  Message m = Make(MessageType::kAppend, to);
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  const size_t count = entries.size();
  const Index last = count == 0 ? prev : entries.back().index;
  m.entries = std::move(entries);
  pr->SentEntries(count, last);
  Send(std::move(m));
  return true;
}

bool Raft::SendSnapshot(NodeId to, internal::Progress& pr) {
  // A snapshot is expensive; send it only to a follower known to be alive.
  if (!pr.RecentlyActive(config_.election_tick)) return false;
  const SnapshotMeta meta = storage_->Snapshot();
  CAIRN_CHECK(meta.index + 1 >= log_.FirstIndex())
      << "entries before " << log_.FirstIndex() << " are compacted but the snapshot is at "
      << meta.index;
  Message m = Make(MessageType::kSnapshot, to);
  m.snapshot = meta;
  Send(std::move(m));
  pr.BecomeSnapshot(meta.index);
  return true;
}

void Raft::BroadcastAppend() {
  if (role_ != Role::kLeader) return;
  for (const auto& [id, pr] : tracker_.all()) {
    if (id != id_) MaybeSendAppend(id, true);
  }
}

void Raft::BroadcastHeartbeat() {
  if (role_ != Role::kLeader) return;
  const std::string context = read_only_.LatestRoundContext();
  for (const auto& [id, pr] : tracker_.all()) {
    if (id == id_) continue;
    Message m = Make(MessageType::kHeartbeat, id);
    // Never tell a follower to commit past what it is known to hold.
    m.commit = std::min(pr.match, log_.committed());
    m.context = context;
    Send(std::move(m));
  }
}

void Raft::HandleAppendResponse(const Message& m) {
  internal::Progress* pr = tracker_.Get(m.from);
  if (pr == nullptr || MaybeReleaseLeaving(m)) return;
  pr->Heard();
  if (m.reject) {
    HandleAppendRejection(m, *pr);
    return;
  }
  const bool was_paused = pr->IsPaused();
  // An ack at exactly `match` still tells a probing follower (or one that
  // just installed a snapshot) where the logs agree, so it can be pipelined.
  const bool matched_here =
      pr->match == m.index && pr->state != internal::Progress::State::kReplicate;
  if (!pr->MaybeUpdate(m.index) && !matched_here) return;
  switch (pr->state) {
    case internal::Progress::State::kProbe:
      pr->BecomeReplicate();
      break;
    case internal::Progress::State::kSnapshot:
      if (pr->match + 1 >= log_.FirstIndex()) pr->BecomeReplicate();
      break;
    case internal::Progress::State::kReplicate:
      pr->inflights.FreeUpTo(m.index);
      break;
  }
  if (MaybeCommit()) {
    if (role_ != Role::kLeader) return;  // a removed leader stepped down
    BroadcastAppend();
  } else if (was_paused) {
    MaybeSendAppend(m.from, true);
  }
  while (MaybeSendAppend(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr->match == log_.LastIndex()) SendTimeoutNow(m.from);
}

void Raft::HandleAppendRejection(const Message& m, internal::Progress& pr) {
  if (m.index == 0) {
    // Every log matches at index 0, except that of a joining node that has no
    // membership yet: it needs a snapshot, if only the bootstrap one.
    SendSnapshot(m.from, pr);
    return;
  }
  // Fast backtracking: skip every entry of a term the follower cannot match.
  Index hint = m.reject_hint;
  if (m.reject_hint_term > 0) hint = log_.FindConflictByTerm(hint, m.reject_hint_term).first;
  if (!pr.MaybeDecreaseTo(m.index, hint)) return;  // stale
  if (pr.state == internal::Progress::State::kReplicate) pr.BecomeProbe();
  MaybeSendAppend(m.from, true);
}

void Raft::HandleHeartbeatResponse(const Message& m) {
  internal::Progress* pr = tracker_.Get(m.from);
  if (pr == nullptr || MaybeReleaseLeaving(m)) return;
  pr->Heard();
  pr->probe_sent = false;
  if (pr->state == internal::Progress::State::kReplicate && pr->inflights.Full()) {
    pr->inflights.FreeFirst();
  }
  if (pr->match < log_.LastIndex()) MaybeSendAppend(m.from, true);
  if (!m.context.empty()) HandleReadAcks(m);
}

bool Raft::MaybeCommit() {
  Index quorum = tracker_.QuorumMatch();
  if (config_.injected_bug == InjectedBug::kCommitWithoutQuorum) {
    if (const internal::Progress* self = tracker_.Get(id_)) quorum = self->match;
  }
  if (quorum <= log_.committed()) return false;
  // §5.4.2: count replicas only for entries of the current term.
  absl::StatusOr<Term> term = log_.TermAt(quorum);
  if (!term.ok() || *term != term_) return false;
  log_.CommitTo(quorum);
  OnCommitted();
  return true;
}

void Raft::OnCommitted() {
  while (!uncommitted_.empty() && uncommitted_.front().first <= log_.committed()) {
    uncommitted_bytes_ -= uncommitted_.front().second;
    uncommitted_.pop_front();
  }
  if (!pending_reads_.empty() && CommittedInTerm()) {
    for (auto& [from, context] : std::exchange(pending_reads_, {})) {
      (void)HandleReadRequest(from, std::move(context));
    }
  }
  // Thesis §4.2.2: a leader removed from the membership leads until the
  // change commits, then steps down, after telling the others the commit.
  if (!tracker_.IsVoter(id_) && !conf_.HasChangeAfter(log_.committed())) {
    BroadcastAppend();
    BecomeFollower(term_, kNoNode);
  }
}

void Raft::ReportUnreachable(NodeId id) {
  if (role_ != Role::kLeader) return;
  internal::Progress* pr = tracker_.Get(id);
  if (pr != nullptr && pr->state == internal::Progress::State::kReplicate) pr->BecomeProbe();
}

void Raft::ReportSnapshot(NodeId id, bool ok) {
  if (role_ != Role::kLeader) return;
  internal::Progress* pr = tracker_.Get(id);
  if (pr == nullptr || pr->state != internal::Progress::State::kSnapshot) return;
  if (!ok) pr->pending_snapshot = 0;
  pr->BecomeProbe();
  // Wait for a heartbeat answer before probing again.
  pr->probe_sent = true;
}

}  // namespace cairn::consensus::internal
