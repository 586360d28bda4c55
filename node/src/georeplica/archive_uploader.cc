// The geo-replica's uploader (see archive_uploader.h).
#include "georeplica/archive_uploader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cairn/base/clock.h"
#include "cairn/base/files.h"
#include "cairn/ledger/segment.h"
#include "cairn/v1/log.pb.h"
#include "observe/metrics.h"

namespace cairn::node {
namespace {

// The local segment file whose first index is `first`, or "" if none yet.
// Names are "segment-<first>-<last>.cseg" (ledger/segment.h).
absl::StatusOr<std::string> LocalSegmentStartingAt(const std::string& dir, uint64_t first) {
  const std::string prefix = absl::StrFormat("segment-%020d-", first);
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return std::string();
    return absl::InternalError(absl::StrCat("segments directory ", dir, ": ", ec.message()));
  }
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, prefix) && absl::EndsWith(name, ledger::kSegmentFileSuffix)) {
      return entry.path().string();
    }
  }
  return std::string();
}

// The checkpoint in the signature transaction a segment ends on (LatestAfter
// has checked that it ends on one).
v1::Checkpoint CheckpointOf(const ledger::Segment& segment) {
  v1::LogCommand last;
  last.ParseFromString(segment.records.back().data);
  return last.signature().checkpoint().checkpoint();
}

}  // namespace

ArchiveUploader::ArchiveUploader(std::unique_ptr<storage::ArchiveStore> store,
                                 ArchiveUploaderOptions options,
                                 std::function<uint64_t()> applied_index, NodeMetrics* metrics)
    : store_(std::move(store)),
      options_(std::move(options)),
      applied_index_(std::move(applied_index)),
      metrics_(metrics) {
  status_.archive_url = store_->url();
  status_.region = options_.region;
}

ArchiveUploader::~ArchiveUploader() { Stop(); }

void ArchiveUploader::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ArchiveUploader::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

void ArchiveUploader::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

ArchiveStatus ArchiveUploader::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

void ArchiveUploader::Run() {
  absl::Duration backoff = options_.backoff_min;
  while (true) {
    const absl::Status s = UploadAvailable();
    CosignAndReport();
    absl::Duration wait = options_.poll_interval;
    if (!s.ok()) {
      RecordError(s);
      wait = backoff;
      backoff = std::min(backoff * 2, options_.backoff_max);
    } else {
      backoff = options_.backoff_min;
    }
    absl::MutexLock lock(&mu_);
    // A notification ends a poll wait early; a backoff wait ends only for
    // Stop, so an outage is not hammered at every signature.
    if (s.ok()) {
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](ArchiveUploader* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                 return self->stopping_ || self->notified_;
                               },
                               this),
                           wait);
    } else {
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    }
    notified_ = false;
    if (stopping_) return;
  }
}

void ArchiveUploader::RecordError(const absl::Status& s) {
  if (metrics_ != nullptr) metrics_->archive_upload_errors_total.Increment();
  absl::MutexLock lock(&mu_);
  // Each new kind of failure is logged at once; a repeat only every 100th
  // time, so an outage of hours does not flood the log.
  if (status_.last_error != s.ToString() || status_.upload_errors % 100 == 0) {
    spdlog::error("geo-replica: archive upload failed (retrying with backoff): {}", s.ToString());
  }
  status_.last_error = s.ToString();
  status_.last_error_unix_ms = base::NowUnixMs();
  ++status_.upload_errors;
}

void ArchiveUploader::CosignAndReport() {
  bool changed = false;
  if (checkpoint_.has_value() && options_.cosign &&
      (!cosigned_.has_value() || cosigned_->signature_txid() != latest_.last_txid)) {
    v1::ArchiveCosignature c;
    *c.mutable_checkpoint() = *checkpoint_;
    c.set_signature_txid(latest_.last_txid);
    c.set_region(options_.region);
    c.set_timestamp_unix_ms(base::NowUnixMs());
    if (absl::Status s = options_.cosign(&c); !s.ok()) {
      RecordError(absl::Status(s.code(), absl::StrCat("cosigning: ", s.message())));
      return;
    }
    cosigned_ = std::move(c);
    changed = true;
    absl::MutexLock lock(&mu_);
    status_.cosignature = cosigned_;
  }
  const absl::Time now = absl::Now();
  if (!options_.report || (!changed && now - last_report_ < options_.report_interval)) return;
  v1::ReportArchivedRequest report;
  if (cosigned_.has_value()) *report.mutable_cosignature() = *cosigned_;
  report.set_archive_url(store_->url());
  {
    absl::MutexLock lock(&mu_);
    report.set_upload_errors(status_.upload_errors);
    report.set_last_error(status_.last_error);
    report.set_last_error_unix_ms(status_.last_error_unix_ms);
  }
  last_report_ = now;
  if (absl::Status s = options_.report(report); !s.ok()) {
    // The leader is away or changing; the next report tries again.
    spdlog::debug("geo-replica: report to the leader failed: {}", s.ToString());
  }
}

