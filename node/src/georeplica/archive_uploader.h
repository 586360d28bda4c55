// The geo-replica's uploader: copies the ledger segments this node writes
// (export/segment_exporter.h) into the paired region's archive store, in
// log order, in archive layout v1 (storage/archive_layout.h): the identity
// object once, then each segment as the next segments/<seq>.cseg, and after
// each one latest.json naming the signed checkpoint it ends on. The archive
// is therefore never ahead of what it holds.
//
// The segments were written by this node from entries it applied, and a
// replica checks every signature transaction (root recomputed, signature
// and certificate chain checked) as it applies it and halts on a mismatch:
// nothing unverified reaches the archive. Each segment is decoded again
// (checksums, order) before it is uploaded.
//
// A thread of its own, so a slow or unreachable store never slows the node:
// failures are logged, counted (cairn_archive_upload_errors_total), kept for
// status, and retried with backoff (0.1 s doubling to 5 s); once the store is
// back the uploader catches up from where latest.json says it stopped.
// Uploads are idempotent, so a crash between a segment and latest.json
// re-uploads the same bytes and goes on.
//
// State snapshots (every snapshot_every_entries archived entries): the
// node's snapshot payload at its applied index, uploaded a part at a time
// between segments (segments go first, so the archive lag does not grow
// while a snapshot uploads), then its manifest with the geo-replica's
// signed attestation, and once the archive's segments reach the
// snapshot's index, latest.json names it. Recovery restores it and
// replays only the segments after it. A snapshot whose objects exist with
// other bytes (a crash between its parts) is abandoned; the next one is
// taken at a later index.
//
// After latest.json, and only then, the geo-replica cosigns the checkpoint
// the archive now ends on (ledger/cosignature.h) and reports it to the
// leader, which answers the GEO_DURABLE appends it covers. It reports again
// at least every second (a new leader learns it; errors reach dr status).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cairn/ledger/cosignature.h"
#include "cairn/storage/archive_layout.h"
#include "cairn/storage/archive_store.h"
#include "cairn/storage/snapshot.h"
#include "cairn/v1/admin.pb.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::node {

class NodeMetrics;

struct ArchiveUploaderOptions {
  std::string segments_dir;      // where the node's segment exporter writes
  std::string service_cert_pem;  // the archive's identity
  std::string region;            // this geo-replica's region, recorded in latest.json
  // How often to look for new segments without being notified.
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration backoff_min = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(5);
  absl::Duration report_interval = absl::Seconds(1);
  // Signs a cosignature whose checkpoint, signature_txid, region and
  // timestamp are set (the node's key); empty: nothing is cosigned.
  std::function<absl::Status(v1::ArchiveCosignature*)> cosign;
  // OK while the residency policy allows this geo-replica and its archive
  // (checked before each upload; empty: no check).
  std::function<absl::Status()> residency;
  // Sends a report to the leader; empty: nothing is reported.
  std::function<absl::Status(const v1::ReportArchivedRequest&)> report;
  // A snapshot of this node's state (storage/snapshot.h) cut into chunks of
  // at most the given size; empty: the archive gets no snapshots.
  std::function<absl::StatusOr<std::unique_ptr<storage::SnapshotSource>>(size_t)> take_snapshot;
  // Signs an attestation whose index, term, digest, size, region and
  // timestamp are set (the node's key).
  std::function<absl::Status(ledger::SnapshotAttestation*)> sign_snapshot;
  // A new snapshot once the archive holds this many entries past the last
  // one (0: never).
  uint64_t snapshot_every_entries = 0;
  size_t snapshot_part_bytes_max = size_t{64} << 20;
};

// What `cairnctl dr status` shows of a geo-replica.
struct ArchiveStatus {
  std::string archive_url;
  std::string region;
  storage::ArchiveLatest latest;                      // segments == 0: nothing archived yet
  std::optional<v1::ArchiveCosignature> cosignature;  // the newest one made
  std::string last_error;                             // empty while uploads succeed
  int64_t last_error_unix_ms = 0;
  uint64_t upload_errors = 0;
};

class ArchiveUploader {
 public:
  // `applied_index` gives the node's applied index (for the lag gauge);
  // `metrics` may be null.
  ArchiveUploader(std::unique_ptr<storage::ArchiveStore> store, ArchiveUploaderOptions options,
                  std::function<uint64_t()> applied_index, NodeMetrics* metrics);
  ~ArchiveUploader();
  ArchiveUploader(const ArchiveUploader&) = delete;
  ArchiveUploader& operator=(const ArchiveUploader&) = delete;

  void Start();
  // Wakes the thread: a segment may have been written.
  void Notify() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Uploads every segment that is ready, on the calling thread (the
  // thread's body; tests call it directly). Not concurrent with itself.
  absl::Status UploadAvailable();

  ArchiveStatus status() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  absl::Status Initialize();
  // Uploads the local segment that starts after the archived index, if
  // there is one; false when there is none yet.
  absl::StatusOr<bool> UploadNext();
  // One step of the snapshot in progress (take it, upload a part, store its
  // manifest, or name it in latest.json); false when there was nothing to do.
  absl::StatusOr<bool> StepSnapshot();
  absl::StatusOr<bool> UploadSnapshotPart();
  absl::Status WriteLatest(const storage::ArchiveLatest& next);
  void RecordError(const absl::Status& s) ABSL_LOCKS_EXCLUDED(mu_);
  // Cosigns the archive's newest checkpoint if not done yet, then reports
  // to the leader when something changed or report_interval passed.
  void CosignAndReport() ABSL_LOCKS_EXCLUDED(mu_);

  const std::unique_ptr<storage::ArchiveStore> store_;
  const ArchiveUploaderOptions options_;
  const std::function<uint64_t()> applied_index_;
  NodeMetrics* const metrics_;

  // Touched only by the uploading thread.
  bool initialized_ = false;
  storage::ArchiveLatest latest_;
  std::optional<v1::Checkpoint> checkpoint_;  // the one latest_ ends on
  std::optional<v1::ArchiveCosignature> cosigned_;
  absl::Time last_report_ = absl::InfinitePast();
  struct PendingSnapshot {
    std::unique_ptr<storage::SnapshotSource> source;
    uint64_t parts = 0;         // uploaded so far
    bool stored = false;        // its manifest is in the archive
    uint64_t next_segment = 0;  // the segment holding the entry after it (0: not yet archived)
  };
  std::optional<PendingSnapshot> snapshot_;
  uint64_t abandoned_index_ = 0;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  ArchiveStatus status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace cairn::node
