// Callbacks waiting for a log index to be reached (applied, or covered by a
// signature), each with a deadline. Used by handlers on the gRPC callback API
// so that no server thread blocks while a request waits.
//
// Thread-safe. Callbacks run without the lock held, on the thread that calls
// Advance() or Expire() (the node's apply loop), so they must be quick.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace cairn::node {

class IndexWaiters {
 public:
  // OK once the index is reached; DeadlineExceeded or Unavailable (shutdown) otherwise.
  using Callback = absl::AnyInvocable<void(absl::Status) &&>;
  using Clock = std::chrono::steady_clock;

  explicit IndexWaiters(size_t waiters_max) : waiters_max_(waiters_max) {}

  // Runs `callback` at once (OK) when `index` <= reached(); otherwise when it is
  // reached or `deadline` passes. ResourceExhausted (callback not run) when
  // waiters_max callbacks already wait.
  absl::Status Wait(uint64_t index, Clock::time_point deadline, Callback callback)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Records that `index` is reached (never goes backwards) and runs the
  // callbacks waiting for it or less.
  void Advance(uint64_t index) ABSL_LOCKS_EXCLUDED(mu_);
  // As Advance, but only when no callback waits at or below `index` (so
  // none would run): true then; false, and nothing changes, otherwise.
  bool AdvanceIfNoneWaiting(uint64_t index) ABSL_LOCKS_EXCLUDED(mu_);
  // Fails the callbacks whose deadline passed.
  void Expire(Clock::time_point now) ABSL_LOCKS_EXCLUDED(mu_);
  // Fails every waiting callback with `status` (shutdown).
  void FailAll(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t reached() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Waiter {
    Clock::time_point deadline;
    Callback callback;
  };

  const size_t waiters_max_;
  mutable absl::Mutex mu_;
  uint64_t reached_ ABSL_GUARDED_BY(mu_) = 0;
  std::multimap<uint64_t, Waiter> waiting_ ABSL_GUARDED_BY(mu_);
};

// Advances the applied and signed waiters on a thread of its own, so that the
// callbacks they run (answering reads, building receipts) never hold up the
// thread that applies entries. Post() only records the latest indexes; the
// pump catches up to them, skipping the values in between. When no callback
// waits for what was posted (an append-only load: appends are answered by
// the commit waiters), Post records it itself and the pump's thread is not
// woken at all.
class WaiterPump {
 public:
  // `on_signed` (may be empty) runs on the pump's thread each time the signed
  // index moves forward.
  WaiterPump(IndexWaiters* applied, IndexWaiters* signed_waiters, std::function<void()> on_signed)
      : applied_(applied), signed_(signed_waiters), on_signed_(std::move(on_signed)) {}
  ~WaiterPump() { Stop(); }
  WaiterPump(const WaiterPump&) = delete;
  WaiterPump& operator=(const WaiterPump&) = delete;

  // Starts the pump's thread; with `own_thread` false, Post delivers inline
  // (on the caller's thread, before it returns), for a simulator.
  void Start(bool own_thread = true);
  // Records the latest applied index and signed tree size (never backwards).
  void Post(uint64_t applied_index, uint64_t signed_size) ABSL_LOCKS_EXCLUDED(mu_);
  // Delivers what was posted, then joins the thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Advances the waiters to what was posted.
  void Deliver() ABSL_LOCKS_EXCLUDED(mu_);

  IndexWaiters* const applied_;
  IndexWaiters* const signed_;
  const std::function<void()> on_signed_;
  absl::Mutex mu_;
  uint64_t posted_applied_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t posted_signed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t delivered_applied_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t delivered_signed_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool inline_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cairn::node
