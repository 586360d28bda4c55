// The node's Raft I/O loop: one thread owns the pure Raft core (RawNode) and
// turns its Ready batches into disk writes, network sends and applied ledger
// state, in the order the Ready type prescribes (HandleReady is the one place
// that order is enforced). Everything else talks to the loop through
// thread-safe methods that queue an operation for the loop thread.
//
// Committed entries go to the apply stage (apply_stage.h), whose thread
// writes them to the ledger and answers their callers while the loop goes on
// with the next Ready; the loop hears back (AfterApplied) to clear what it
// tracked for them.
//
// Many concurrent appends share each fsync and each round trip: every
// operation queued while the loop persists the previous batch lands in the
// next Ready together.
//
// The loop also does the leader's periodic work: proposing the genesis
// transaction of a new service, signature transactions every
// signature_interval_txs entries or signature_interval_ms, and log
// compaction once the log holds snapshot_interval_entries applied entries.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "apply/apply_stage.h"
#include "apply/governance.h"
#include "apply/idempotency.h"
#include "apply/signer.h"
#include "cairn/consensus/raw_node.h"
#include "cairn/ledger/txid.h"
#include "cairn/storage/snapshot.h"
#include "cairn/v1/ledger.pb.h"
#include "cairn/v1/log.pb.h"
#include "observe/metrics.h"
#include "raft/commit_waiters.h"
#include "raft/index_waiters.h"
#include "raft/seams.h"

namespace cairn::node {

struct RaftLoopOptions {
  consensus::NodeId node_id = 0;
  int64_t tick_ms = 100;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  uint64_t uncommitted_bytes_max = 64 << 20;
  uint64_t signature_interval_txs = 1000;
  int64_t signature_interval_ms = 100;
  uint64_t snapshot_interval_entries = 100000;
  uint64_t snapshot_retain_entries = 5000;
  // Operations queued for the loop, at most (proposals beyond get RESOURCE_EXHAUSTED).
  size_t inbox_ops_max = 65536;
  // Genesis of a new service; proposed by the first leader. Unset when joining.
  std::optional<v1::CreateService> genesis;
  // Called after a batch that applied a signature transaction (on the apply
  // stage's thread; must be quick).
  std::function<void()> on_signature_applied;
  // A private ledger's sealing (LedgerSecrets::SealCommand): given the txid
  // an append will have, its serialized LogCommand and its identity (whose
  // keyed request digest, when the caller computed one, is stored as it
  // is), what the log stores there. Called on the loop thread just before
  // the entry is appended, when the txid is certain; an error fails that
  // proposal and appends nothing. Unset: commands are stored as proposed.
  std::function<absl::StatusOr<std::string>(const ledger::TxId&, std::string,
                                            const AppendIdentity&)>
      seal;
  // Whether `seal` applies now (a private ledger); asked first, so a public
  // ledger's proposals cost the loop no status copy and no parse. Unset: it
  // always applies.
  std::function<bool()> sealing;
  // Committed entries handed to the apply stage and not yet applied, at most
  // (beyond, the loop waits for the stage).
  size_t apply_queue_entries_max = 16384;
  // The core's randomness (election timeouts); 0: from std::random_device.
  uint64_t random_seed = 0;
  // False: Start() starts no thread, and the apply stage and the waiter
  // pump run inline; the caller drives the loop with DriveOnce (a test or
  // the simulator, which must order events exactly and replay them).
  bool own_thread = true;
  // Adjusts the core's configuration after the loop filled it in (the
  // simulator varies what a node never does: pre-vote, pipeline bounds, an
  // injected core bug). Unset in a node.
  std::function<void(consensus::Config*)> tune_core;
  // TEST ONLY (--test-inject-bug stale-idempotency-join): puts back the
  // lost-write bug fixed in JoinInflight, so tests can show they catch it: a
  // retry joins whatever entry is now at its key's index, in whatever term,
  // even after this node was deposed. Never set in production.
  bool inject_stale_idempotency_join = false;
};

// A snapshot of the loop's state for status calls, metrics and routing.
struct LoopStatus {
  consensus::NodeStatus node;
  std::vector<consensus::FollowerProgress> progress;  // leader only
};

class RaftLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using ProposeDone = CommitWaiters::Done;
  using IndexDone = absl::AnyInvocable<void(absl::StatusOr<uint64_t>) &&>;
  // A batch's outcome: an error for the whole batch (nothing written), or
  // one outcome per entry, in order.
  using BatchDone =
      absl::AnyInvocable<void(absl::StatusOr<std::vector<absl::StatusOr<CommitResult>>>) &&>;

