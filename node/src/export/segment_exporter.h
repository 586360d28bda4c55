// Writes the committed ledger, as it grows, into immutable segment files
// (ledger/segment.h): each holds a run of consecutive entries ending on a
// signature transaction, so every file can be audited on its own terms and
// the directory as a whole with `cairnctl audit`. Segments are the unit of
// export, audit and geo-replication.
//
// A thread of its own reads committed entries back from the ledger tables
// (which keep the whole history, also after log compaction and on nodes that
// caught up by snapshot), so it never slows the Raft loop. It resumes after
// the last segment in the directory when the node restarts, once it has
// checked that segment's last entry against the ledger (a directory holding
// another ledger's history is refused). A failed export is logged, counted
// (cairn_segment_export_errors_total) and retried after a pause; the node
// keeps serving meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cairn/ledger/segment.h"
#include "cairn/storage/ledger_store.h"

namespace cairn::node {

class NodeMetrics;

struct SegmentExporterOptions {
  std::string dir;
  // A segment is cut at the last signature that keeps it within both bounds
  // (or at the first signature, when even that one lies beyond them), once
  // the committed history reaches past the bounds or the oldest unexported
  // signed entry has waited max_age: segments are neither tiny nor stale.
  uint64_t entries_target = 10000;
  uint64_t bytes_target = 64 << 20;
  absl::Duration max_age = absl::Seconds(60);
  // How often to look for new signatures without being notified (after a
  // restart or a snapshot install), and how long to pause after a failure.
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration retry_pause = absl::Seconds(5);
  // Called on the export thread after each segment file is written (the
  // geo-replica's uploader listens); must be quick.
  std::function<void()> on_written;
};

class SegmentExporter {
 public:
  // `store` must outlive the exporter; `metrics` may be null.
  SegmentExporter(const storage::LedgerStore* store, SegmentExporterOptions options,
                  NodeMetrics* metrics);
  ~SegmentExporter();
  SegmentExporter(const SegmentExporter&) = delete;
  SegmentExporter& operator=(const SegmentExporter&) = delete;

  // Starts the export thread.
  void Start();
  // Wakes the thread: a signature transaction was applied.
  void Notify() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Writes every segment that can be cut now, on the calling thread (the
  // export thread's body; tests call it directly, without Start). Not to be
  // called concurrently with itself.
  absl::Status ExportAvailable();

  // Last log index written to a segment (thread-safe).
  uint64_t exported_index() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // Finds where the directory's segments end (once).
  absl::Status Initialize();
  // Checks the newest segment's last record against the ledger, once the
  // ledger holds that index.
  absl::Status CheckResumePoint();
  // Writes the next segment if a signature lies after the exported index;
  // false when there is nothing to write yet.
  absl::StatusOr<bool> ExportNext();
  // Writes entries from..cut (cut is a signature), or fewer, ending on an
  // earlier signature, when the byte bound is reached first.
  absl::StatusOr<bool> WriteSegment(uint64_t from, uint64_t cut);
  bool stopping() const ABSL_LOCKS_EXCLUDED(mu_);

  const storage::LedgerStore* const store_;
  const SegmentExporterOptions options_;
  NodeMetrics* const metrics_;

  // Touched only by the exporting thread.
  bool initialized_ = false;
  // When signed entries were first seen waiting for a segment that is not
  // full yet (InfinitePast: none are waiting).
  absl::Time waiting_since_ = absl::InfinitePast();
  std::optional<ledger::SegmentRecord> resume_record_;  // unchecked newest record

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t exported_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace cairn::node
