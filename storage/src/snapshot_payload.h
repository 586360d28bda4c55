// The snapshot payload encoding: a lazy writer over one RocksDB snapshot and
// a streaming reader of a staged payload that checks its SHA-256 as it
// reads. Format in snapshot.cc; everything here is internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/consensus/types.h"
#include "cairn/ledger/hash.h"
#include "db_core.h"

namespace rocksdb {
class Iterator;
class Snapshot;
}  // namespace rocksdb

namespace cairn::storage::internal {

class PayloadWriter {
 public:
  explicit PayloadWriter(DbCore* core);
  ~PayloadWriter();  // releases the RocksDB snapshot
  PayloadWriter(const PayloadWriter&) = delete;
  PayloadWriter& operator=(const PayloadWriter&) = delete;

  // Pins a RocksDB snapshot and returns what it covers (the applied index
  // and term, membership as of that index). FailedPrecondition when nothing
  // has been applied.
  absl::StatusOr<consensus::SnapshotMeta> Begin();
  // The next 1 to `max` bytes of the payload. Only while !finished().
  absl::StatusOr<std::string> Next(size_t max);
  bool finished() const { return done_ && pos_ == pending_.size(); }

 private:
  // Encodes records until `want` bytes are pending or the payload ends.
  absl::Status Produce(size_t want);

  DbCore* const core_;
  const rocksdb::Snapshot* snapshot_ = nullptr;
  size_t table_pos_ = 0;  // position in kSnapshotTables
  std::unique_ptr<rocksdb::Iterator> it_;
  uint64_t records_ = 0;
  bool done_ = false;  // trailer encoded
  std::string pending_;
  size_t pos_ = 0;  // bytes of pending_ already returned
};

class PayloadReader {
 public:
  // Reads `size` bytes from `fd`, from its current offset.
  PayloadReader(int fd, uint64_t size);
  ~PayloadReader();

  absl::StatusOr<consensus::SnapshotMeta> ReadHeader();
  // Hands every record to `sink` (table, key, value; stops at its first
  // error), then checks the trailer and that nothing follows it.
  absl::Status ReadRecords(
      absl::FunctionRef<absl::Status(Table, absl::string_view, absl::string_view)> sink);
  // Reads what is left of the file, then: DataLoss unless the SHA-256 of
  // all `size` bytes equals `payload_sha256`. The digest of the chunks as they
  // arrived was checked already, but the file could have changed on disk
  // since; what is installed is what was read back, so that is what must
  // match.
  // Only the first call checks; later ones return its result.
  absl::Status VerifyChecksum(absl::string_view payload_sha256);

 private:
  bool Ensure(size_t n);  // at least n bytes buffered, reading more if needed
  bool GetU8(uint8_t* v);
  bool GetU64(uint64_t* v);
  bool GetVarint(uint64_t* v);
  bool GetBytes(uint64_t n, std::string* out);
  absl::Status DrainAndVerify(absl::string_view payload_sha256);

  const int fd_;
  uint64_t unread_;                            // file bytes not yet read into buf_
  uint64_t read_ = 0;                          // file bytes read into buf_ so far
  std::unique_ptr<ledger::Sha256Hasher> sha_;  // of those bytes
  std::optional<absl::Status> verified_;
  std::string buf_;
  size_t pos_ = 0;
  absl::Status io_error_;
};

}  // namespace cairn::storage::internal
