// Offline receipt verification and receipt files (see verify.h).
#include "cairn/client/verify.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
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
  const std::string json = ReceiptToJson(receipt);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << json;
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace cairn::client
