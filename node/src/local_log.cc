// Group-committing append pipeline for a single node (see local_log.h).
#include "local_log.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/storage/apply_batch.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"

namespace cairn::node {

LocalLog::LocalLog(storage::Database* db, uint64_t term, size_t batch_entries_max,
                   size_t queue_entries_max)
    : db_(db),
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
  std::vector<consensus::Entry> entries;
  entries.reserve(batch.size());
  uint64_t index = db_->raft_log().LastIndex();
  for (auto& p : batch) {
    consensus::Entry e;
    e.term = term_;
    e.index = ++index;
    e.data = std::move(p.data);
    entries.push_back(std::move(e));
  }
  consensus::HardState hs{term_, /*vote=*/0, /*commit=*/index};
  absl::Status st = db_->raft_log().Save(hs, entries);
  if (st.ok()) {
    std::unique_ptr<storage::ApplyBatch> apply = db_->ledger().NewBatch();
    for (const auto& e : entries) {
      storage::StoredEntry stored;
      stored.term = e.term;
      stored.index = e.index;
      stored.data = e.data;
      stored.kind = storage::EntryKind::kUser;
      if (st = apply->AddEntry(stored); !st.ok()) break;
    }
    if (st.ok()) st = db_->ledger().Commit(*apply);
  }
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
