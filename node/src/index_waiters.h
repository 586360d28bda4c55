// Callbacks waiting for a log index to be reached (applied, or covered by a
// signature), each with a deadline. Used by handlers on the gRPC callback API
// so that no server thread blocks while a request waits.
//
// Thread-safe. Callbacks run without the lock held, on the thread that calls
// Advance() or Expire() (the node's apply loop), so they must be quick.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
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

}  // namespace cairn::node
