// Appends waiting for their entry to be applied (see commit_waiters.h).
#include "raft/commit_waiters.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "apply/idempotency.h"
#include "cairn/base/check.h"
#include "errors/status.h"
#include "observe/metrics.h"

namespace cairn::node {

bool CommitWaiters::Add(uint64_t index, uint64_t term, std::optional<std::string> key,
                        Clock::time_point deadline, bool joined, Done done, Done* rejected) {
  absl::MutexLock lock(&mu_);
  if (index <= answered_) {
    *rejected = std::move(done);
    return false;
  }
  waiting_[index].push_back({term, std::move(key), deadline, joined, std::move(done)});
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
          const std::string lost = ledger::TxId{w.term, r.txid.index}.ToString();
          ready.emplace_back(
              std::move(w.done),
              WithReason(absl::UnavailableError(absl::StrCat(
                             "the entry proposed at ", lost,
                             " was lost to a leader change before it committed (it was not "
                             "written); retrying is safe")),
                         v1::ERROR_REASON_LOST_TO_LEADER_CHANGE, {{"txid", lost}}));
          continue;
        }
        CAIRN_CHECK(!w.key || *w.key == r.key)
            << "a caller waiting for " << r.txid.ToString()
            << " would be answered for an entry that does not carry its idempotency key";
        if (r.key_held_by) {
          ready.emplace_back(std::move(w.done), KeyReusedError(*r.key_held_by));
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
  struct Expired {
    uint64_t index;
    uint64_t term;
    Done done;
  };
  std::vector<Expired> expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      auto& ws = it->second;
      for (auto w = ws.begin(); w != ws.end();) {
        if (w->deadline <= now) {
          expired.push_back({it->first, w->term, std::move(w->done)});
          w = ws.erase(w);
        } else {
          ++w;
        }
      }
      it = ws.empty() ? waiting_.erase(it) : std::next(it);
    }
  }
  for (auto& [index, term, done] : expired) {
    const std::string txid = ledger::TxId{term, index}.ToString();
    std::move(done)(WithReason(
        absl::DeadlineExceededError(absl::StrCat(
            "transaction ", txid,
            " did not commit before the deadline; it may still commit: GetTransactionStatus "
            "tells, or retry with the same idempotency key")),
        v1::ERROR_REASON_OUTCOME_UNKNOWN, {{"txid", txid}}));
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