absl::Status ArchiveUploader::Initialize() {
  if (absl::Status s = store_->Check(); !s.ok()) return s;
  absl::Status s = store_->Put(storage::kArchiveIdentityName,
                               storage::EncodeArchiveIdentity(options_.service_cert_pem));
  if (absl::IsAlreadyExists(s)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the archive at ", store_->url(), " belongs to another service (its ",
        storage::kArchiveIdentityName,
        " names another service certificate); give this geo-replica an archive of its own"));
  }
  if (!s.ok()) return s;
  absl::StatusOr<std::string> latest = store_->Get(storage::kArchiveLatestName);
  if (absl::IsNotFound(latest.status())) {
    latest_ = storage::ArchiveLatest{};
  } else if (!latest.ok()) {
    return latest.status();
  } else {
    absl::StatusOr<storage::ArchiveLatest> decoded = storage::DecodeArchiveLatest(*latest);
    if (!decoded.ok()) return decoded.status();
    latest_ = *decoded;
    // The checkpoint the archive ends on, to cosign again after a restart.
    absl::StatusOr<std::string> last = store_->Get(storage::ArchiveSegmentName(latest_.segments));
    if (!last.ok()) return last.status();
    absl::StatusOr<ledger::Segment> segment = ledger::DecodeSegment(*last);
    if (!segment.ok()) {
      return absl::DataLossError(absl::StrCat("archive ", store_->url(),
                                              ": the last segment: ", segment.status().message()));
    }
    checkpoint_ = CheckpointOf(*segment);
    spdlog::info("geo-replica: archive {} holds {} segments up to {} (tree size {})", store_->url(),
                 latest_.segments, latest_.last_txid, latest_.tree_size);
    if (metrics_ != nullptr) {
      metrics_->archive_snapshot_index.Set(static_cast<double>(latest_.snapshot_index));
    }
  }
  initialized_ = true;
  return absl::OkStatus();
}

absl::Status ArchiveUploader::UploadAvailable() {
  if (!initialized_) {
    if (absl::Status s = Initialize(); !s.ok()) return s;
  }
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::OkStatus();
    }
    absl::StatusOr<bool> uploaded = UploadNext();
    if (!uploaded.ok()) return uploaded.status();
    // Segments first; a snapshot moves one step whenever none is waiting.
    if (!*uploaded) uploaded = StepSnapshot();
    if (!uploaded.ok()) return uploaded.status();
    if (metrics_ != nullptr) {
      const uint64_t applied = applied_index_ ? applied_index_() : 0;
      metrics_->archive_lag_entries.Set(
          static_cast<double>(applied > latest_.last_index ? applied - latest_.last_index : 0));
    }
    if (!*uploaded) return absl::OkStatus();
  }
}

absl::StatusOr<bool> ArchiveUploader::UploadNext() {
  absl::StatusOr<std::string> path =
      LocalSegmentStartingAt(options_.segments_dir, latest_.last_index + 1);
  if (!path.ok()) return path.status();
  if (path->empty()) return false;
  absl::StatusOr<std::string> bytes = base::ReadFileToString(*path, ledger::kSegmentFileBytesMax);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<ledger::Segment> segment = ledger::DecodeSegment(*bytes);
  if (!segment.ok()) {
    return absl::DataLossError(
        absl::StrCat("local segment ", *path, " does not decode: ", segment.status().message()));
  }
  if (options_.residency) {
    if (absl::Status s = options_.residency(); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("not archiving: ", s.message()));
    }
  }
  // The archive must still be the one Initialize found (a volume unmounted
  // or a bucket emptied under a running geo-replica is not written to).
  if (absl::Status s = store_->Stat(storage::kArchiveIdentityName).status(); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the archive at ", store_->url(), " lost its ", storage::kArchiveIdentityName, " (",
        s.message(), "): not writing to it; uploads resume once the archive is back"));
  }
  const uint64_t seq = latest_.segments + 1;
  absl::StatusOr<storage::ArchiveLatest> next = storage::LatestAfter(*segment, seq);
  if (!next.ok()) return next.status();
  next->region = options_.region;
  next->written_unix_ms = base::NowUnixMs();
  // The snapshot latest.json names stays named.
  next->snapshot_index = latest_.snapshot_index;
  next->snapshot_next_segment = latest_.snapshot_next_segment;
  if (absl::Status s = store_->Put(storage::ArchiveSegmentName(seq), *bytes); !s.ok()) return s;
  if (absl::Status s = WriteLatest(*next); !s.ok()) return s;
  checkpoint_ = CheckpointOf(*segment);
  if (snapshot_.has_value() && snapshot_->next_segment == 0 &&
      segment->last_index > snapshot_->source->meta().index) {
    snapshot_->next_segment = seq;
  }
  if (metrics_ != nullptr) {
    metrics_->archive_archived_index.Set(static_cast<double>(latest_.last_index));
    metrics_->archive_tree_size.Set(static_cast<double>(latest_.tree_size));
    metrics_->archive_uploaded_bytes_total.Increment(static_cast<double>(bytes->size()));
  }
  absl::MutexLock lock(&mu_);
  if (!status_.last_error.empty()) {
    spdlog::info("geo-replica: archive uploads resumed ({} archived)", latest_.last_txid);
  }
  status_.last_error.clear();
  return true;
}

