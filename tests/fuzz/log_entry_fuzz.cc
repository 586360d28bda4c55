// Fuzz target: log entry data to leaf (LeafComponentsFor), what the node and
// the auditor run on every committed entry. Whatever it accepts must encode:
// applying an entry that LeafComponentsFor accepted can never fail later.
#include <string>

#include "absl/strings/string_view.h"
#include "cairn/base/check.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/entry.h"
#include "fuzz_protobuf_quiet.h"
#include "fuzz_service_cert.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<v1::LeafComponents> leaf = ledger::LeafComponentsFor(3, 1042, bytes);
  if (!leaf.ok()) return 0;
  absl::StatusOr<std::string> encoded = ledger::EncodeLeaf(*leaf);
  CAIRN_CHECK(encoded.ok()) << "accepted entry does not encode: " << encoded.status();
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() {
  testing::TestLedger ledger;
  FillSeedLedger(ledger);
  std::vector<std::pair<std::string, std::string>> seeds;
  for (const auto& e : ledger.entries()) {
    seeds.emplace_back("entry-" + std::to_string(e.index) + ".bin", e.data);
  }
  return seeds;
}

}  // namespace cairn::fuzz
