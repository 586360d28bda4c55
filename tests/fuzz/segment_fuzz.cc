// Fuzz target: the segment reader (DecodeSegment). A segment it accepts must
// re-encode to exactly the same bytes (the format has one encoding), and
// each of its records must map to a leaf or fail cleanly.
//
// Built twice. fuzz_segment feeds the mutated bytes as they are, so it
// exercises the framing and the checksum checks. fuzz_segment_resum
// (CAIRN_FUZZ_SEGMENT_RESUM) first rewrites the header CRC-32C, each record's
// CRC-32C and the trailer's SHA-256 wherever the mutated bytes still frame
// them, the way the reader finds them: random bytes almost never pass the
// checksums, and the checks behind them (index range, record index and term
// order, trailer count, trailing bytes, re-encoding) are reached only this way.
#include <algorithm>
#include <string>

#include "absl/strings/string_view.h"
#include "cairn/base/check.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/segment.h"
#include "fuzz_protobuf_quiet.h"
#include "fuzz_service_cert.h"
#include "fuzz_target.h"
#ifdef CAIRN_FUZZ_SEGMENT_RESUM
#include "ledger/src/crc32c.h"  // the reader's own CRC-32C
#endif

#ifdef CAIRN_FUZZ_SEGMENT_RESUM
namespace {

// Layout from docs/formats.md, "Ledger segment v1" (big-endian fields).
constexpr size_t kHeaderBytes = 36;       // ..., first 8 at 16, last 8 at 24, crc 4 at 32
constexpr size_t kRecordFixedBytes = 16;  // term + index, counted by the length field
constexpr size_t kTrailerBytes = 48;      // magic 8, count 8, sha-256 32

uint64_t GetBig(const std::string& b, size_t at, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

void PutBig32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

// Makes every checksum the reader will meet in `b` correct, leaving all
// other bytes as the mutator made them.
void FixChecksums(std::string& b) {
  using cairn::ledger::internal::Crc32c;
  if (b.size() < kHeaderBytes) return;
  PutBig32(b, 32, Crc32c(absl::string_view(b).substr(0, 32)));
  const uint64_t first = GetBig(b, 16, 8), last = GetBig(b, 24, 8);
  if (first == 0 || last < first) return;
  // Walk the records the header promises, as far as their lengths frame them.
  size_t pos = kHeaderBytes;
  const uint64_t count = last - first + 1;
  for (uint64_t i = 0; i < count; ++i) {
    if (b.size() - pos < 4) return;
    const uint64_t length = GetBig(b, pos, 4);
    if (length < kRecordFixedBytes || b.size() - pos - 4 < length + 4) return;
    const size_t crc_at = pos + 4 + length;
    PutBig32(b, crc_at, Crc32c(absl::string_view(b).substr(pos, crc_at - pos)));
    pos = crc_at + 4;
  }
  if (b.size() - pos < kTrailerBytes) return;
  const size_t hashed = pos + 16;
  const cairn::ledger::Hash digest = cairn::ledger::Sha256(absl::string_view(b).substr(0, hashed));
  const absl::string_view digest_bytes = cairn::ledger::HashBytes(digest);
  std::copy(digest_bytes.begin(), digest_bytes.end(), b.begin() + hashed);
}

}  // namespace
#endif  // CAIRN_FUZZ_SEGMENT_RESUM

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
#ifdef CAIRN_FUZZ_SEGMENT_RESUM
  std::string fixed(reinterpret_cast<const char*>(data), size);
  FixChecksums(fixed);
  const absl::string_view bytes(fixed);
#else
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
#endif
  absl::StatusOr<ledger::Segment> segment = ledger::DecodeSegment(bytes);
  if (!segment.ok()) return 0;
  ledger::SegmentWriter writer(segment->first_index);
  for (const ledger::SegmentRecord& r : segment->records) {
    CAIRN_CHECK_OK(writer.Add(r.term, r.index, r.data)) << "decoded record does not re-add";
    (void)ledger::LeafComponentsFor(r.term, r.index, r.data);
  }
  absl::StatusOr<std::string> encoded = writer.Finish();
  if (encoded.ok()) CAIRN_CHECK(*encoded == bytes) << "segment does not re-encode identically";
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() {
  testing::TestLedger ledger;
  FillSeedLedger(ledger);
  std::vector<std::pair<std::string, std::string>> seeds;
  uint64_t first = 1;
  for (uint64_t end : {uint64_t{5}, static_cast<uint64_t>(ledger.entries().size())}) {
    const uint64_t start = first;
    ledger::SegmentWriter writer(start);
    for (; first <= end; ++first) {
      const auto& e = ledger.entries()[first - 1];
      CAIRN_CHECK_OK(writer.Add(e.term, e.index, e.data));
    }
    auto bytes = writer.Finish();
    CAIRN_CHECK_OK(bytes.status());
    seeds.emplace_back(ledger::SegmentFileName(start, end), *bytes);
  }
  return seeds;
}

}  // namespace cairn::fuzz
