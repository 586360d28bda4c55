// Offline receipt verification and receipt files (see verify.h).
#include "cairn/client/verify.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cairn/base/atomic_file.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"

namespace cairn::client {

std::string ClaimsDigest(absl::string_view claims) {
  return ledger::HashToString(ledger::Sha256(claims));
}

absl::Status VerifyReceipt(const v1::Receipt& receipt, absl::string_view service_certificate_pem,
                           const ReceiptExpectations& expect) {
  absl::StatusOr<ledger::Certificate> service_cert =
      ledger::Certificate::FromPem(service_certificate_pem);
  if (!service_cert.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("service certificate: ", service_cert.status().message()));
  }
  ledger::ReceiptExpectations expectations;
  expectations.contents = expect.contents;
  expectations.contents_salt = expect.contents_salt;
  expectations.claims_digest = expect.claims_digest;
  return ledger::VerifyReceipt(receipt, *service_cert, expectations);
}

std::string ReceiptToJson(const v1::Receipt& receipt) { return ledger::ReceiptToJson(receipt); }

absl::StatusOr<v1::Receipt> ParseReceipt(absl::string_view bytes) {
  return ledger::ParseReceipt(bytes);
}

absl::StatusOr<v1::Receipt> ReadReceiptFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read receipt file ", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  absl::StatusOr<v1::Receipt> receipt = ParseReceipt(buf.str());
  if (!receipt.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", receipt.status().message()));
  }
  return receipt;
}

absl::Status WriteReceiptFile(const std::string& path, const v1::Receipt& receipt) {
  // A temporary file of its own per write, synced before the rename: two
  // writers of one path never share it, and a crash leaves a whole receipt.
  return base::ReplaceFileAtomically(path, ReceiptToJson(receipt));
}

}  // namespace cairn::client
