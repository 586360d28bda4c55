// Ledger segments: immutable, self-verifying files holding a run of
// consecutive committed log entries that ends on a signature transaction.
// They are the unit of export, audit and geo-replication. The format
// (docs/formats.md, "Ledger segment v1"):
//
//   header   magic "CAIRNSEG", format version, flags, first and last index,
//            CRC-32C of the header
//   records  per entry: length, term, index, entry data (a serialized
//            cairn.v1.LogCommand), CRC-32C of the record
//   trailer  magic "CAIRNEND", record count, SHA-256 of everything before it
//
// The reader trusts nothing: every length is bounded before use, and
// truncation, bad checksums, bad lengths, wrong indexes and trailing bytes
// are DataLoss errors that name the record (by its log index) or the part of
// the file that is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::ledger {

inline constexpr absl::string_view kSegmentMagic = "CAIRNSEG";
inline constexpr absl::string_view kSegmentTrailerMagic = "CAIRNEND";
inline constexpr uint32_t kSegmentFormatVersion = 1;
inline constexpr absl::string_view kSegmentFileSuffix = ".cseg";
// Limits: one entry's data, and a whole segment file.
inline constexpr uint64_t kSegmentRecordBytesMax = 64ull << 20;
inline constexpr uint64_t kSegmentFileBytesMax = 1ull << 30;

struct SegmentRecord {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string data;  // serialized cairn.v1.LogCommand; empty for an internal entry
};

struct Segment {
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  std::vector<SegmentRecord> records;  // indexes first_index .. last_index, in order
};

// Collects consecutive committed entries and encodes them as one segment.
class SegmentWriter {
 public:
  // A segment whose first entry is at log index `first_index` (>= 1).
  explicit SegmentWriter(uint64_t first_index);

  // Adds the next entry. InvalidArgument if its index is not the next one,
  // its term is 0 or lower than the previous entry's, or its data is larger
  // than kSegmentRecordBytesMax. Takes `data` over (move it in to spare a
  // copy).
  absl::Status Add(uint64_t term, uint64_t index, std::string data);

  // Index the next entry must have.
  uint64_t next_index() const { return next_index_; }
  bool empty() const { return records_.empty(); }

  // The segment's bytes. FailedPrecondition unless at least one entry was
  // added and the last is a signature transaction.
  absl::StatusOr<std::string> Finish() const;

  // Writes the segment to `dir`/SegmentFileName(first, last) (mode 0444,
  // synced, never overwriting) and returns the path.
  absl::StatusOr<std::string> FinishToFile(const std::string& dir) const;

 private:
  uint64_t first_index_;
  uint64_t next_index_;
  std::vector<SegmentRecord> records_;
  uint64_t data_bytes_ = 0;  // of records_, to size the file in one allocation
};

// "segment-<first>-<last>.cseg" with 20-digit zero-padded indexes, so names
// sort in log order.
std::string SegmentFileName(uint64_t first_index, uint64_t last_index);

// Parses and checks a whole segment (see above). DataLoss on any damage.
absl::StatusOr<Segment> DecodeSegment(absl::string_view bytes);

// Reads and decodes one segment file; errors name the file.
absl::StatusOr<Segment> ReadSegmentFile(const std::string& path);

// Reads and checks only a segment file's header: its (first, last) index range.
absl::StatusOr<std::pair<uint64_t, uint64_t>> ReadSegmentRange(const std::string& path);

}  // namespace cairn::ledger