  RaftLoop(RaftLoopOptions options, DurableLog* log, StateMachine* machine,
           PeerTransport* transport, SnapshotTransfers* snapshots, Governance* governance,
           CheckpointSigner* signer, NodeMetrics* metrics, IndexWaiters* applied_waiters,
           IndexWaiters* signed_waiters);
  ~RaftLoop();

  // Creates the core from the durable state and starts the loop thread.
  absl::Status Start();
  // Stops the thread; waiting callbacks get UNAVAILABLE.
  void Stop();

  // Proposes `command` (a serialized LogCommand). With an idempotency key
  // (`identity.has_key()`), a retry joins the entry of the same key already
  // in flight on this leader instead of writing a second one, but only while
  // this node still leads and that entry is still the one proposed at that
  // position in that term, with the same contents (a key reused for other
  // contents gets IDEMPOTENCY_KEY_REUSED). With `wait_commit` false, `done`
  // runs once the entry is in the leader's log (status PENDING); otherwise
  // once it is applied (COMMITTED), or with an error whose reason says what
  // happened: NOT_LEADER / NO_LEADER, LOST_TO_LEADER_CHANGE, BACKPRESSURE
  // (not written), OUTCOME_UNKNOWN (deadline, shutdown; may be written).
  void Propose(std::string command, AppendIdentity identity, bool wait_commit,
               Clock::time_point deadline, ProposeDone done);
  // Proposes `commands` (with their `identities`, one each, keys distinct)
  // as Propose would each, in one step: the entries that do not join one in
  // flight are appended together at consecutive indexes, in order, or none
  // is. `done` runs once every entry has its outcome.
  void ProposeBatch(std::vector<std::string> commands, std::vector<AppendIdentity> identities,
                    bool wait_commit, Clock::time_point deadline, BatchDone done);
  // Proposes a membership change carrying a governance transaction.
  void ProposeConfChange(consensus::ConfChange change, std::string command,
                         Clock::time_point deadline, ProposeDone done);
  // Delivers messages from a peer.
  void Step(std::vector<consensus::Message> messages);
  // A linearizable read point: `done` gets an index that is applied by the
  // time it runs (ReadIndex, thesis §6.4).
  void ReadIndex(Clock::time_point deadline, IndexDone done);
  // Hands leadership to `target` (0: the most caught-up voter); `done` gets
  // the new leader once it leads.
  void TransferLeadership(consensus::NodeId target, Clock::time_point deadline, IndexDone done);
  // A reader waits for a signature covering log index `upto` (a receipt).
  // The signature interval covers it as usual, except where only signature
  // transactions are unsigned: no interval ever signs again then (the
  // newest signature of an idle ledger), so a leader signs for the reader
  // once `upto` is applied — at most once per second (or signature
  // interval, if longer), since each such signature is an entry nobody
  // appended. Nothing on a follower.
  void RequestSignature(uint64_t upto);
  // Compacts the log up to the applied index now; `done` gets that index.
  void Compact(IndexDone done);
  // A snapshot payload arrived, checksummed, in `sink`: step its message and
  // install it if the core accepts it.
  void ReceiveSnapshot(consensus::Message message, std::unique_ptr<IncomingSnapshot> snapshot);
  // The same for a payload staged in a sink of the node's database.
  void ReceiveSnapshot(consensus::Message message, std::unique_ptr<storage::SnapshotSink> sink,
                       std::string payload_sha256);
  void ReportUnreachable(consensus::NodeId id);
  void ReportSnapshot(consensus::NodeId id, bool ok);

