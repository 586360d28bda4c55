// Fuzz target: receipts from outside as bytes (ParseReceipt: binary protobuf
// or JSON), printed as JSON and verified, with contents and claims given.
#include <string>

#include "absl/strings/string_view.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"
#include "fuzz_protobuf_quiet.h"
#include "fuzz_service_cert.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<v1::Receipt> receipt = ledger::ParseReceipt(bytes);
  if (!receipt.ok()) return 0;
  (void)ledger::ReceiptToJson(*receipt);
  (void)ledger::VerifyReceipt(*receipt, fuzz::ServiceCert());
  (void)ledger::VerifyReceipt(*receipt, fuzz::ServiceCert(),
                              {.contents = "payment 1", .claims_digest = std::string(32, '\x11')});
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() {
  testing::TestLedger ledger;
  FillSeedLedger(ledger);
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"service.pem", ledger.service_cert().ToPem()}};
  for (uint64_t index = 1; index < ledger.entries().size(); index += 2) {
    seeds.emplace_back("receipt-" + std::to_string(index) + ".bin",
                       ledger.ReceiptFor(ledger::TxId{ledger.entries()[index - 1].term, index})
                           .SerializeAsString());
  }
  return seeds;
}

}  // namespace cairn::fuzz
