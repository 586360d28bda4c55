// A timer thread that runs short tasks at a given time: how a retrying call
// waits out its backoff without holding a thread. One per Client; tasks must
// not block (they start the next asynchronous attempt and return).
//
// The thread keeps the queue alive on its own (shared state), so the
// Scheduler may be destroyed from one of its own tasks: the last retrying
// call of a destroyed Client can release the Client's internals there.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cairn::client::internal {

class Scheduler {
 public:
  Scheduler();
  // Runs every task still pending, at once, then stops the thread.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `task` on the scheduler thread at `when` (or soon after). After
  // Drain() has begun, runs it at once on the calling thread instead.
  void RunAt(absl::Time when, std::function<void()> task);

  // Runs every pending task now, and each later one as soon as it is
  // scheduled: what shutdown does so cancelled calls finish promptly.
  void Drain();

  // Sleeps for `duration` unless Drain() starts first. False when woken by Drain.
  bool SleepFor(absl::Duration duration);

 private:
  struct State {
    absl::Mutex mu;
    // Ordered by due time; tasks due at the same time run in the order added.
    std::multimap<absl::Time, std::function<void()>> tasks ABSL_GUARDED_BY(mu);
    bool draining ABSL_GUARDED_BY(mu) = false;
    bool stop ABSL_GUARDED_BY(mu) = false;
  };
  static void Loop(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace cairn::client::internal