  LoopStatus status() const ABSL_LOCKS_EXCLUDED(status_mu_);

  // Only with options.own_thread false, on the driving thread: runs the
  // operations queued so far, a tick when `tick`, and every Ready that
  // follows, exactly as one iteration of the loop thread does, at time `now`
  // (the driver's clock: deadlines, signature intervals).
  void DriveOnce(bool tick, Clock::time_point now);
  // Operations queued for the loop and not yet run (a driver's question:
  // is another iteration due?).
  size_t queued_ops() const ABSL_LOCKS_EXCLUDED(inbox_mu_);
  // Only with options.own_thread false, between DriveOnce calls: the core,
  // for a driver to inspect (or to force an election, as a timer would).
  consensus::RawNode& core();

 private:
  using Op = absl::AnyInvocable<void() &&>;
  struct PendingRead {
    Clock::time_point deadline;
    IndexDone done;
  };
  struct PendingTransfer {
    consensus::NodeId target = 0;
    Clock::time_point deadline;
    IndexDone done;
  };

  // Queues `op` for the loop thread. False when the inbox is full.
  bool Enqueue(Op op, bool bounded) ABSL_LOCKS_EXCLUDED(inbox_mu_);
  // Queues a caller's request: `work(done)` runs on the loop thread, or
  // `done` gets BusyError() at once when the inbox is full.
  template <typename Done, typename Work>
  void EnqueueCall(Done done, Work work);
  // RESOURCE_EXHAUSTED, reason BACKPRESSURE, naming inbox_ops_max.
  absl::Status BusyError() const;
  void Run();
  // One iteration: `ops` in order, then a tick, periodic work and Readys.
  void Iterate(std::deque<Op> ops, bool tick, Clock::time_point now);
  // After the last iteration: drains the stages, fails every waiter.
  void Shutdown();
  // THE ordering rule of consensus::Ready, enforced here and nowhere else.
  void HandleReady(consensus::Ready ready);
  // The Ready's entries, hard state and membership, in one durable write.
  void Persist(const consensus::Ready& ready);
  // Hands committed entries to the apply stage; answers read states.
  void ApplyCommitted(consensus::Ready& ready);
  // Installs the Ready's snapshot (the apply stage drained, nothing beside it).
  void InstallSnapshot(const consensus::SnapshotMeta& meta);
  void SendMessages(std::vector<consensus::Message> messages);
  void OnSoftState(const consensus::SoftState& soft);
  // The apply stage's thread: a batch is applied.
  void OnApplied(const std::vector<consensus::Entry>& entries,
                 const std::vector<ApplyResult>& results);
  // The loop's half of OnApplied: entries up to `last_index` are applied.
  void AfterApplied(uint64_t first_index, uint64_t last_index, bool membership_changed);
  void OnReadStates(std::vector<consensus::ReadState> states);
  void DoPropose(std::string command, AppendIdentity identity, bool wait_commit,
                 Clock::time_point deadline, ProposeDone done);
  void DoProposeBatch(std::vector<std::string> commands, std::vector<AppendIdentity> identities,
                      bool wait_commit, Clock::time_point deadline, BatchDone done);
  // An entry just proposed at `txid`: tracks its key until it is applied
  // (for retries to join), then answers PENDING or waits for its commit.
  // `identities[j]` is the identity of (*commands)[j].
  absl::StatusOr<std::optional<ledger::TxId>> SealProposals(
      std::vector<std::string>* commands, const std::vector<const AppendIdentity*>& identities);
  static void CheckSealedAt(const std::optional<ledger::TxId>& sealed_at,
                            const consensus::ProposalPosition& position);
  void AwaitProposed(const ledger::TxId& txid, AppendIdentity identity, bool wait_commit,
                     Clock::time_point deadline, ProposeDone done);
  // A retry of an append in flight on this leader: answers it (joined) and
  // returns true, or returns false when it must be proposed afresh.
  bool JoinInflight(const AppendIdentity& identity, bool wait_commit, Clock::time_point deadline,
                    ProposeDone& done);
  // The error for a proposal the core refused, with its reason.
  absl::Status ProposeError(const absl::Status& core_error) const;
  // The error for a proposal this node cannot take (not leader, no leader).
  absl::Status NotLeaderError(const absl::Status& core_error) const;
  void Periodic(Clock::time_point now);
  void MaybeSign(Clock::time_point now);
  // The stage's sign state when this node may sign now but for the due
  // time: it leads, no signature is in flight, an entry of its term is
  // applied and some entry is unsigned. nullopt otherwise.
  std::optional<SignState> Signable() const;
  // When the next signature falls due by time (max(): none is due).
  Clock::time_point SignatureDue() const;
  bool SignatureWanted(const SignState& st) const;
  static bool OnlySignaturesUnsigned(const SignState& st);
  Clock::duration SignatureOverSignatureGap() const;
  void MaybeProposeGenesis();
  void MaybeCompact(bool force);
  void ExpireReads(Clock::time_point now);
  void RebuildInflightKeys();
  // Points the transport at the members governance knows (after a membership
  // change or a snapshot).
  void RefreshPeers();
  void PublishStatus() ABSL_LOCKS_EXCLUDED(status_mu_);

