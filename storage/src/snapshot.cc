// Ledger snapshots as a checksummed stream of chunks (see snapshot.h).
//
// Payload, version 1:
//   "CAIRNSNP" | u32 version | varint length | metadata (u64 index, u64 term, conf state)
//   records:  u8 table (1-based position in kSnapshotTables) | varint key length | key
//             | varint value length | value
//   trailer:  u8 0 | u64 record count
// Records come table by table, keys ascending (RocksDB iteration order).
// The sender produces the payload lazily from one RocksDB snapshot, so
// memory stays at about one chunk. The receiver stages it in a file and
// checks the SHA-256 of the chunks; at install it reads the file back,
// checking the SHA-256 again, turns the records into SST files of bounded
// size and ingests them all at once (snapshot_install.h), so memory stays
// bounded at any ledger size.
#include "cairn/storage/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/hash.h"
#include "cairn/storage/raft_log_store.h"
#include "db_core.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "snapshot_install.h"
#include "snapshot_payload.h"

namespace cairn::storage {

using internal::DbCore;

// ---------------------------------------------------------------- sending

SnapshotSource::SnapshotSource(DbCore* core, size_t chunk_bytes_max)
    : core_(core),
      chunk_bytes_max_(chunk_bytes_max),
      sha_(std::make_unique<ledger::Sha256Hasher>()) {}

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
  if (writer_->finished()) digest_ = ledger::HashToString(sha_->Finish());
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
                           std::string sst_staging_path, size_t chunk_bytes_max)
    : core_(core),
      raft_log_(raft_log),
      staging_path_(std::move(staging_path)),
      sst_staging_path_(std::move(sst_staging_path)),
      chunk_bytes_max_(chunk_bytes_max),
      sha_(std::make_unique<ledger::Sha256Hasher>()) {}

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
  const std::string digest = ledger::HashToString(sha_->Finish());
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
  // Records go to SST files in the staging directory as they are read;
  // only the ingestion below touches the database, after the checksum of
  // everything read has been verified.
  internal::SstInstall install(core_, sst_staging_path_,
                               core_->options().snapshot_install_file_bytes_max);
  absl::Status st = install.Start();
  if (!st.ok()) return st;
  st = reader.ReadRecords(
      [&install](internal::Table t, absl::string_view key, absl::string_view value) {
        return install.Add(t, key, value);
      });
  if (st.ok()) st = reader.VerifyChecksum(payload_sha256);
  if (!st.ok()) return ChecksumErrorOr(reader, payload_sha256, st);
  st = install.Finish(*meta, raft_log_->hard_state());
  if (!st.ok()) return st;
  TestHook("before_ingest");
  st = install.Ingest();
  if (!st.ok()) return st;
  TestHook("after_ingest");
  raft_log_->ResetToSnapshot(*meta);
  // Durable: an ingestion is complete only once its files and MANIFEST
  // record are synced, whatever the WAL holds.
  core_->SetApplied(TxId{meta->term, meta->index}, /*durable=*/true);
  return meta;
}

void SnapshotSink::TestHook(absl::string_view stage) const {
  if (core_->options().snapshot_install_hook_for_testing) {
    core_->options().snapshot_install_hook_for_testing(stage, 0);
  }
}

}  // namespace cairn::storage
