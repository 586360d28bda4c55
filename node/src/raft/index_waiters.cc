// Deadline-bounded index waiters (see index_waiters.h).
#include "raft/index_waiters.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "errors/status.h"

namespace cairn::node {

absl::Status IndexWaiters::Wait(uint64_t index, Clock::time_point deadline, Callback callback) {
  {
    absl::MutexLock lock(&mu_);
    if (index > reached_) {
      if (waiting_.size() >= waiters_max_) {
        return WithReason(
            absl::ResourceExhaustedError(absl::StrCat("node is busy: ", waiters_max_,
                                                      " requests waiting (--waiting-requests-max); "
                                                      "back off")),
            v1::ERROR_REASON_BACKPRESSURE, {{"limit", "waiting_requests_max"}});
      }
      waiting_.emplace(index, Waiter{deadline, std::move(callback)});
      return absl::OkStatus();
    }
  }
  std::move(callback)(absl::OkStatus());
  return absl::OkStatus();
}

void IndexWaiters::Advance(uint64_t index) {
  std::vector<Callback> ready;
  {
    absl::MutexLock lock(&mu_);
    if (index <= reached_) return;
    reached_ = index;
    auto end = waiting_.upper_bound(index);
    for (auto it = waiting_.begin(); it != end; ++it)
      ready.push_back(std::move(it->second.callback));
    waiting_.erase(waiting_.begin(), end);
  }
  for (auto& cb : ready) std::move(cb)(absl::OkStatus());
}

bool IndexWaiters::AdvanceIfNoneWaiting(uint64_t index) {
  absl::MutexLock lock(&mu_);
  if (!waiting_.empty() && waiting_.begin()->first <= index) return false;
  reached_ = std::max(reached_, index);
  return true;
}

void IndexWaiters::Expire(Clock::time_point now) {
  std::vector<Callback> expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.callback));
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& cb : expired) {
    std::move(cb)(absl::DeadlineExceededError("deadline passed before the index was reached"));
  }
}

void IndexWaiters::FailAll(const absl::Status& status) {
  std::multimap<uint64_t, Waiter> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(waiting_);
  }
  for (auto& [index, w] : all) std::move(w.callback)(status);
}

uint64_t IndexWaiters::reached() const {
  absl::MutexLock lock(&mu_);
  return reached_;
}

void WaiterPump::Start(bool own_thread) {
  {
    absl::MutexLock lock(&mu_);
    posted_applied_ = delivered_applied_ = applied_->reached();
    posted_signed_ = delivered_signed_ = signed_->reached();
    stopping_ = false;
    inline_ = !own_thread;
  }
  if (own_thread) thread_ = std::thread([this] { Run(); });
}

void WaiterPump::Post(uint64_t applied_index, uint64_t signed_size) {
  {
    absl::MutexLock lock(&mu_);
    posted_applied_ = std::max(posted_applied_, applied_index);
    posted_signed_ = std::max(posted_signed_, signed_size);
    if (!inline_) {
      // The pump is caught up to everything before this post, nothing new is
      // signed, and no callback waits for the new applied index: record it
      // here instead of waking the pump's thread for nothing.
      if (delivered_signed_ == posted_signed_ && delivered_applied_ < posted_applied_ &&
          applied_->AdvanceIfNoneWaiting(posted_applied_)) {
        delivered_applied_ = posted_applied_;
      }
      return;
    }
  }
  Deliver();
}

void WaiterPump::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void WaiterPump::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WaiterPump* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->stopping_ || self->posted_applied_ > self->delivered_applied_ ||
                   self->posted_signed_ > self->delivered_signed_;
          },
          this));
      if (posted_applied_ == delivered_applied_ && posted_signed_ == delivered_signed_) return;
    }
    Deliver();
  }
}

void WaiterPump::Deliver() {
  uint64_t applied = 0;
  uint64_t signed_size = 0;
  bool signed_moved = false;
  {
    absl::MutexLock lock(&mu_);
    applied = delivered_applied_ = posted_applied_;
    signed_moved = posted_signed_ > delivered_signed_;
    signed_size = delivered_signed_ = posted_signed_;
  }
  applied_->Advance(applied);
  signed_->Advance(signed_size);
  if (signed_moved && on_signed_) on_signed_();
}

}  // namespace cairn::node
