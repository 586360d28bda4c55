// Group-committing append pipeline for a single node (see local_log.h).
#include "local_log.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace cairn::node {

LocalLog::LocalLog(storage::LedgerStore* store, uint64_t term, size_t batch_entries_max,
                   size_t queue_entries_max)
    : store_(store),
      term_(term),
      batch_entries_max_(batch_entries_max),
      queue_entries_max_(queue_entries_max),
      writer_([this] { Run(); }) {}

LocalLog::~LocalLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

absl::Status LocalLog::Submit(std::string data, Done done) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("node is shutting down");
  if (queue_.size() >= queue_entries_max_) {
    return absl::ResourceExhaustedError(absl::StrCat("append queue is full (", queue_entries_max_,
                                                     " entries waiting for fsync); back off"));
  }
  queue_.push_back({std::move(data), std::move(done)});
  return absl::OkStatus();
}

absl::Status LocalLog::health() {
  absl::MutexLock lock(&mu_);
  return write_error_;
}

void LocalLog::Run() {
  for (;;) {
    std::deque<Pending> batch;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](LocalLog* self)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->stopping_ || !self->queue_.empty(); },
          this));
      stopping = stopping_;
      const size_t n = stopping ? queue_.size() : std::min(queue_.size(), batch_entries_max_);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (stopping) {
      for (auto& p : batch) std::move(p.done)(absl::UnavailableError("node is shutting down"));
      return;
    }
    CommitBatch(batch);
  }
}

void LocalLog::CommitBatch(std::deque<Pending>& batch) {
  std::vector<storage::StoredEntry> entries;
  entries.reserve(batch.size());
  uint64_t index = store_->applied_index();
  for (auto& p : batch) {
    entries.push_back({term_, ++index, std::move(p.data)});
  }
  const absl::Status st = store_->Apply(entries);
  if (!st.ok()) {
    absl::MutexLock lock(&mu_);
    if (write_error_.ok()) write_error_ = st;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (st.ok()) {
      std::move(batch[i].done)(Committed{term_, entries[i].index});
    } else {
      std::move(batch[i].done)(st);
    }
  }
}

}  // namespace cairn::node
