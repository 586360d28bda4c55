// The snapshot payload encoding (see snapshot_payload.h; format in snapshot.cc).
#include "snapshot_payload.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/hash.h"
#include "cairn/storage/snapshot.h"
#include "codec.h"
#include "raft_state.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"

namespace cairn::storage::internal {
namespace {

constexpr char kMagic[] = "CAIRNSNP";
constexpr size_t kMagicBytes = 8;
constexpr uint8_t kTrailerTag = 0;
// Sanity bounds on decoded lengths; real keys and values are far smaller.
constexpr uint64_t kKeyBytesMax = 1u << 20;
constexpr uint64_t kValueBytesMax = 256u << 20;
constexpr size_t kReadBlockBytes = 1u << 20;

absl::Status BadPayload(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot payload: ", what));
}

}  // namespace

// ---------------------------------------------------------------- writer

PayloadWriter::PayloadWriter(DbCore* core) : core_(core) {}

PayloadWriter::~PayloadWriter() {
  it_.reset();  // iterators must go before the snapshot they read
  if (snapshot_ != nullptr) core_->db()->ReleaseSnapshot(snapshot_);
}

absl::StatusOr<consensus::SnapshotMeta> PayloadWriter::Begin() {
  CAIRN_CHECK(snapshot_ == nullptr) << "PayloadWriter::Begin called twice";
  snapshot_ = core_->db()->GetSnapshot();
  std::string value;
  absl::Status st = core_->Get(kMeta, kMetaAppliedKey, &value, snapshot_);
  if (absl::IsNotFound(st)) {
    return absl::FailedPreconditionError("no snapshot: nothing has been applied yet");
  }
  if (!st.ok()) return st;
  Decoder d(value);
  consensus::SnapshotMeta meta;
  if (!d.GetU64(&meta.index) || !d.GetU64(&meta.term)) return Malformed("applied index");
  absl::StatusOr<consensus::ConfState> cs = ReadConfStateAt(*core_, meta.index, snapshot_);
  if (!cs.ok()) return cs.status();
  meta.conf_state = *std::move(cs);

  pending_.append(kMagic, kMagicBytes);
  PutU32(&pending_, kSnapshotFormatVersion);
  std::string encoded;
  PutSnapshotMeta(&encoded, meta);
  PutLengthPrefixed(&pending_, encoded);
  return meta;
}

absl::Status PayloadWriter::Produce(size_t want) {
  while (!done_ && pending_.size() - pos_ < want) {
    if (it_ == nullptr) {
      if (table_pos_ == kSnapshotTables.size()) {
        PutU8(&pending_, kTrailerTag);
        PutU64(&pending_, records_);
        done_ = true;
        break;
      }
      rocksdb::ReadOptions ro;
      ro.snapshot = snapshot_;
      it_.reset(core_->db()->NewIterator(ro, core_->cf(kSnapshotTables[table_pos_])));
      it_->SeekToFirst();
      continue;
    }
    if (!it_->Valid()) {
      absl::Status st = FromRocks(it_->status(), "reading the snapshot");
      if (!st.ok()) return st;
      it_.reset();
      ++table_pos_;
      continue;
    }
    PutU8(&pending_, static_cast<uint8_t>(table_pos_ + 1));
    PutLengthPrefixed(&pending_, absl::string_view(it_->key().data(), it_->key().size()));
    PutLengthPrefixed(&pending_, absl::string_view(it_->value().data(), it_->value().size()));
    ++records_;
    it_->Next();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PayloadWriter::Next(size_t max) {
  CAIRN_CHECK(!finished()) << "PayloadWriter::Next after the end";
  absl::Status st = Produce(max);
  if (!st.ok()) return st;
  const size_t n = std::min(max, pending_.size() - pos_);
  std::string chunk = pending_.substr(pos_, n);
  pos_ += n;
  if (pos_ == pending_.size() || pos_ >= kReadBlockBytes) {
    pending_.erase(0, pos_);
    pos_ = 0;
  }
  return chunk;
}

// ---------------------------------------------------------------- reader

PayloadReader::PayloadReader(int fd, uint64_t size)
    : fd_(fd), unread_(size), sha_(std::make_unique<ledger::Sha256Hasher>()) {}

PayloadReader::~PayloadReader() = default;

bool PayloadReader::Ensure(size_t n) {
  if (buf_.size() - pos_ >= n) return true;
  buf_.erase(0, pos_);
  pos_ = 0;
  while (buf_.size() < n && unread_ > 0) {
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(unread_, std::max(kReadBlockBytes, n - buf_.size())));
    const size_t old = buf_.size();
    buf_.resize(old + want);
    const ssize_t got = ::read(fd_, buf_.data() + old, want);
    if (got < 0 && errno == EINTR) {
      buf_.resize(old);
      continue;
    }
    if (got <= 0) {
      buf_.resize(old);
      io_error_ = absl::InternalError(absl::StrCat("reading the snapshot staging file: ",
                                                   got == 0 ? "short file" : std::strerror(errno)));
      return false;
    }
    buf_.resize(old + static_cast<size_t>(got));
    sha_->Update(absl::string_view(buf_).substr(old));
    unread_ -= static_cast<uint64_t>(got);
    read_ += static_cast<uint64_t>(got);
  }
  return buf_.size() >= n;
}

bool PayloadReader::GetU8(uint8_t* v) {
  if (!Ensure(1)) return false;
  *v = static_cast<uint8_t>(buf_[pos_++]);
  return true;
}

bool PayloadReader::GetU64(uint64_t* v) {
  if (!Ensure(8)) return false;
  Decoder d(absl::string_view(buf_).substr(pos_, 8));
  pos_ += 8;
  return d.GetU64(v);
}

bool PayloadReader::GetVarint(uint64_t* v) {
  return GetVarintFrom([this](uint8_t* byte) { return GetU8(byte); }, v);
}

bool PayloadReader::GetBytes(uint64_t n, std::string* out) {
  if (!Ensure(static_cast<size_t>(n))) return false;
  out->assign(buf_, pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return true;
}

absl::StatusOr<consensus::SnapshotMeta> PayloadReader::ReadHeader() {
  std::string magic, encoded;
  uint64_t version = 0, meta_len = 0;
  if (!GetBytes(kMagicBytes, &magic) || magic != absl::string_view(kMagic, kMagicBytes)) {
    return io_error_.ok() ? BadPayload("not a cairn snapshot (bad magic)") : io_error_;
  }
  if (!Ensure(4)) return io_error_.ok() ? BadPayload("truncated header") : io_error_;
  Decoder v(absl::string_view(buf_).substr(pos_, 4));
  uint32_t version32 = 0;
  v.GetU32(&version32);
  pos_ += 4;
  version = version32;
  if (version != kSnapshotFormatVersion) {
    return BadPayload(absl::StrCat("format version ", version, "; this node reads only ",
                                   kSnapshotFormatVersion));
  }
  if (!GetVarint(&meta_len) || meta_len > kKeyBytesMax || !GetBytes(meta_len, &encoded)) {
    return io_error_.ok() ? BadPayload("truncated header") : io_error_;
  }
  Decoder d(encoded);
  consensus::SnapshotMeta meta;
  if (!GetSnapshotMeta(&d, &meta) || !d.empty()) return BadPayload("malformed metadata");
  if (meta.index == 0) return BadPayload("snapshot at index 0");
  return meta;
}

absl::Status PayloadReader::ReadRecords(
    absl::FunctionRef<absl::Status(Table, absl::string_view, absl::string_view)> sink) {
  uint64_t records = 0;
  std::string key, value;
  for (;;) {
    uint8_t tag = 0;
    if (!GetU8(&tag)) return io_error_.ok() ? BadPayload("missing trailer") : io_error_;
    if (tag == kTrailerTag) break;
    if (tag > kSnapshotTables.size()) return BadPayload(absl::StrCat("unknown table ", tag));
    uint64_t klen = 0, vlen = 0;
    if (!GetVarint(&klen) || klen > kKeyBytesMax || !GetBytes(klen, &key) || !GetVarint(&vlen) ||
        vlen > kValueBytesMax || !GetBytes(vlen, &value)) {
      return io_error_.ok() ? BadPayload(absl::StrCat("truncated record ", records)) : io_error_;
    }
    absl::Status st = sink(kSnapshotTables[tag - 1], key, value);
    if (!st.ok()) return st;
    ++records;
  }
  uint64_t count = 0;
  if (!GetU64(&count)) return io_error_.ok() ? BadPayload("truncated trailer") : io_error_;
  if (count != records) {
    return BadPayload(absl::StrCat("trailer counts ", count, " records, found ", records));
  }
  if (pos_ != buf_.size() || unread_ != 0) return BadPayload("bytes after the trailer");
  return absl::OkStatus();
}

absl::Status PayloadReader::VerifyChecksum(absl::string_view payload_sha256) {
  if (verified_.has_value()) return *verified_;
  verified_ = DrainAndVerify(payload_sha256);
  return *verified_;
}

absl::Status PayloadReader::DrainAndVerify(absl::string_view payload_sha256) {
  // After a parse error the rest is still unread: hash it too, so that a
  // file damaged on disk is reported as such rather than as malformed.
  pos_ = buf_.size();
  while (unread_ > 0) {
    if (!Ensure(std::min<uint64_t>(unread_, kReadBlockBytes))) return io_error_;
    pos_ = buf_.size();
  }
  const std::string digest = ledger::HashToString(sha_->Finish());
  if (digest != payload_sha256) {
    return absl::DataLossError(
        absl::StrCat("snapshot staging file checksum mismatch after reading it back (", read_,
                     " bytes): expected ", base::HexEncode(payload_sha256), ", computed ",
                     base::HexEncode(digest),
                     "; the file changed on disk after it was received; install refused"));
  }
  return absl::OkStatus();
}

}  // namespace cairn::storage::internal