absl::Status ArchiveUploader::WriteLatest(const storage::ArchiveLatest& next) {
  if (absl::Status s =
          store_->Replace(storage::kArchiveLatestName, storage::EncodeArchiveLatest(next));
      !s.ok()) {
    return s;
  }
  latest_ = next;
  absl::MutexLock lock(&mu_);
  status_.latest = latest_;
  return absl::OkStatus();
}

absl::StatusOr<bool> ArchiveUploader::StepSnapshot() {
  if (!options_.take_snapshot || options_.snapshot_every_entries == 0) return false;
  if (!snapshot_.has_value()) {
    if (latest_.segments == 0 ||
        latest_.last_index < latest_.snapshot_index + options_.snapshot_every_entries) {
      return false;
    }
    absl::StatusOr<std::unique_ptr<storage::SnapshotSource>> source =
        options_.take_snapshot(options_.snapshot_part_bytes_max);
    if (!source.ok()) return source.status();
    if ((*source)->meta().index <= abandoned_index_) return false;  // wait for new entries
    // Segments are exported from applied entries, so the snapshot is at or
    // past the archive's end: the entry after it is in no archived segment.
    if ((*source)->meta().index < latest_.last_index) {
      return absl::InternalError(absl::StrCat("a snapshot at index ", (*source)->meta().index,
                                              " is behind the archive (", latest_.last_index, ")"));
    }
    PendingSnapshot pending;
    pending.source = *std::move(source);
    snapshot_ = std::move(pending);
    spdlog::info("geo-replica: archiving a state snapshot at index {}",
                 snapshot_->source->meta().index);
    return true;
  }
  if (!snapshot_->stored) return UploadSnapshotPart();
  const uint64_t index = snapshot_->source->meta().index;
  if (latest_.last_index < index) return false;  // the segments do not reach it yet
  storage::ArchiveLatest next = latest_;
  next.snapshot_index = index;
  next.snapshot_next_segment =
      snapshot_->next_segment != 0 ? snapshot_->next_segment : latest_.segments + 1;
  next.written_unix_ms = base::NowUnixMs();
  if (absl::Status s = WriteLatest(next); !s.ok()) return s;
  spdlog::info("geo-replica: the archive's snapshot is now the one at index {}", index);
  if (metrics_ != nullptr) metrics_->archive_snapshot_index.Set(static_cast<double>(index));
  snapshot_.reset();
  return true;
}

absl::StatusOr<bool> ArchiveUploader::UploadSnapshotPart() {
  storage::SnapshotSource& source = *snapshot_->source;
  const uint64_t index = source.meta().index;
  // Objects of this index with other bytes: an earlier try, cut short, took
  // it (a snapshot's bytes depend on when it was taken). Never overwritten;
  // the next snapshot is taken at a later index.
  auto abandon = [&](const std::string& name) {
    spdlog::warn("geo-replica: {} exists with other bytes; abandoning the snapshot at index {}",
                 name, index);
    abandoned_index_ = index;
    snapshot_.reset();
    return true;
  };
  if (!source.done()) {
    absl::StatusOr<std::string> chunk = source.NextChunk();
    if (!chunk.ok()) return chunk.status();
    const std::string name = storage::ArchiveSnapshotPartName(index, snapshot_->parts + 1);
    absl::Status s = store_->Put(name, *chunk);
    if (absl::IsAlreadyExists(s)) return abandon(name);
    if (!s.ok()) {
      // The source cannot go back: start this snapshot again later.
      snapshot_.reset();
      return s;
    }
    ++snapshot_->parts;
    if (metrics_ != nullptr) {
      metrics_->archive_uploaded_bytes_total.Increment(static_cast<double>(chunk->size()));
    }
    return true;
  }
  storage::ArchiveSnapshotManifest m;
  ledger::SnapshotAttestation& a = m.attestation;
  a.index = index;
  a.term = source.meta().term;
  a.payload_sha256 = source.payload_sha256();
  a.payload_bytes = source.offset();
  a.region = options_.region;
  a.timestamp_unix_ms = base::NowUnixMs();
  m.parts = snapshot_->parts;
  m.part_bytes_max = options_.snapshot_part_bytes_max;
  if (options_.sign_snapshot) {
    if (absl::Status s = options_.sign_snapshot(&a); !s.ok()) {
      snapshot_.reset();
      return absl::Status(s.code(), absl::StrCat("signing the snapshot: ", s.message()));
    }
  }
  const std::string name = storage::ArchiveSnapshotManifestName(index);
  absl::Status s = store_->Put(name, storage::EncodeArchiveSnapshotManifest(m));
  if (absl::IsAlreadyExists(s)) return abandon(name);
  if (!s.ok()) {
    snapshot_.reset();
    return s;
  }
  snapshot_->stored = true;
  return true;
}

}  // namespace cairn::node
