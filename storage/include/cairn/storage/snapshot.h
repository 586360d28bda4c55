// Snapshots of the ledger state, as a stream of bounded chunks that node/
// sends and receives over RaftService.InstallSnapshot.
//
// Sender:   auto src = db.TakeSnapshot(chunk_bytes_max);
//           while (!src->done()) send(src->offset(), *src->NextChunk());
//           send_last(src->payload_sha256());
// Receiver: auto sink = db.NewSnapshotSink(chunk_bytes_max);
//           sink->Append(offset, data) for each chunk, in order;
//           sink->Install(payload_sha256) verifies, then installs.
//
// The payload is a versioned record stream (docs/storage.md): a header with
// the snapshot metadata (index, term, membership), every key and value of
// the ledger tables as of one RocksDB snapshot, and a trailer with the
// record count. The SHA-256 of the whole payload travels separately; it is
// checked when the last chunk is in and again while the staged payload is
// read back for the install, before anything is written: a flipped byte
// anywhere means the install is refused and the existing state is untouched.
//
// Install replaces the ledger tables, sets the applied index to the
// snapshot's, and resets the Raft log to empty after the snapshot, in one
// atomic, durable step: the staged payload (<db_path>.incoming-snapshot) is
// turned into SST files (in <db_path>.incoming-snapshot.sst/) of at most
// about DatabaseOptions::snapshot_install_file_bytes_max each, which RocksDB
// ingests all at once. Memory stays bounded whatever the payload's size; a
// crash at any point leaves the old state or the new one, never a mix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/consensus/types.h"

namespace cairn::ledger {
class Sha256Hasher;
}  // namespace cairn::ledger

namespace cairn::storage {

namespace internal {
class DbCore;
class PayloadWriter;
}  // namespace internal

class Database;
class RaftLogStore;

// Version of the snapshot payload encoding.
inline constexpr uint32_t kSnapshotFormatVersion = 1;

class SnapshotSource {
 public:
  ~SnapshotSource();
  SnapshotSource(const SnapshotSource&) = delete;
  SnapshotSource& operator=(const SnapshotSource&) = delete;

  // What the snapshot covers: the applied index and term when it was taken,
  // and the membership as of that index.
  const consensus::SnapshotMeta& meta() const { return meta_; }

  // The next 1 to chunk_bytes_max bytes of the payload. FailedPrecondition
  // once done().
  absl::StatusOr<std::string> NextChunk();
  // True once the whole payload has been returned.
  bool done() const;
  // Payload bytes returned so far (the offset of the next chunk).
  uint64_t offset() const { return offset_; }
  // SHA-256 of the whole payload (32 raw bytes). Only once done().
  std::string payload_sha256() const;

 private:
  friend class Database;
  SnapshotSource(internal::DbCore* core, size_t chunk_bytes_max);
  absl::Status Start();

  internal::DbCore* const core_;
  const size_t chunk_bytes_max_;
  consensus::SnapshotMeta meta_;
  uint64_t offset_ = 0;
  std::unique_ptr<internal::PayloadWriter> writer_;
  std::unique_ptr<ledger::Sha256Hasher> sha_;
  std::string digest_;
};

class SnapshotSink {
 public:
  ~SnapshotSink();  // removes the staging file
  SnapshotSink(const SnapshotSink&) = delete;
  SnapshotSink& operator=(const SnapshotSink&) = delete;

  // Adds the chunk at `offset`, which must equal bytes_received() (chunks
  // arrive in order, without gaps); at most chunk_bytes_max bytes.
  // InvalidArgument otherwise. Nothing is installed yet.
  absl::Status Append(uint64_t offset, absl::string_view data);
  uint64_t bytes_received() const { return received_; }

  // Checks that the payload's SHA-256 equals `payload_sha256` (32 raw bytes;
  // DataLoss if not) and that the payload is well formed (DataLoss), that it
  // is ahead of the applied index (FailedPrecondition), and, when given, that
  // its metadata equals `expected` (InvalidArgument). Then installs it in one
  // atomic, durable step and returns its metadata. On any error nothing is
  // written. The sink is spent afterwards, whatever the outcome. Needs free
  // disk space of about the payload's size (the SST files) besides the
  // staged payload, until it returns.
  absl::StatusOr<consensus::SnapshotMeta> Install(
      absl::string_view payload_sha256, const consensus::SnapshotMeta* expected = nullptr);

 private:
  friend class Database;
  SnapshotSink(internal::DbCore* core, RaftLogStore* raft_log, std::string staging_path,
               std::string sst_staging_path, size_t chunk_bytes_max);
  absl::Status Start();
  void TestHook(absl::string_view stage) const;

  internal::DbCore* const core_;
  RaftLogStore* const raft_log_;
  const std::string staging_path_;
  const std::string sst_staging_path_;
  const size_t chunk_bytes_max_;
  int fd_ = -1;
  uint64_t received_ = 0;
  bool spent_ = false;
  std::unique_ptr<ledger::Sha256Hasher> sha_;
};

}  // namespace cairn::storage
