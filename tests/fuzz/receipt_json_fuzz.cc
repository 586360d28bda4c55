// Fuzz target: the receipt JSON parser (ReceiptFromJson), then printing and
// re-parsing (which must give the same receipt back) and verification.
#include <string>

#include "absl/strings/string_view.h"
#include "cairn/base/check.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"
#include "fuzz_service_cert.h"
#include "fuzz_target.h"
#include "google/protobuf/util/message_differencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<v1::Receipt> receipt = ledger::ReceiptFromJson(text);
  if (!receipt.ok()) return 0;
  absl::StatusOr<v1::Receipt> again = ledger::ReceiptFromJson(ledger::ReceiptToJson(*receipt));
  CAIRN_CHECK(again.ok()) << "printed receipt does not parse: " << again.status();
  CAIRN_CHECK(google::protobuf::util::MessageDifferencer::Equals(*again, *receipt))
      << "receipt JSON does not round-trip";
  (void)ledger::VerifyReceipt(*receipt, fuzz::ServiceCert());
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() {
  testing::TestLedger ledger;
  FillSeedLedger(ledger);
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"service.pem", ledger.service_cert().ToPem()}};
  for (uint64_t index = 1; index < ledger.entries().size(); index += 2) {
    seeds.emplace_back("receipt-" + std::to_string(index) + ".json",
                       ledger::ReceiptToJson(ledger.ReceiptFor(
                           ledger::TxId{ledger.entries()[index - 1].term, index})));
  }
  return seeds;
}

}  // namespace cairn::fuzz
