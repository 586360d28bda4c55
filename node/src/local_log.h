// The single-node append pipeline: the first cut of the node's I/O loop.
//
// Appends are queued and a writer thread commits them in batches, one synced
// write (one fsync) per batch, then completes each caller with its log index.
// With consensus (issue 6) this becomes the Raft I/O loop; the contract to the
// services stays: Submit, then `done` once the entry is durable.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cairn/storage/database.h"

namespace cairn::node {

struct Committed {
  uint64_t term = 0;
  uint64_t index = 0;
};

class LocalLog {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<Committed>) &&>;

  // `db` must outlive this object. Every entry is written with `term`: first
  // to the Raft log (one synced write per batch), then applied to the ledger.
  LocalLog(storage::Database* db, uint64_t term, size_t batch_entries_max,
           size_t queue_entries_max);
  // Completes queued appends with UNAVAILABLE and joins the writer thread.
  ~LocalLog();
  LocalLog(const LocalLog&) = delete;
  LocalLog& operator=(const LocalLog&) = delete;

  // Queues `data` (a serialized LogCommand). `done` runs on the writer thread,
  // without locks held, once the entry is durable or has failed. Returns
  // ResourceExhausted, and never calls `done`, when the queue is full.
  absl::Status Submit(std::string data, Done done);

  // OK until a write fails; then the error, for good (nothing is acknowledged
  // after a failed sync).
  absl::Status health() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Pending {
    std::string data;
    Done done;
  };

  void Run();
  void CommitBatch(std::deque<Pending>& batch);

  storage::Database* const db_;
  const uint64_t term_;
  const size_t batch_entries_max_;
  const size_t queue_entries_max_;

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  std::thread writer_;  // started last, in the constructor
};

}  // namespace cairn::node
