// Ledger snapshots as a checksummed stream of chunks (see snapshot.h).
//
// Payload, version 1:
//   "CAIRNSNP" | u32 version | varint length | metadata (u64 index, u64 term, conf state)
//   records:  u8 table (1-based position in kSnapshotTables) | varint key length | key
//             | varint value length | value
//   trailer:  u8 0 | u64 record count
// The sender produces it lazily from one RocksDB snapshot, so memory stays at
// about one chunk. The receiver stages it in a file, checks the SHA-256, then
// parses it into one WriteBatch that clears and refills the ledger tables and
// resets the Raft log.
#include "cairn/storage/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/storage/raft_log_store.h"
#include "codec.h"
#include "db_core.h"
#include "raft_state.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/write_batch.h"
#include "sha256.h"
#include "snapshot_payload.h"

namespace cairn::storage {

using internal::DbCore;

// ---------------------------------------------------------------- sending

SnapshotSource::SnapshotSource(DbCore* core, size_t chunk_bytes_max)
    : core_(core), chunk_bytes_max_(chunk_bytes_max), sha_(std::make_unique<internal::Sha256>()) {}

SnapshotSource::~SnapshotSource() = default;

absl::Status SnapshotSource::Start() {
  if (chunk_bytes_max_ == 0) return absl::InvalidArgumentError("chunk_bytes_max must be positive");
  auto writer = std::make_unique<internal::PayloadWriter>(core_);
  absl::StatusOr<consensus::SnapshotMeta> meta = writer->Begin();
  if (!meta.ok()) return meta.status();
  meta_ = *std::move(meta);
  writer_ = std::move(writer);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SnapshotSource::NextChunk() {
  if (done()) return absl::FailedPreconditionError("snapshot payload already complete");
  absl::StatusOr<std::string> chunk = writer_->Next(chunk_bytes_max_);
  if (!chunk.ok()) return chunk.status();
  sha_->Update(*chunk);
  offset_ += chunk->size();
  if (writer_->finished()) digest_ = sha_->Finish();
  return chunk;
}

bool SnapshotSource::done() const { return writer_->finished(); }

std::string SnapshotSource::payload_sha256() const {
  CAIRN_CHECK(done()) << "payload_sha256 before the payload is complete";
  return digest_;
}

// ---------------------------------------------------------------- receiving

namespace {

// A payload that fails to parse may be a damaged staging file rather than a
// malformed payload: say which, reading the rest of the file if need be.
absl::Status ChecksumErrorOr(internal::PayloadReader& reader, absl::string_view payload_sha256,
                             absl::Status parse_error) {
  if (!absl::IsDataLoss(parse_error)) return parse_error;
  absl::Status checksum = reader.VerifyChecksum(payload_sha256);
  return checksum.ok() ? parse_error : checksum;
}

}  // namespace

SnapshotSink::SnapshotSink(DbCore* core, RaftLogStore* raft_log, std::string staging_path,
                           size_t chunk_bytes_max)
    : core_(core),
      raft_log_(raft_log),
      staging_path_(std::move(staging_path)),
      chunk_bytes_max_(chunk_bytes_max),
      sha_(std::make_unique<internal::Sha256>()) {}

SnapshotSink::~SnapshotSink() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(staging_path_.c_str());
  core_->EndSnapshotSink();
}

absl::Status SnapshotSink::Start() {
  if (chunk_bytes_max_ == 0) return absl::InvalidArgumentError("chunk_bytes_max must be positive");
  fd_ = ::open(staging_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return absl::InternalError(absl::StrCat("cannot create snapshot staging file ", staging_path_,
                                            ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status SnapshotSink::Append(uint64_t offset, absl::string_view data) {
  if (spent_) return absl::FailedPreconditionError("snapshot sink already used for an install");
  if (offset != received_) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot chunk at offset ", offset, "; expected offset ", received_));
  }
  if (data.size() > chunk_bytes_max_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "snapshot chunk of ", data.size(), " bytes exceeds chunk_bytes_max ", chunk_bytes_max_));
  }
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InternalError(absl::StrCat("writing snapshot staging file ", staging_path_, ": ",
                                              std::strerror(errno)));
    }
    written += static_cast<size_t>(n);
  }
  sha_->Update(data);
  received_ += data.size();
  return absl::OkStatus();
}

absl::StatusOr<consensus::SnapshotMeta> SnapshotSink::Install(
    absl::string_view payload_sha256, const consensus::SnapshotMeta* expected) {
  if (spent_) return absl::FailedPreconditionError("snapshot sink already used for an install");
  spent_ = true;
  const std::string digest = sha_->Finish();
  if (payload_sha256 != digest) {
    return absl::DataLossError(absl::StrCat("snapshot payload checksum mismatch after ", received_,
                                            " bytes: expected ", base::HexEncode(payload_sha256),
                                            ", computed ", base::HexEncode(digest),
                                            "; install refused"));
  }
  if (::lseek(fd_, 0, SEEK_SET) != 0) {
    return absl::InternalError(
        absl::StrCat("rewinding snapshot staging file: ", std::strerror(errno)));
  }
  // Writers of the Raft log wait while the log is reset under them.
  absl::MutexLock write_lock(&raft_log_->write_mu_);
  rocksdb::WriteBatch batch;
  internal::PayloadReader reader(fd_, received_);
  absl::StatusOr<consensus::SnapshotMeta> meta = reader.ReadHeader();
  if (!meta.ok()) return ChecksumErrorOr(reader, payload_sha256, meta.status());
  if (expected != nullptr && !(*meta == *expected)) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot payload covers index ", meta->index, " term ", meta->term,
                     " but the snapshot message says index ", expected->index, " term ",
                     expected->term, " (or another membership)"));
  }
  const TxId applied = core_->applied();
  if (meta->index <= applied.index) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot at index ", meta->index, " is not ahead of the applied index ", applied.index));
  }
  absl::Status st = internal::AddResetWrites(*core_, *meta, raft_log_->hard_state(), &batch);
  if (st.ok()) st = reader.ReadRecords(*core_, &batch);
  if (st.ok()) st = reader.VerifyChecksum(payload_sha256);
  if (!st.ok()) return ChecksumErrorOr(reader, payload_sha256, st);
  st = core_->Write(&batch, /*sync=*/true, "installing a snapshot");
  if (!st.ok()) return st;
  raft_log_->ResetToSnapshot(*meta);
  core_->SetApplied(TxId{meta->term, meta->index},
                    /*durable=*/!core_->options().unsafe_disable_sync_for_testing);
  return meta;
}

}  // namespace cairn::storage
