// Fuzz target: the segment reader (DecodeSegment). A segment it accepts must
// re-encode to exactly the same bytes (the format has one encoding), and
// each of its records must map to a leaf or fail cleanly.
#include <string>

#include "absl/strings/string_view.h"
#include "cairn/base/check.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/segment.h"
#include "fuzz_service_cert.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
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
