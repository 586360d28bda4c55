// Ledger segment encoding and strict decoding (see segment.h and
// docs/formats.md, "Ledger segment v1").
#include "cairn/ledger/segment.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cairn/base/big_endian.h"
#include "cairn/base/files.h"
#include "cairn/ledger/hash.h"
#include "cairn/v1/log.pb.h"
#include "crc32c.h"

namespace cairn::ledger {
namespace {

using base::ByteReader;
using base::PutU32;
using base::PutU64;
using internal::Crc32c;

constexpr size_t kHeaderBytes = 36;          // magic 8, version 4, flags 4, first 8, last 8, crc 4
constexpr size_t kRecordOverheadBytes = 24;  // length 4, term 8, index 8, crc 4
constexpr size_t kRecordFixedBytes = 16;     // term + index, counted by the length field
constexpr size_t kTrailerBytes = 48;         // magic 8, count 8, sha-256 32

absl::Status Damaged(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("segment: ", what));
}

bool IsSignature(absl::string_view data) {
  v1::LogCommand command;
  return !data.empty() && command.ParseFromArray(data.data(), static_cast<int>(data.size())) &&
         command.has_signature();
}

struct Header {
  uint64_t first_index = 0;
  uint64_t last_index = 0;
};

absl::StatusOr<Header> DecodeHeader(absl::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    return Damaged(absl::StrCat("truncated: ", bytes.size(), " bytes, shorter than the header"));
  }
  ByteReader r(bytes);
  absl::string_view magic;
  uint32_t version = 0, flags = 0, crc = 0;
  Header h;
  r.ReadBytes(kSegmentMagic.size(), &magic);
  r.ReadU32(&version);
  r.ReadU32(&flags);
  r.ReadU64(&h.first_index);
  r.ReadU64(&h.last_index);
  r.ReadU32(&crc);
  if (magic != kSegmentMagic) return Damaged("not a Cairn ledger segment (bad magic)");
  if (crc != Crc32c(bytes.substr(0, kHeaderBytes - 4))) return Damaged("header checksum mismatch");
  if (version != kSegmentFormatVersion) {
    return Damaged(absl::StrCat("format version ", version, " is not supported (only 1)"));
  }
  if (flags != 0) return Damaged(absl::StrCat("unknown header flags ", flags));
  if (h.first_index == 0 || h.last_index < h.first_index) {
    return Damaged(absl::StrCat("bad index range [", h.first_index, ", ", h.last_index, "]"));
  }
  return h;
}

// Decodes the record expected at log index `index`.
absl::StatusOr<SegmentRecord> DecodeRecord(ByteReader& r, absl::string_view bytes, uint64_t index) {
  const std::string where = absl::StrCat("record at index ", index, ": ");
  const size_t start = r.offset();
  uint32_t length = 0;
  if (!r.ReadU32(&length)) return Damaged(absl::StrCat(where, "truncated (no length)"));
  if (length < kRecordFixedBytes || length - kRecordFixedBytes > kSegmentRecordBytesMax) {
    return Damaged(absl::StrCat(where, "bad length ", length));
  }
  if (r.remaining() < static_cast<size_t>(length) + 4) {
    return Damaged(
        absl::StrCat(where, "truncated (length ", length, ", ", r.remaining(), " bytes left)"));
  }
  SegmentRecord record;
  absl::string_view data;
  uint32_t crc = 0;
  r.ReadU64(&record.term);
  r.ReadU64(&record.index);
  r.ReadBytes(length - kRecordFixedBytes, &data);
  const size_t end = r.offset();
  r.ReadU32(&crc);
  const std::string txid = absl::StrCat(record.term, ".", record.index);
  if (crc != Crc32c(bytes.substr(start, end - start))) {
    // The txid as stored, which the damage may itself have changed.
    return Damaged(absl::StrCat(where, "checksum mismatch (stored as txid ", txid, ")"));
  }
  if (record.index != index) {
    return Damaged(absl::StrCat(where, "holds txid ", txid, " (out of order)"));
  }
  if (record.term == 0) return Damaged(absl::StrCat(where, "term 0"));
  record.data = std::string(data);
  return record;
}

absl::Status DecodeTrailer(ByteReader& r, absl::string_view bytes, uint64_t count) {
  const size_t start = r.offset();
  if (r.remaining() < kTrailerBytes) {
    return Damaged(absl::StrCat("truncated: trailer missing (", r.remaining(), " bytes left)"));
  }
  absl::string_view magic, digest;
  uint64_t stored_count = 0;
  r.ReadBytes(kSegmentTrailerMagic.size(), &magic);
  r.ReadU64(&stored_count);
  const size_t hashed = r.offset();
  r.ReadBytes(kHashBytes, &digest);
  if (magic != kSegmentTrailerMagic) return Damaged("bad trailer magic");
  if (stored_count != count) {
    return Damaged(absl::StrCat("trailer counts ", stored_count, " records, header ", count));
  }
  if (digest != HashBytes(Sha256(bytes.substr(0, hashed)))) {
    return Damaged("file checksum (SHA-256) mismatch");
  }
  if (r.remaining() != 0) {
    return Damaged(absl::StrCat(r.remaining(), " unexpected bytes after the trailer at offset ",
                                start + kTrailerBytes));
  }
  return absl::OkStatus();
}

}  // namespace

