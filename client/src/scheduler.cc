// The backoff timer thread (see scheduler.h).
#include "scheduler.h"

#include <vector>

namespace cairn::client::internal {

Scheduler::Scheduler() : state_(std::make_shared<State>()), thread_(Loop, state_) {}

Scheduler::~Scheduler() {
  Drain();
  {
    absl::MutexLock lock(&state_->mu);
    state_->stop = true;
  }
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // destroyed by one of our own tasks; Loop exits on its own
  } else {
    thread_.join();
  }
}

void Scheduler::RunAt(absl::Time when, std::function<void()> task) {
  {
    absl::MutexLock lock(&state_->mu);
    if (!state_->draining) {
      state_->tasks.emplace(when, std::move(task));
      return;
    }
  }
  task();
}

void Scheduler::Drain() {
  std::multimap<absl::Time, std::function<void()>> pending;
  {
    absl::MutexLock lock(&state_->mu);
    state_->draining = true;
    pending.swap(state_->tasks);
  }
  for (auto& [when, task] : pending) task();
}

bool Scheduler::SleepFor(absl::Duration duration) {
  State* s = state_.get();
  absl::MutexLock lock(&s->mu);
  auto woken = [s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) { return s->draining; };
  return !s->mu.AwaitWithDeadline(absl::Condition(&woken), absl::Now() + duration);
}

void Scheduler::Loop(std::shared_ptr<State> state) {
  State* s = state.get();
  while (true) {
    std::vector<std::function<void()>> ready;
    {
      absl::MutexLock lock(&s->mu);
      const absl::Time next = s->tasks.empty() ? absl::InfiniteFuture() : s->tasks.begin()->first;
      // Wakes at the earliest due time, when an earlier task is added, or to stop.
      auto changed = [s, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
        return s->stop || (!s->tasks.empty() && s->tasks.begin()->first < next);
      };
      s->mu.AwaitWithDeadline(absl::Condition(&changed), next);
      if (s->stop) return;
      const absl::Time now = absl::Now();
      while (!s->tasks.empty() && s->tasks.begin()->first <= now) {
        ready.push_back(std::move(s->tasks.begin()->second));
        s->tasks.erase(s->tasks.begin());
      }
    }
    // Outside the lock: running a task, or destroying it, may do anything.
    for (auto& task : ready) task();
    ready.clear();
  }
}

}  // namespace cairn::client::internal
