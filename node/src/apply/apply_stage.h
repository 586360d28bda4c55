// The apply stage: a thread of its own that applies committed entries to the
// ledger (Applier), so that the Raft loop's thread runs only the core, the
// log's fsync and the network while the batch before is applied beside it.
// Writing the ledger tables and the Merkle tree is the costliest step per
// entry (docs/performance.md); done on the loop's thread it delayed every
// vote, acknowledgement and proposal behind it.
//
// The loop hands over committed entries in log order (Submit). The stage
// applies them in that order, merging what waits into one Applier::Apply,
// then calls `on_applied` on its own thread. Submit blocks while
// queued_entries_max entries wait, so a slow disk slows the loop rather than
// growing memory. RunExclusive runs work that replaces the ledger state
// (installing a snapshot) once everything handed over before is applied,
// with nothing applying beside it.
//
// The state machine (a node's Applier and its Merkle tree) belongs to the
// stage's thread while it runs; what the leader needs to sign is published
// after every batch (SignState).
//
// Started inline (Start(false)), the stage has no thread: Submit and
// RunExclusive do their work on the caller's thread before they return. The
// simulator runs it so, to replay a seed exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "apply/state_machine.h"
#include "cairn/consensus/types.h"
#include "cairn/ledger/hash.h"

namespace cairn::node {

class ApplyStage {
 public:
  using OnApplied =
      std::function<void(const std::vector<consensus::Entry>&, const std::vector<ApplyResult>&)>;

  ApplyStage(StateMachine* machine, size_t queued_entries_max, OnApplied on_applied);
  ~ApplyStage();
  ApplyStage(const ApplyStage&) = delete;
  ApplyStage& operator=(const ApplyStage&) = delete;

  // Publishes the state machine's loaded state and starts the thread (or,
  // with `own_thread` false, runs every call inline).
  void Start(bool own_thread = true);
  // Applies what was handed over, then ends the thread.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Hands over committed entries (consecutive, after the ones before).
  void Submit(std::vector<consensus::Entry> entries) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `work` on the stage's thread after everything submitted before is
  // applied, and returns once it ran. Publishes the applier's state after.
  void RunExclusive(absl::AnyInvocable<void() &&> work) ABSL_LOCKS_EXCLUDED(mu_);

  SignState sign_state() const ABSL_LOCKS_EXCLUDED(mu_);
  // True when everything handed over is applied (nothing queued or applying).
  bool idle() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Work {
    std::vector<consensus::Entry> entries;
    absl::AnyInvocable<void() &&> exclusive;  // set instead of entries
    bool* done = nullptr;                     // set true (under mu_) once run
  };

  void Run();
  // Applies `entries` and tells on_applied_ (the stage's thread, or inline).
  void ApplyBatch(const std::vector<consensus::Entry>& entries);
  void Publish() ABSL_LOCKS_EXCLUDED(mu_);

  StateMachine* const machine_;
  const size_t queued_entries_max_;
  const OnApplied on_applied_;

  mutable absl::Mutex mu_;
  std::deque<Work> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_entries_ ABSL_GUARDED_BY(mu_) = 0;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // the thread is applying
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  SignState sign_ ABSL_GUARDED_BY(mu_);
  bool inline_ = false;  // set by Start, before any other call
  std::thread thread_;
};

}  // namespace cairn::node
