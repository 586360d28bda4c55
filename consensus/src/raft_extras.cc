// Raft core, part 3: the follower's side of replication (AppendEntries,
// heartbeats, snapshots), linearizable reads by ReadIndex (thesis §6.4) and
// leadership transfer (thesis §3.10).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "raft.h"

namespace cairn::consensus::internal {

void Raft::HandleAppend(const Message& m) {
  Message r = Make(MessageType::kAppendResponse, m.from);
  if (IsBlank()) {
    // Without a membership we cannot interpret the log: reject at index 0,
    // which tells the leader to send a snapshot first.
    r.index = 0;
    r.reject = true;
    Respond(std::move(r));
    return;
  }
  if (m.index < log_.committed()) {
    // Everything up to our commit index already matches the leader (§5.4).
    r.index = log_.committed();
    Respond(std::move(r));
    return;
  }
  Index rewritten_from = 0;
  std::optional<Index> last =
      log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries, &rewritten_from);
  if (last) {
    if (rewritten_from != 0) OnLogRewritten(rewritten_from, m.entries);
    r.index = *last;
    Respond(std::move(r));
    return;
  }
  // §5.3 consistency check failed. Hint the leader at the last index whose
  // term could match, so it skips a whole term per round trip.
  const auto [hint_index, hint_term] =
      log_.FindConflictByTerm(std::min(m.index, log_.LastIndex()), m.log_term);
  r.index = m.index;
  r.reject = true;
  r.reject_hint = hint_index;
  r.reject_hint_term = hint_term;
  Respond(std::move(r));
}

void Raft::HandleHeartbeat(const Message& m) {
  log_.CommitTo(m.commit);
  Message r = Make(MessageType::kHeartbeatResponse, m.from);
  r.context = m.context;
  Respond(std::move(r));
}

void Raft::HandleSnapshot(const Message& m) {
  const SnapshotMeta& s = m.snapshot;
  Message r = Make(MessageType::kAppendResponse, m.from);
  if (IsBlank()) {
    // A joining node learns the membership (and state) it starts from; this
    // may be the bootstrap snapshot at index 0 of a never-compacted log.
    log_.Restore(s);
    conf_.Reset(s.conf_state, s.index);
    SyncConf();
    r.index = s.index;
  } else if (s.index <= log_.committed()) {
    r.index = log_.committed();
  } else if (log_.MatchTerm(s.index, s.term)) {
    // We already hold the snapshot's last entry, hence the whole prefix.
    log_.CommitTo(s.index);
    r.index = log_.committed();
  } else {
    log_.Restore(s);
    conf_.Reset(s.conf_state, s.index);
    SyncConf();
    r.index = s.index;
  }
  Respond(std::move(r));
}

absl::Status Raft::ReadIndex(std::string context) {
  if (role_ == Role::kLeader) return HandleReadRequest(id_, std::move(context));
  if (lead_ == kNoNode) return absl::UnavailableError("read index: no leader known");
  Message m = Make(MessageType::kReadIndex, lead_);
  m.context = std::move(context);
  Send(std::move(m));
  return absl::OkStatus();
}

absl::Status Raft::HandleReadRequest(NodeId from, std::string context) {
  const size_t queued = pending_reads_.size() + read_only_.Size();
  if (queued >= config_.read_index_pending_max) {
    return absl::UnavailableError(absl::StrCat("read index: read_index_pending_max (",
                                               config_.read_index_pending_max, ") reached"));
  }
  if (!CommittedInTerm()) {
    // Our commit index may be stale until we commit an entry of our term.
    // This holds for a single voter too: one that just won alone may not
    // know that its predecessor committed more (it learns it from its own
    // log once its empty entry commits).
    pending_reads_.emplace_back(from, std::move(context));
    return absl::OkStatus();
  }
  if (tracker_.conf().voters.size() == 1 && tracker_.IsVoter(id_)) {
    // The only voter needs nobody's confirmation.
    AnswerRead(ReadRequest{0, log_.committed(), from, std::move(context), {}});
    return absl::OkStatus();
  }
  read_only_.Add(log_.committed(), from, std::move(context));
  read_only_.Ack(id_, read_only_.LatestRoundContext());
  BroadcastHeartbeat();
  return absl::OkStatus();
}

void Raft::HandleReadAcks(const Message& m) {
  const std::set<NodeId>* acks = read_only_.Ack(m.from, m.context);
  if (acks == nullptr) return;
  size_t voters = 0;
  for (NodeId id : tracker_.conf().voters) voters += acks->count(id);
  if (voters <= tracker_.conf().voters.size() / 2) return;
  for (const ReadRequest& request : read_only_.Release(m.context)) AnswerRead(request);
}

void Raft::AnswerRead(const ReadRequest& request) {
  if (request.from == id_) {
    read_states_.push_back(ReadState{request.index, request.context});
    return;
  }
  Message m = Make(MessageType::kReadIndexResponse, request.from);
  m.index = request.index;
  m.context = request.context;
  Send(std::move(m));
}

absl::Status Raft::TransferLeadership(NodeId transferee) {
  if (role_ == Role::kLeader) return StartTransfer(transferee);
  if (lead_ == kNoNode) return absl::UnavailableError("transfer: no leader known");
  if (transferee != id_) {
    return absl::FailedPreconditionError(
        absl::StrCat("transfer: node ", id_, " is not the leader (", lead_,
                     " is); a follower can only ask for leadership itself"));
  }
  if (!tracker_.IsVoter(id_)) {
    return absl::InvalidArgumentError(absl::StrCat("transfer: ", id_, " is not a voter"));
  }
  Send(Make(MessageType::kTransferLeader, lead_));
  return absl::OkStatus();
}

absl::Status Raft::StartTransfer(NodeId transferee) {
  if (transferee == id_) {
    AbortTransfer();  // already the leader
    return absl::OkStatus();
  }
  if (!tracker_.IsVoter(transferee)) {
    return absl::InvalidArgumentError(absl::StrCat("transfer: ", transferee, " is not a voter"));
  }
  if (lead_transferee_ == transferee) return absl::OkStatus();
  lead_transferee_ = transferee;
  transfer_elapsed_ = 0;
  // Bring the transferee up to date first; TimeoutNow follows once it is.
  if (tracker_.Get(transferee)->match == log_.LastIndex()) {
    SendTimeoutNow(transferee);
  } else {
    MaybeSendAppend(transferee, true);
  }
  return absl::OkStatus();
}

void Raft::SendTimeoutNow(NodeId to) { Send(Make(MessageType::kTimeoutNow, to)); }

}  // namespace cairn::consensus::internal