SegmentWriter::SegmentWriter(uint64_t first_index)
    : first_index_(first_index), next_index_(first_index) {}

absl::Status SegmentWriter::Add(uint64_t term, uint64_t index, std::string data) {
  if (first_index_ == 0) return absl::InvalidArgumentError("segment: first index must be >= 1");
  if (index != next_index_) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment: entry index ", index, " is not the next one (", next_index_, ")"));
  }
  if (term == 0 || (!records_.empty() && term < records_.back().term)) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment: entry ", index, " has term ", term, ", lower than before"));
  }
  if (data.size() > kSegmentRecordBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("segment: entry ", index, " data is ",
                                                   data.size(), " bytes, over the limit of ",
                                                   kSegmentRecordBytesMax));
  }
  data_bytes_ += data.size();
  records_.push_back(SegmentRecord{term, index, std::move(data)});
  ++next_index_;
  return absl::OkStatus();
}

absl::StatusOr<std::string> SegmentWriter::Finish() const {
  if (records_.empty()) return absl::FailedPreconditionError("segment: no entries");
  if (!IsSignature(records_.back().data)) {
    return absl::FailedPreconditionError(
        absl::StrCat("segment: must end on a signature transaction; entry ", records_.back().index,
                     " is not one"));
  }
  std::string out;
  // One allocation: the file's size is known (a growing string would copy
  // a multi-megabyte segment several times over).
  out.reserve(kHeaderBytes + records_.size() * kRecordOverheadBytes + data_bytes_ + kTrailerBytes);
  out.append(kSegmentMagic.data(), kSegmentMagic.size());
  PutU32(&out, kSegmentFormatVersion);
  PutU32(&out, 0);  // flags
  PutU64(&out, first_index_);
  PutU64(&out, records_.back().index);
  PutU32(&out, Crc32c(out));
  for (const SegmentRecord& rec : records_) {
    const size_t start = out.size();
    PutU32(&out, static_cast<uint32_t>(kRecordFixedBytes + rec.data.size()));
    PutU64(&out, rec.term);
    PutU64(&out, rec.index);
    out.append(rec.data);
    PutU32(&out, Crc32c(absl::string_view(out).substr(start)));
  }
  out.append(kSegmentTrailerMagic.data(), kSegmentTrailerMagic.size());
  PutU64(&out, records_.size());
  const Hash digest = Sha256(out);
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return out;
}

absl::StatusOr<std::string> SegmentWriter::FinishToFile(const std::string& dir) const {
  absl::StatusOr<std::string> bytes = Finish();
  if (!bytes.ok()) return bytes.status();
  const std::string path =
      absl::StrCat(dir, "/", SegmentFileName(first_index_, records_.back().index));
  if (absl::Status s = base::CreateNewFiles({{path, *std::move(bytes), 0444}}); !s.ok()) {
    return s;
  }
  return path;
}

std::string SegmentFileName(uint64_t first_index, uint64_t last_index) {
  return absl::StrFormat("segment-%020u-%020u%s", first_index, last_index, kSegmentFileSuffix);
}

absl::StatusOr<Segment> DecodeSegment(absl::string_view bytes) {
  absl::StatusOr<Header> header = DecodeHeader(bytes);
  if (!header.ok()) return header.status();
  const uint64_t count = header->last_index - header->first_index + 1;
  ByteReader r(bytes);
  absl::string_view skip;
  r.ReadBytes(kHeaderBytes, &skip);
  // Bound the count by what the file can hold before reserving anything.
  if (count > (r.remaining() / kRecordOverheadBytes)) {
    return Damaged(absl::StrCat("truncated: header promises ", count, " records, the file holds ",
                                r.remaining(), " bytes"));
  }
  Segment segment;
  segment.first_index = header->first_index;
  segment.last_index = header->last_index;
  segment.records.reserve(static_cast<size_t>(count));
  for (uint64_t index = header->first_index; index <= header->last_index; ++index) {
    absl::StatusOr<SegmentRecord> record = DecodeRecord(r, bytes, index);
    if (!record.ok()) return record.status();
    if (!segment.records.empty() && record->term < segment.records.back().term) {
      return Damaged(absl::StrCat("record at index ", index, ": term ", record->term,
                                  " is lower than the previous record's"));
    }
    segment.records.push_back(*std::move(record));
    if (index == UINT64_MAX) break;
  }
  if (absl::Status s = DecodeTrailer(r, bytes, count); !s.ok()) return s;
  return segment;
}

absl::StatusOr<Segment> ReadSegmentFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = base::ReadFileToString(path, kSegmentFileBytesMax);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Segment> segment = DecodeSegment(*bytes);
  if (!segment.ok()) {
    return absl::Status(segment.status().code(),
                        absl::StrCat(path, ": ", segment.status().message()));
  }
  return segment;
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> ReadSegmentRange(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("open ", path));
  char buf[kHeaderBytes];
  const ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  ::close(fd);
  absl::StatusOr<Header> header =
      DecodeHeader(absl::string_view(buf, n > 0 ? static_cast<size_t>(n) : 0));
  if (!header.ok()) {
    return absl::Status(header.status().code(),
                        absl::StrCat(path, ": ", header.status().message()));
  }
  return std::make_pair(header->first_index, header->last_index);
}

}  // namespace cairn::ledger