  const RaftLoopOptions options_;
  DurableLog* const log_;
  StateMachine* const machine_;
  PeerTransport* const transport_;
  SnapshotTransfers* const snapshots_;
  Governance* const governance_;
  CheckpointSigner* const signer_;
  NodeMetrics* const metrics_;
  IndexWaiters* const applied_waiters_;
  IndexWaiters* const signed_waiters_;

  mutable absl::Mutex inbox_mu_;
  std::deque<Op> inbox_ ABSL_GUARDED_BY(inbox_mu_);
  bool stopping_ ABSL_GUARDED_BY(inbox_mu_) = false;

  CommitWaiters commit_waiters_;
  WaiterPump pump_;
  ApplyStage stage_;

  // --- loop thread only ---
  std::unique_ptr<consensus::RawNode> raw_;
  consensus::SoftState soft_;
  // Keyed appends in this leader's log and not yet applied, by key. An entry
  // is the one at (term, index) only while the log still holds that term
  // there: a key is joined only after checking that, and that this node
  // still leads (a Step earlier in the same iteration may have deposed it
  // and replaced the entry, before OnSoftState clears this map).
  struct InflightKey {
    uint64_t index = 0;
    uint64_t term = 0;
    ledger::Hash digest{};
  };
  absl::flat_hash_map<std::string, InflightKey> inflight_keys_;
  std::map<uint64_t, std::string> inflight_key_of_index_;
  bool started_ = false;
  std::map<std::string, PendingRead> reads_;  // by ReadIndex context
  uint64_t next_read_context_ = 1;
  std::optional<PendingTransfer> transfer_;
  // Peers the transport reported unreachable and not heard from since:
  // leadership is never handed to one (a stopping leader would wait out the
  // transfer's deadline for a node that is gone).
  std::set<consensus::NodeId> unreachable_;
  uint64_t signature_pending_index_ = 0;  // a proposed, not yet applied signature
  uint64_t signature_wanted_ = 0;         // the highest index a reader asked to be covered
  Clock::time_point last_signature_over_signature_ = Clock::time_point::min();
  // After the core refused a signature (its pipeline full), when to try again.
  Clock::time_point sign_retry_at_;
  uint64_t genesis_proposed_term_ = 0;
  bool peers_refreshed_ = false;  // transport follows governance once it exists
  // A removed server still has a transport peer until it learns of its removal.
  bool peers_leaving_ = false;
  // A received snapshot waiting for the core to accept it (one iteration).
  std::unique_ptr<IncomingSnapshot> incoming_snapshot_;

  // Follower lag gauges, by follower (PublishStatus).
  absl::flat_hash_map<consensus::NodeId, prometheus::Gauge*> follower_lag_;

  mutable absl::Mutex status_mu_;
  LoopStatus status_ ABSL_GUARDED_BY(status_mu_);

  std::thread thread_;
};

}  // namespace cairn::node
