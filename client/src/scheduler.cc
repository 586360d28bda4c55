// The backoff timer thread (see scheduler.h).
#include "scheduler.h"

#include <vector>

namespace cairn::client::internal {

Scheduler::Scheduler() : thread_([this] { Loop(); }) {}

Scheduler::~Scheduler() {
  Drain();
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void Scheduler::RunAt(absl::Time when, std::function<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!draining_) {
      tasks_.emplace(when, std::move(task));
      return;
    }
  }
  task();
}

void Scheduler::Drain() {
  std::multimap<absl::Time, std::function<void()>> pending;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    pending.swap(tasks_);
  }
  for (auto& [when, task] : pending) task();
}

bool Scheduler::SleepFor(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  const absl::Time until = absl::Now() + duration;
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return draining_; };
  return !mu_.AwaitWithDeadline(absl::Condition(&woken), until);
}

void Scheduler::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || (!tasks_.empty() && tasks_.begin()->first <= absl::Now());
    };
    const absl::Time next = tasks_.empty() ? absl::InfiniteFuture() : tasks_.begin()->first;
    // Wakes at the earliest due time, or when a task or stop_ is added.
    auto changed = [this, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || (!tasks_.empty() && tasks_.begin()->first < next);
    };
    if (!due()) {
      mu_.AwaitWithDeadline(absl::Condition(&changed), next);
      continue;
    }
    std::vector<std::function<void()>> ready;
    while (!tasks_.empty() && tasks_.begin()->first <= absl::Now()) {
      ready.push_back(std::move(tasks_.begin()->second));
      tasks_.erase(tasks_.begin());
    }
    mu_.Unlock();
    for (auto& task : ready) task();  // no lock held across the tasks
    mu_.Lock();
  }
}

}  // namespace cairn::client::internal
