// The Raft I/O loop (see raft_loop.h).
#include "raft/raft_loop.h"

#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "cairn/storage/snapshot.h"
#include "errors/status.h"
#include "observe/log.h"
#include "raft/stored_log.h"

namespace cairn::node {
RaftLoop::RaftLoop(RaftLoopOptions options, DurableLog* log, StateMachine* machine,
                   PeerTransport* transport, SnapshotTransfers* snapshots, Governance* governance,
                   CheckpointSigner* signer, NodeMetrics* metrics, IndexWaiters* applied_waiters,
                   IndexWaiters* signed_waiters)
    : options_(std::move(options)),
      log_(log),
      machine_(machine),
      transport_(transport),
      snapshots_(snapshots),
      governance_(governance),
      signer_(signer),
      metrics_(metrics),
      applied_waiters_(applied_waiters),
      signed_waiters_(signed_waiters),
      commit_waiters_(metrics),
      pump_(applied_waiters, signed_waiters, options_.on_signature_applied),
      stage_(machine, options_.apply_queue_entries_max,
             [this](const std::vector<consensus::Entry>& entries,
                    const std::vector<ApplyResult>& results) { OnApplied(entries, results); }) {}

RaftLoop::~RaftLoop() { Stop(); }

absl::Status RaftLoop::Start() {
  consensus::Config config;
  config.id = options_.node_id;
  config.election_tick = options_.election_ticks;
  config.heartbeat_tick = options_.heartbeat_ticks;
  config.uncommitted_bytes_max = options_.uncommitted_bytes_max;
  config.applied = machine_->applied_index();
  config.random_seed = options_.random_seed != 0 ? options_.random_seed : std::random_device()();
  if (options_.tune_core) options_.tune_core(&config);
  auto raw = consensus::RawNode::Create(config, log_->reader());
  if (!raw.ok()) return raw.status();
  raw_ = *std::move(raw);
  applied_waiters_->Advance(machine_->applied_index());
  signed_waiters_->Advance(machine_->signed_tree_size());
  PublishStatus();
  pump_.Start(options_.own_thread);
  stage_.Start(options_.own_thread);
  started_ = true;
  if (options_.own_thread) thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void RaftLoop::Stop() {
  {
    absl::MutexLock lock(&inbox_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) {
    thread_.join();
  } else if (started_ && !options_.own_thread) {
    Shutdown();
  }
}

void RaftLoop::DriveOnce(bool tick, Clock::time_point now) {
  CAIRN_CHECK(!options_.own_thread) << "DriveOnce on a loop that runs its own thread";
  std::deque<Op> ops;
  {
    absl::MutexLock lock(&inbox_mu_);
    if (stopping_) return;
    ops.swap(inbox_);
  }
  Iterate(std::move(ops), tick, now);
}

size_t RaftLoop::queued_ops() const {
  absl::MutexLock lock(&inbox_mu_);
  return inbox_.size();
}

consensus::RawNode& RaftLoop::core() {
  CAIRN_CHECK(!options_.own_thread) << "core() on a loop that runs its own thread";
  return *raw_;
}

bool RaftLoop::Enqueue(Op op, bool bounded) {
  absl::MutexLock lock(&inbox_mu_);
  if (stopping_ || (bounded && inbox_.size() >= options_.inbox_ops_max)) return false;
  inbox_.push_back(std::move(op));
  return true;
}

absl::Status RaftLoop::BusyError() const {
  return WithReason(
      absl::ResourceExhaustedError(absl::StrCat("node is busy: ", options_.inbox_ops_max,
                                                " requests queued for the Raft loop "
                                                "(--inbox-ops-max); back off")),
      v1::ERROR_REASON_BACKPRESSURE, {{"limit", "inbox_ops_max"}});
}

template <typename Done, typename Work>
void RaftLoop::EnqueueCall(Done done, Work work) {
  // Shared, so that `done` is still here to answer when the inbox refuses.
  auto shared = std::make_shared<Done>(std::move(done));
  const bool queued =
      Enqueue([shared, work = std::move(work)]() mutable { std::move(work)(std::move(*shared)); },
              /*bounded=*/true);
  if (!queued) std::move (*shared)(BusyError());
}

void RaftLoop::Propose(std::string command, AppendIdentity identity, bool wait_commit,
                       Clock::time_point deadline, ProposeDone done) {
  EnqueueCall(std::move(done), [this, command = std::move(command), identity = std::move(identity),
                                wait_commit, deadline](ProposeDone done) mutable {
    DoPropose(std::move(command), std::move(identity), wait_commit, deadline, std::move(done));
  });
}

void RaftLoop::DoPropose(std::string command, AppendIdentity identity, bool wait_commit,
                         Clock::time_point deadline, ProposeDone done) {
  if (identity.has_key() && JoinInflight(identity, wait_commit, deadline, done)) return;
  std::vector<std::string> one;
  one.push_back(std::move(command));
  auto sealed_at = SealProposals(&one, {&identity});
  if (!sealed_at.ok()) {
    std::move(done)(sealed_at.status());
    return;
  }
  auto position = raw_->Propose(std::move(one));
  if (!position.ok()) {
    std::move(done)(ProposeError(position.status()));
    return;
  }
  CheckSealedAt(*sealed_at, *position);
  AwaitProposed(ledger::TxId{position->term, position->last_index}, std::move(identity),
                wait_commit, deadline, std::move(done));
}

// Seals `commands` where the log will hold them: a leader appends a proposal
// right after its last entry, in its current term, so the txids are certain
// here (Propose below appends them there or not at all). Not on a follower:
// its Propose fails anyway.
absl::StatusOr<std::optional<ledger::TxId>> RaftLoop::SealProposals(
    std::vector<std::string>* commands, const std::vector<const AppendIdentity*>& identities) {
  if (!options_.seal || (options_.sealing && !options_.sealing())) return std::nullopt;
  const consensus::NodeStatus st = raw_->Status();
  if (st.role != consensus::Role::kLeader) return std::nullopt;
  CAIRN_CHECK(identities.size() == commands->size());
  for (size_t j = 0; j < commands->size(); ++j) {
    auto sealed = options_.seal(ledger::TxId{st.term, st.last_index + 1 + j},
                                std::move((*commands)[j]), *identities[j]);
    if (!sealed.ok()) return sealed.status();
    (*commands)[j] = *std::move(sealed);
  }
  return ledger::TxId{st.term, st.last_index + 1};
}

// A sealed proposal must have landed where it was sealed for: its nonce and
// associated data are that txid.
void RaftLoop::CheckSealedAt(const std::optional<ledger::TxId>& sealed_at,
                             const consensus::ProposalPosition& position) {
  CAIRN_CHECK(!sealed_at.has_value() ||
              (sealed_at->term == position.term && sealed_at->index == position.first_index))
      << "entries sealed for " << sealed_at->ToString() << " were appended at " << position.term
      << "." << position.first_index;
}

void RaftLoop::AwaitProposed(const ledger::TxId& txid, AppendIdentity identity, bool wait_commit,
                             Clock::time_point deadline, ProposeDone done) {
  if (identity.has_key()) {
    inflight_keys_[identity.key] = InflightKey{txid.index, txid.term, identity.digest};
    inflight_key_of_index_[txid.index] = identity.key;
  }
  if (!wait_commit) {
    std::move(done)(CommitResult{txid, v1::TRANSACTION_STATUS_PENDING, std::nullopt});
    return;
  }
  ProposeDone rejected;
  const bool added = commit_waiters_.Add(txid.index, txid.term, std::move(identity.key), deadline,
                                         false, std::move(done), &rejected);
  // A new entry cannot have been applied before it was proposed.
  CAIRN_CHECK(added) << "index " << txid.index << " was answered before it was proposed";
}

namespace {

// Collects a batch's per-entry outcomes, from whichever threads give them,
// and hands them on once the last one is in.
class BatchAnswer {
 public:
  using Results = std::vector<absl::StatusOr<CommitResult>>;
  BatchAnswer(size_t n, RaftLoop::BatchDone done)
      : results_(n, absl::InternalError("unanswered")), remaining_(n), done_(std::move(done)) {}

  // The outcome of entry `i` (each exactly once).
  void Set(size_t i, absl::StatusOr<CommitResult> result) ABSL_LOCKS_EXCLUDED(mu_) {
    Results all;
    {
      absl::MutexLock lock(&mu_);
      results_[i] = std::move(result);
      if (--remaining_ > 0) return;
      all = std::move(results_);
    }
    std::move(done_)(std::move(all));
  }

 private:
  absl::Mutex mu_;
  Results results_ ABSL_GUARDED_BY(mu_);
  size_t remaining_ ABSL_GUARDED_BY(mu_);
  RaftLoop::BatchDone done_;  // run once, by the thread that gave the last outcome
};

}  // namespace

void RaftLoop::ProposeBatch(std::vector<std::string> commands,
                            std::vector<AppendIdentity> identities, bool wait_commit,
                            Clock::time_point deadline, BatchDone done) {
  CAIRN_CHECK(commands.size() == identities.size() && !commands.empty());
  EnqueueCall(std::move(done),
              [this, commands = std::move(commands), identities = std::move(identities),
               wait_commit, deadline](BatchDone done) mutable {
                DoProposeBatch(std::move(commands), std::move(identities), wait_commit, deadline,
                               std::move(done));
              });
}

void RaftLoop::DoProposeBatch(std::vector<std::string> commands,
                              std::vector<AppendIdentity> identities, bool wait_commit,
                              Clock::time_point deadline, BatchDone done) {
  const size_t n = commands.size();
  auto answer = std::make_shared<BatchAnswer>(n, std::move(done));
  std::vector<ProposeDone> dones;
  dones.reserve(n);
  std::vector<size_t> fresh;  // positions of the entries proposed now
  std::vector<std::string> data;
  std::vector<const AppendIdentity*> fresh_identities;
  for (size_t i = 0; i < n; ++i) {
    dones.emplace_back(
        [answer, i](absl::StatusOr<CommitResult> r) { answer->Set(i, std::move(r)); });
    if (identities[i].has_key() && JoinInflight(identities[i], wait_commit, deadline, dones[i])) {
      continue;
    }
    fresh.push_back(i);
    data.push_back(std::move(commands[i]));
    fresh_identities.push_back(&identities[i]);
  }
  if (fresh.empty()) return;
  auto sealed_at = SealProposals(&data, fresh_identities);
  if (!sealed_at.ok()) {
    for (size_t i : fresh) std::move(dones[i])(sealed_at.status());
    return;
  }
  auto position = raw_->Propose(std::move(data));
  if (!position.ok()) {
    const absl::Status error = ProposeError(position.status());
    for (size_t i : fresh) std::move(dones[i])(error);
    return;
  }
  CheckSealedAt(*sealed_at, *position);
  CAIRN_CHECK(position->last_index - position->first_index + 1 == fresh.size());
  for (size_t j = 0; j < fresh.size(); ++j) {
    const size_t i = fresh[j];
    AwaitProposed(ledger::TxId{position->term, position->first_index + j}, std::move(identities[i]),
                  wait_commit, deadline, std::move(dones[i]));
  }
}

bool RaftLoop::JoinInflight(const AppendIdentity& identity, bool wait_commit,
                            Clock::time_point deadline, ProposeDone& done) {
  auto it = inflight_keys_.find(identity.key);
  if (it == inflight_keys_.end()) return false;
  InflightKey held = it->second;
  std::optional<std::string> waiter_key = identity.key;
  // The entry this key was proposed as must still be in the log at its
  // position, and this node must still lead (else it may be replaced yet).
  auto term = raw_->TermAt(held.index);
  if (options_.inject_stale_idempotency_join) {
    if (!term.ok()) return false;
    if (*term != held.term || raw_->Status().role != consensus::Role::kLeader) {
      spdlog::warn("injected bug: a retry joins index {} (proposed in term {}, now term {})",
                   held.index, held.term, *term);
    }
    held.term = *term;   // the bug: whatever the log holds there now
    waiter_key.reset();  // and no invariant check to stop it
  } else if (raw_->Status().role != consensus::Role::kLeader || !term.ok() || *term != held.term) {
    return false;
  }
  const ledger::TxId original{held.term, held.index};
  if (held.digest != identity.digest) {
    std::move(done)(KeyReusedError(original));
    return true;
  }
  if (!wait_commit) {
    std::move(done)(CommitResult{original, v1::TRANSACTION_STATUS_PENDING, original});
    return true;
  }
  // Applied already (its key is cleared a moment later): proposing it
  // again is safe, the applier records the retry as a duplicate.
  ProposeDone rejected;
  if (commit_waiters_.Add(held.index, held.term, std::move(waiter_key), deadline, /*joined=*/true,
                          std::move(done), &rejected)) {
    return true;
  }
  done = std::move(rejected);
  return false;
}

absl::Status RaftLoop::ProposeError(const absl::Status& core_error) const {
  if (absl::IsUnavailable(core_error)) return NotLeaderError(core_error);
  if (absl::IsResourceExhausted(core_error)) {  // the uncommitted-bytes bound
    return WithReason(
        absl::ResourceExhaustedError(absl::StrCat("node is busy: ", core_error.message(),
                                                  " (--uncommitted-bytes-max); back off")),
        v1::ERROR_REASON_BACKPRESSURE, {{"limit", "uncommitted_bytes_max"}});
  }
  return core_error;
}

absl::Status RaftLoop::NotLeaderError(const absl::Status& core_error) const {
  const consensus::NodeStatus st = raw_->Status();
  if (st.role == consensus::Role::kLeader) {
    // A leader refusing proposals (a transfer in progress): not written.
    return WithReason(core_error, v1::ERROR_REASON_NO_LEADER);
  }
  if (st.leader == consensus::kNoNode) {
    return WithReason(absl::UnavailableError("no leader is known (an election is in progress)"),
                      v1::ERROR_REASON_NO_LEADER);
  }
  return WithReason(core_error, v1::ERROR_REASON_NOT_LEADER,
                    {{"leader_id", std::to_string(st.leader)}});
}

void RaftLoop::ProposeConfChange(consensus::ConfChange change, std::string command,
                                 Clock::time_point deadline, ProposeDone done) {
  EnqueueCall(std::move(done), [this, change, command = std::move(command),
                                deadline](ProposeDone done) mutable {
    auto position = raw_->ProposeConfChange(change, std::move(command));
    if (!position.ok()) {
      std::move(done)(ProposeError(position.status()));
      return;
    }
    ProposeDone rejected;
    const bool added = commit_waiters_.Add(position->last_index, position->term, "", deadline,
                                           false, std::move(done), &rejected);
    CAIRN_CHECK(added) << "index " << position->last_index << " answered before proposed";
  });
}

void RaftLoop::Step(std::vector<consensus::Message> messages) {
  Enqueue(
      [this, messages = std::move(messages)]() mutable {
        for (const auto& m : messages) {
          if (!unreachable_.empty()) unreachable_.erase(m.from);  // heard from again
          const absl::Status st = raw_->Step(m);
          if (!st.ok()) spdlog::warn("dropped raft message from node {}: {}", m.from, st.message());
        }
      },
      /*bounded=*/false);
}

void RaftLoop::ReadIndex(Clock::time_point deadline, IndexDone done) {
  EnqueueCall(std::move(done), [this, deadline](IndexDone done) mutable {
    std::string context = absl::StrCat(options_.node_id, "/", next_read_context_++);
    const absl::Status st = raw_->ReadIndex(context);
    if (!st.ok()) {
      std::move(done)(st);
      return;
    }
    reads_[context] = PendingRead{deadline, std::move(done)};
  });
}

void RaftLoop::TransferLeadership(consensus::NodeId target, Clock::time_point deadline,
                                  IndexDone done) {
  EnqueueCall(std::move(done), [this, target, deadline](IndexDone done) mutable {
    consensus::NodeId to = target;
    bool any_voter = false;
    if (to == 0) {  // the most caught-up other voter that is reachable
      uint64_t best = 0;
      for (const auto& p : raw_->Progress()) {
        if (p.is_learner) continue;
        any_voter = true;
        if (p.recent_active && !unreachable_.contains(p.id) && p.match >= best) {
          best = p.match;
          to = p.id;
        }
      }
    }
    if (transfer_) {
      std::move(done)(absl::FailedPreconditionError("a leadership transfer is in progress"));
      return;
    }
    if (to == 0 || to == options_.node_id) {
      std::move(done)(absl::FailedPreconditionError(
          any_voter ? "no other voter is reachable to transfer leadership to"
                    : "no other voter to transfer leadership to"));
      return;
    }
    if (unreachable_.contains(to)) {
      std::move(done)(absl::UnavailableError(absl::StrCat("node ", to, " is unreachable")));
      return;
    }
    const absl::Status st = raw_->TransferLeadership(to);
    if (!st.ok()) {
      std::move(done)(st);
      return;
    }
    transfer_ = PendingTransfer{to, deadline, std::move(done)};
  });
}

void RaftLoop::RequestSignature(uint64_t upto) {
  // Best effort: a full inbox drops the wish, and the interval signs later.
  Enqueue([this, upto] { signature_wanted_ = std::max(signature_wanted_, upto); },
          /*bounded=*/true);
}

void RaftLoop::Compact(IndexDone done) {
  EnqueueCall(std::move(done), [this](IndexDone done) mutable {
    MaybeCompact(/*force=*/true);
    std::move(done)(log_->reader()->Snapshot().index);
  });
}

void RaftLoop::ReceiveSnapshot(consensus::Message message,
                               std::unique_ptr<storage::SnapshotSink> sink,
                               std::string payload_sha256) {
  ReceiveSnapshot(std::move(message),
                  std::make_unique<StoredSnapshot>(std::move(sink), std::move(payload_sha256)));
}

void RaftLoop::ReceiveSnapshot(consensus::Message message,
                               std::unique_ptr<IncomingSnapshot> snapshot) {
  auto shared = std::make_shared<std::unique_ptr<IncomingSnapshot>>(std::move(snapshot));
  Enqueue(
      [this, message = std::move(message), shared]() mutable {
        incoming_snapshot_ = std::move(*shared);
        const absl::Status st = raw_->Step(message);
        if (!st.ok()) spdlog::warn("snapshot message refused: {}", st.message());
        // HandleReady consumes incoming_snapshot_ if the core accepted it.
        while (raw_->HasReady()) {
          HandleReady(raw_->GetReady());
          raw_->Advance();
        }
        incoming_snapshot_.reset();
      },
      false);
}

void RaftLoop::ReportUnreachable(consensus::NodeId id) {
  Enqueue(
      [this, id]() {
        raw_->ReportUnreachable(id);
        unreachable_.insert(id);
        // A transfer to a node that is gone cannot finish: say so now
        // rather than at its deadline.
        if (transfer_ && transfer_->target == id) {
          std::move(transfer_->done)(
              absl::UnavailableError(absl::StrCat("node ", id, " became unreachable")));
          transfer_.reset();
        }
      },
      false);
}

void RaftLoop::ReportSnapshot(consensus::NodeId id, bool ok) {
  Enqueue([this, id, ok]() { raw_->ReportSnapshot(id, ok); }, false);
}

LoopStatus RaftLoop::status() const {
  absl::MutexLock lock(&status_mu_);
  return status_;
}

void RaftLoop::Run() {
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  for (;;) {
    std::deque<Op> ops;
    // Wake for the next tick, or sooner when a signature falls due: a
    // receipt waits for it, and ticks are coarse (tick_ms).
    const Clock::time_point wake = std::min(next_tick, SignatureDue());
    {
      absl::MutexLock lock(&inbox_mu_);
      inbox_mu_.AwaitWithDeadline(
          absl::Condition(
              +[](RaftLoop* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return self->stopping_ || !self->inbox_.empty();
              },
              this),
          absl::FromChrono(std::chrono::system_clock::now() + (wake - Clock::now())));
      if (stopping_) break;
      ops.swap(inbox_);
    }
    const auto now = Clock::now();
    const bool tick_due = now >= next_tick;
    if (tick_due) next_tick = std::max(next_tick + tick, now);
    Iterate(std::move(ops), tick_due, now);
  }
  Shutdown();
}

void RaftLoop::Iterate(std::deque<Op> ops, bool tick, Clock::time_point now) {
  for (auto& op : ops) std::move(op)();
  if (tick) {
    raw_->Tick();
    Periodic(now);
  }
  MaybeSign(now);
  while (raw_->HasReady()) {
    HandleReady(raw_->GetReady());
    raw_->Advance();
  }
  PublishStatus();
}

void RaftLoop::Shutdown() {
  // What was handed over is applied, then every waiting caller hears that
  // the node went down: their appends may or may not commit.
  stage_.Stop();
  pump_.Stop();
  const absl::Status down = WithReason(
      absl::UnavailableError("node is shutting down; the outcome of a pending append is "
                             "unknown (look its txid up, or retry with the same idempotency key)"),
      v1::ERROR_REASON_OUTCOME_UNKNOWN);
  commit_waiters_.FailAll(down);
  for (auto& [ctx, r] : reads_) std::move(r.done)(down);
  reads_.clear();
  if (transfer_) std::move(transfer_->done)(down);
  transfer_.reset();
  absl::MutexLock lock(&inbox_mu_);
  inbox_.clear();
}

void RaftLoop::HandleReady(consensus::Ready rd) {
  // Who leads changes routing, dedup state and waiting transfers.
  if (rd.soft_state) OnSoftState(*rd.soft_state);
  // The leader's appends may go out while it persists them (thesis §10.2.1).
  SendMessages(std::move(rd.messages_now));
  if (rd.snapshot) {
    // A snapshot replaces the state: install it, make the log durable,
    // send, and only then apply what the Ready commits after it.
    InstallSnapshot(*rd.snapshot);
    Persist(rd);
    SendMessages(std::move(rd.messages_after_persist));
    ApplyCommitted(rd);
    return;
  }
  // Committed entries are durable already (Ready rule 4), so the apply
  // stage applies them and answers their callers while this Ready's own
  // fsync runs; otherwise every append would wait for the fsync of the batch
  // behind it.
  ApplyCommitted(rd);
  Persist(rd);
  // Votes and acknowledgements promise durable state: only now.
  SendMessages(std::move(rd.messages_after_persist));
  // The caller calls Advance().
}

// Entries, hard state and membership become durable together, in one write.
void RaftLoop::Persist(const consensus::Ready& rd) {
  if (rd.entries.empty() && !rd.hard_state && !rd.conf_state) return;
  const auto started = Clock::now();
  DurableLog::Write write;
  write.hard_state = rd.hard_state;
  write.entries = rd.entries;
  write.conf_state = rd.conf_state;
  write.must_sync = rd.must_sync;
  const absl::Status st = log_->Save(write);
  // A failed fsync (any failed disk write) never returns here: storage
  // stops the process on the failing I/O with its own message
  // (storage::WriteFailure::kAbortProcess, STYLE.md §6). What can still fail
  // is a write RocksDB refuses by itself; it must not be acknowledged either.
  CAIRN_CHECK_OK(st) << "persisting the Raft log";
  metrics_->fsync_latency_seconds.Observe(
      std::chrono::duration<double>(Clock::now() - started).count());
}

void RaftLoop::ApplyCommitted(consensus::Ready& rd) {
  stage_.Submit(std::move(rd.committed_entries));
  if (!rd.read_states.empty()) OnReadStates(std::move(rd.read_states));
}

void RaftLoop::InstallSnapshot(const consensus::SnapshotMeta& meta) {
  CAIRN_CHECK(incoming_snapshot_ != nullptr)
      << "the core accepted snapshot " << meta.index << " that no stream delivered";
  // The stage applies what it holds, then the state is replaced beside nothing.
  stage_.RunExclusive([&] {
    CAIRN_CHECK_OK(incoming_snapshot_->Install(meta)) << "installing snapshot at " << meta.index;
    CAIRN_CHECK_OK(machine_->Load()) << "reloading state after snapshot";
  });
  incoming_snapshot_.reset();
  RefreshPeers();
  pump_.Post(machine_->applied_index(), machine_->signed_tree_size());
  spdlog::info("installed snapshot at index {} term {}", meta.index, meta.term);
}

void RaftLoop::SendMessages(std::vector<consensus::Message> messages) {
  if (messages.empty()) return;
  std::vector<consensus::Message> regular;
  regular.reserve(messages.size());
  for (auto& m : messages) {
    if (m.type == consensus::MessageType::kSnapshot) {
      snapshots_->Send(std::move(m));
    } else {
      regular.push_back(std::move(m));
    }
  }
  transport_->Send(std::move(regular));
}

void RaftLoop::OnSoftState(const consensus::SoftState& soft) {
  const bool was_leader = soft_.role == consensus::Role::kLeader;
  soft_ = soft;
  const bool is_leader = soft.role == consensus::Role::kLeader;
  if (is_leader && !was_leader) {
    spdlog::info("became leader in term {}", raw_->Status().term);
    RebuildInflightKeys();
  } else if (!is_leader && was_leader) {
    spdlog::info("stepped down; leader is now {}", soft.leader);
    inflight_keys_.clear();
    inflight_key_of_index_.clear();
    signature_pending_index_ = 0;
  }
  if (transfer_ && soft.leader == transfer_->target) {
    std::move(transfer_->done)(transfer_->target);
    transfer_.reset();
  }
}

// A new leader may hold uncommitted appends of an earlier term in its log; a
// retry of one of them must join it, not write it again.
void RaftLoop::RebuildInflightKeys() {
  inflight_keys_.clear();
  inflight_key_of_index_.clear();
  const uint64_t first = machine_->applied_index() + 1;
  const uint64_t last = log_->reader()->LastIndex();
  if (first > last) return;
  // Without these keys a retry would write its append twice: a log this node
  // cannot read stops it, as a failed write does.
  auto entries = log_->reader()->Entries(first, last + 1, SIZE_MAX);
  CAIRN_CHECK_OK(entries.status()) << "reading the uncommitted log [" << first << ", " << last
                                   << "] to rebuild idempotency keys";
  for (const auto& e : *entries) {
    AppendIdentity id = IdentityOfEntry(e.data);
    if (!id.has_key()) continue;
    inflight_keys_[id.key] = InflightKey{e.index, e.term, id.digest};
    inflight_key_of_index_[e.index] = std::move(id.key);
  }
}

void RaftLoop::RefreshPeers() {
  if (!governance_->created()) return;  // until genesis, the configured peers stand
  std::set<consensus::NodeId> members;
  for (const auto& m : governance_->Members()) {
    if (m.node_id() == options_.node_id) continue;
    members.insert(m.node_id());
    transport_->SetPeer(m.node_id(), m.peer_address());
  }
  // A removed server keeps its peer until it knows of its removal: the core
  // replicates to it until then, so that it stops campaigning.
  std::set<consensus::NodeId> leaving;
  for (const auto& p : raw_->Progress()) {
    if (p.leaving) leaving.insert(p.id);
  }
  peers_leaving_ = false;
  for (consensus::NodeId id : transport_->PeerIds()) {
    if (members.count(id)) continue;
    if (leaving.count(id)) {
      peers_leaving_ = true;
    } else {
      transport_->RemovePeer(id);
    }
  }
}

void RaftLoop::OnApplied(const std::vector<consensus::Entry>& entries,
                         const std::vector<ApplyResult>& results) {
  // Reads and receipts waiting for these entries are answered on the pump's
  // thread, not this one (it applies the next batch meanwhile).
  pump_.Post(machine_->applied_index(), machine_->signed_tree_size());
  commit_waiters_.Answer(results);
  bool membership_changed = false;
  for (const auto& e : entries) membership_changed |= e.conf_change.has_value();
  const uint64_t first = entries.front().index;
  const uint64_t last = entries.back().index;
  Enqueue(
      [this, first, last, membership_changed] { AfterApplied(first, last, membership_changed); },
      /*bounded=*/false);
}

void RaftLoop::AfterApplied(uint64_t first_index, uint64_t last_index, bool membership_changed) {
  if (membership_changed || !peers_refreshed_) {
    RefreshPeers();
    peers_refreshed_ = governance_->created();
  }
  if (signature_pending_index_ != 0 && last_index >= signature_pending_index_) {
    signature_pending_index_ = 0;
  }
  for (auto k = inflight_key_of_index_.lower_bound(first_index);
       k != inflight_key_of_index_.end() && k->first <= last_index;) {
    // A retry proposed again after this entry applied holds the key now.
    auto held = inflight_keys_.find(k->second);
    if (held != inflight_keys_.end() && held->second.index == k->first) {
      inflight_keys_.erase(held);
    }
    k = inflight_key_of_index_.erase(k);
  }
  MaybeCompact(/*force=*/false);
}

void RaftLoop::OnReadStates(std::vector<consensus::ReadState> states) {
  for (auto& rs : states) {
    auto it = reads_.find(rs.context);
    if (it == reads_.end()) continue;
    PendingRead read = std::move(it->second);
    reads_.erase(it);
    auto shared = std::make_shared<IndexDone>(std::move(read.done));
    const uint64_t index = rs.index;
    const absl::Status st =
        applied_waiters_->Wait(index, read.deadline, [shared, index](absl::Status s) mutable {
          if (s.ok()) {
            std::move (*shared)(index);
          } else {
            std::move (*shared)(s);
          }
        });
    if (!st.ok()) std::move (*shared)(st);
  }
}

void RaftLoop::Periodic(Clock::time_point now) {
  commit_waiters_.Expire(now);
  ExpireReads(now);
  applied_waiters_->Expire(now);
  signed_waiters_->Expire(now);
  MaybeProposeGenesis();
  if (peers_leaving_) RefreshPeers();
}

void RaftLoop::ExpireReads(Clock::time_point now) {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline <= now) {
      std::move(it->second.done)(absl::DeadlineExceededError("read index not confirmed in time"));
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
  if (transfer_ && transfer_->deadline <= now) {
    std::move(transfer_->done)(absl::DeadlineExceededError(absl::StrCat(
        "node ", transfer_->target, " did not take over leadership before the deadline")));
    transfer_.reset();
  }
}

void RaftLoop::MaybeProposeGenesis() {
  if (soft_.role != consensus::Role::kLeader || !options_.genesis || governance_->created()) return;
  const uint64_t term = raw_->Status().term;
  if (genesis_proposed_term_ == term) return;
  v1::LogCommand command;
  *command.mutable_governance()->mutable_create_service() = *options_.genesis;
  auto position = raw_->Propose(command.SerializeAsString());
  if (position.ok()) {
    genesis_proposed_term_ = term;
    spdlog::info("proposed the genesis transaction at {}",
                 ledger::TxId{position->term, position->last_index}.ToString());
  }
}

std::optional<SignState> RaftLoop::Signable() const {
  if (soft_.role != consensus::Role::kLeader || signature_pending_index_ != 0) return std::nullopt;
  const SignState st = stage_.sign_state();
  // Not before an entry of this term is applied: everything earlier in the
  // log, including a signature the previous leader proposed, is applied by
  // then, so this checkpoint covers at least as many leaves as any committed
  // one before it (checkpoints never shrink; clients treat that as rollback).
  if (st.applied_term != raw_->Status().term) return std::nullopt;
  if (st.last_signable_index <= st.signed_tree_size && !SignatureWanted(st)) return std::nullopt;
  return st;
}

// A reader waits for an applied index no signature covers yet.
bool RaftLoop::SignatureWanted(const SignState& st) const {
  return signature_wanted_ > st.signed_tree_size && signature_wanted_ <= st.applied_index;
}

// A time in the past that MaybeSign would not act on would spin the loop, so
// this passes the same gates (Signable) first.
RaftLoop::Clock::time_point RaftLoop::SignatureDue() const {
  const std::optional<SignState> st = Signable();
  if (!st) return Clock::time_point::max();
  // Signable passes with only signatures unsigned when a reader wants one.
  if (OnlySignaturesUnsigned(*st)) {
    return std::max(sign_retry_at_, last_signature_over_signature_ + SignatureOverSignatureGap());
  }
  return std::max(sign_retry_at_,
                  st->unsigned_since + std::chrono::milliseconds(options_.signature_interval_ms));
}

// Only signature transactions are unsigned, so a signature for a reader
// would sign nothing but a signature.
bool RaftLoop::OnlySignaturesUnsigned(const SignState& st) {
  return st.last_signable_index <= st.signed_tree_size;
}

// Such a signature is an entry nobody appended, and the reader can ask for
// the receipt of that one in turn: at most one per this gap, so readers
// cannot grow the ledger faster than this.
RaftLoop::Clock::duration RaftLoop::SignatureOverSignatureGap() const {
  return std::max<Clock::duration>(std::chrono::milliseconds(options_.signature_interval_ms),
                                   std::chrono::seconds(1));
}

void RaftLoop::MaybeSign(Clock::time_point now) {
  if (now < sign_retry_at_) return;
  const std::optional<SignState> signable = Signable();
  if (!signable) return;
  const SignState& st = *signable;
  const uint64_t unsigned_entries = st.applied_index - st.signed_tree_size;
  // With only signatures unsigned, Signable passed because a reader waits
  // for one (no interval would ever sign again); otherwise the interval
  // decides, as for everyone.
  const bool over_signature = OnlySignaturesUnsigned(st);
  if (over_signature) {
    if (now < last_signature_over_signature_ + SignatureOverSignatureGap()) return;
  } else if (unsigned_entries < options_.signature_interval_txs &&
             now - st.unsigned_since < std::chrono::milliseconds(options_.signature_interval_ms)) {
    return;
  }
  auto command = signer_->SignatureCommand(st.applied_index, st.root, st.applied_term);
  CAIRN_CHECK_OK(command.status()) << "signing a checkpoint";
  auto position = raw_->Propose(*std::move(command));
  if (position.ok()) {
    signature_pending_index_ = position->last_index;
    if (over_signature) last_signature_over_signature_ = now;
  } else {
    // Backpressure: try again a tick later rather than on every wakeup.
    sign_retry_at_ = now + std::chrono::milliseconds(options_.tick_ms);
  }
}

// Compacts the log once it holds snapshot_interval_entries applied entries
// beyond the retained tail, or (force) up to the applied index now.
void RaftLoop::MaybeCompact(bool force) {
  const uint64_t applied = machine_->applied_index();
  const uint64_t first = log_->reader()->FirstIndex();
  if (applied < first) return;
  const uint64_t keep = force ? 0 : options_.snapshot_retain_entries;
  if (!force && applied - first + 1 < options_.snapshot_interval_entries + keep) return;
  const uint64_t upto = applied - std::min(applied, keep);
  if (upto < first) return;
  // The core's applied membership is the stage's only when the stage holds
  // nothing; otherwise storage computes it from its conf-change records.
  const bool exact = upto == applied && stage_.idle() && machine_->applied_index() == applied;
  const absl::Status st = log_->Compact(
      upto, exact ? std::optional<consensus::ConfState>(raw_->AppliedConfState()) : std::nullopt);
  CAIRN_CHECK_OK(st) << "compacting the log to " << upto;
  spdlog::info("compacted the log up to index {}", upto);
}

void RaftLoop::PublishStatus() {
  LoopStatus s{raw_->Status(), raw_->Progress()};
  metrics_->term.Set(static_cast<double>(s.node.term));
  metrics_->commit_index.Set(static_cast<double>(s.node.commit));
  metrics_->applied_index.Set(static_cast<double>(machine_->applied_index()));
  metrics_->leader_id.Set(static_cast<double>(s.node.leader));
  metrics_->is_leader.Set(s.node.role == consensus::Role::kLeader ? 1 : 0);
  // Read signed first: the stage may apply (and sign) between the two reads.
  const uint64_t signed_size = machine_->signed_tree_size();
  const uint64_t applied = machine_->applied_index();
  metrics_->signature_lag_entries.Set(
      static_cast<double>(applied > signed_size ? applied - signed_size : 0));
  for (const auto& p : s.progress) {
    // Found once per follower: the family's lookup takes a lock and builds
    // the label set, too much for every wake of this loop.
    auto [gauge, added] = follower_lag_.try_emplace(p.id, nullptr);
    if (added) gauge->second = &metrics_->FollowerLag(p.id);
    gauge->second->Set(
        static_cast<double>(s.node.last_index > p.match ? s.node.last_index - p.match : 0));
  }
  absl::MutexLock lock(&status_mu_);
  status_ = std::move(s);
}

}  // namespace cairn::node
