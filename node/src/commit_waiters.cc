// Appends waiting for their entry to be applied (see commit_waiters.h).
#include "commit_waiters.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "metrics.h"

namespace cairn::node {

bool CommitWaiters::Add(uint64_t index, uint64_t term, Clock::time_point deadline, bool joined,
                        Done done, Done* rejected) {
  absl::MutexLock lock(&mu_);
  if (index <= answered_) {
    *rejected = std::move(done);
    return false;
  }
  waiting_[index].push_back({term, deadline, joined, std::move(done)});
  return true;
}

void CommitWaiters::Answer(const std::vector<ApplyResult>& results) {
  if (results.empty()) return;
  std::vector<std::pair<Done, absl::StatusOr<CommitResult>>> ready;
  {
    absl::MutexLock lock(&mu_);
    for (const ApplyResult& r : results) {
      auto it = waiting_.find(r.txid.index);
      if (it == waiting_.end()) continue;
      for (Waiter& w : it->second) {
        if (w.term != r.txid.term) {
          ready.emplace_back(
              std::move(w.done),
              absl::UnavailableError(absl::StrCat(
                  "the entry proposed at ", ledger::TxId{w.term, r.txid.index}.ToString(),
                  " was lost to a leader change before it committed; retry (with the same "
                  "idempotency key it is safe)")));
          continue;
        }
        CommitResult result{r.txid, v1::TRANSACTION_STATUS_COMMITTED, r.duplicate_of};
        if (w.joined && !result.duplicate_of) result.duplicate_of = r.txid;
        if (result.duplicate_of) result.txid = *result.duplicate_of;
        ready.emplace_back(std::move(w.done), std::move(result));
      }
      waiting_.erase(it);
    }
    answered_ = std::max(answered_, results.back().txid.index);
  }
  for (auto& [done, result] : ready) {
    if (result.ok()) metrics_->appends_committed_total.Increment();
    std::move(done)(std::move(result));
  }
}

void CommitWaiters::Expire(Clock::time_point now) {
  std::vector<std::pair<uint64_t, Done>> expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      auto& ws = it->second;
      for (auto w = ws.begin(); w != ws.end();) {
        if (w->deadline <= now) {
          expired.emplace_back(it->first, std::move(w->done));
          w = ws.erase(w);
        } else {
          ++w;
        }
      }
      it = ws.empty() ? waiting_.erase(it) : std::next(it);
    }
  }
  for (auto& [index, done] : expired) {
    std::move(done)(absl::DeadlineExceededError(
        absl::StrCat("index ", index,
                     " did not commit before the deadline; its status is available through "
                     "GetTransactionStatus")));
  }
}

void CommitWaiters::FailAll(const absl::Status& status) {
  std::map<uint64_t, std::vector<Waiter>> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(waiting_);
  }
  for (auto& [index, ws] : all) {
    for (auto& w : ws) std::move(w.done)(status);
  }
}

}  // namespace cairn::node
