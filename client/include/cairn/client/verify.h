// Offline verification, with no server: receipts against the pinned service
// certificate (and, optionally, the contents or application claims they must
// prove), receipts to and from their JSON form, and claims digests. The same
// ledger/ code the node uses to build receipts checks them here.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::client {

// What a verifier knows about the transaction besides its receipt.
struct ReceiptExpectations {
  // The entry's contents: their SHA-256 must be the leaf's contents_digest
  // (in a private ledger, HMAC-SHA256 keyed with contents_salt must be).
  std::optional<std::string> contents = std::nullopt;
  // The claims digest the application expects ("" = none). Must equal the leaf's.
  std::optional<std::string> claims_digest = std::nullopt;
  // A private ledger's entry: the 32-byte salt GetEntry returns with its
  // contents (Entry.contents_salt). Required with contents for such an entry,
  // refused for any other. Last, so that positional initializers written
  // before it was added keep their meaning.
  std::optional<std::string> contents_salt = std::nullopt;
};

// The claims digest of application claims: SHA-256(claims), 32 bytes. Pass it
// as AppendOptions::claims_digest, and again as ReceiptExpectations::claims_digest.
std::string ClaimsDigest(absl::string_view claims);

// OK when `receipt` proves its transaction is in the ledger of the service
// whose certificate is `service_certificate_pem`: the node certificate chains
// to it, the leaf (and `expect`) match, the inclusion proof leads to the
// checkpoint's root, and the checkpoint is signed by the node. Otherwise
// InvalidArgument whose message names the failed check ("node certificate: ",
// "leaf: ", "inclusion proof: ", "checkpoint signature: ").
absl::Status VerifyReceipt(const v1::Receipt& receipt, absl::string_view service_certificate_pem,
                           const ReceiptExpectations& expect = {});

// The documented JSON form of a receipt (docs/formats.md, "Receipt JSON").
std::string ReceiptToJson(const v1::Receipt& receipt);
// A receipt from its JSON form or its binary protobuf serialization.
absl::StatusOr<v1::Receipt> ParseReceipt(absl::string_view bytes);

// Reads and parses a receipt file; writes one as JSON, replacing the file
// atomically (a unique temporary file, synced, renamed: readers and
// concurrent writers never see half a receipt).
absl::StatusOr<v1::Receipt> ReadReceiptFile(const std::string& path);
absl::Status WriteReceiptFile(const std::string& path, const v1::Receipt& receipt);

}  // namespace cairn::client
