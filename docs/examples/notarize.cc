// Example: notarize a document, and later prove it with the receipt alone.
//
//   notarize stamp <document> <receipt.json>
//     Appends a record of the document to the "notary" collection with the
//     document's SHA-256 as the application claims digest, waits until a
//     signed checkpoint covers it, and saves the receipt (JSON). The ledger
//     never sees the document itself.
//
//   notarize prove <document> <receipt.json>
//     Offline, with no server: checks that the receipt proves this exact
//     document was recorded in the ledger of the service whose certificate
//     is CAIRN_SERVICE_CERT. Exit 0 if it does, 1 if it does not.
//
// Connection settings come from CAIRN_ENDPOINT, CAIRN_CERT, CAIRN_KEY and
// CAIRN_SERVICE_CERT (see example_util.h and docs/sdk.md).
#include <iostream>
#include <string>

#include "cairn/client/client.h"
#include "cairn/client/verify.h"
#include "example_util.h"

namespace {

int Stamp(const std::string& document_path, const std::string& receipt_path) {
  const std::string document = example::ReadFileOrExit(document_path);
  const std::string digest = cairn::client::ClaimsDigest(document);  // SHA-256(document)
  auto client = example::ConnectOrExit();

  cairn::client::AppendOptions options;
  options.claims_digest = digest;
  const std::string record =
      R"({"document":")" + document_path + R"(","sha256":")" + example::Hex(digest) + R"("})";
  auto appended = client->Append("notary", record, options);
  if (!appended.ok()) {
    std::cerr << "append failed: " << appended.status() << "\n";
    return 1;
  }

  cairn::client::ReceiptOptions receipt_options;
  receipt_options.wait = true;  // until a signature transaction covers it
  receipt_options.expect.claims_digest = digest;
  auto receipt = client->GetReceipt(appended->txid, receipt_options);
  if (!receipt.ok()) {
    std::cerr << "no receipt for " << appended->txid << ": " << receipt.status() << "\n";
    return 1;
  }
  if (absl::Status s = cairn::client::WriteReceiptFile(receipt_path, *receipt); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  std::cout << "notarized " << document_path << " in transaction " << appended->txid
            << "; receipt saved to " << receipt_path << "\n";
  return 0;
}

int Prove(const std::string& document_path, const std::string& receipt_path) {
  const std::string document = example::ReadFileOrExit(document_path);
  const std::string service_cert = example::ReadFileOrExit(example::Env("CAIRN_SERVICE_CERT"));
  auto receipt = cairn::client::ReadReceiptFile(receipt_path);
  if (!receipt.ok()) {
    std::cerr << receipt.status() << "\n";
    return 2;
  }
  cairn::client::ReceiptExpectations expect;
  expect.claims_digest = cairn::client::ClaimsDigest(document);
  absl::Status verified = cairn::client::VerifyReceipt(*receipt, service_cert, expect);
  if (!verified.ok()) {
    std::cout << "INVALID: " << verified.message() << "\n";
    return 1;
  }
  std::cout << "VALID: " << document_path << " was notarized in transaction "
            << receipt->leaf().txid() << " (ledger timestamp "
            << receipt->leaf().timestamp_unix_ms() << " ms since the epoch)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::string(argv[1]) != "stamp" && std::string(argv[1]) != "prove")) {
    std::cerr << "usage: notarize stamp|prove <document> <receipt.json>\n";
    return 2;
  }
  return std::string(argv[1]) == "stamp" ? Stamp(argv[2], argv[3]) : Prove(argv[2], argv[3]);
}
