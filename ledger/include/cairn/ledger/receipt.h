// Receipts: everything needed to verify, offline and given only the service
// certificate, that a transaction is in the ledger (cairn.v1.Receipt): its
// leaf components, an RFC 9162 inclusion proof, the signed checkpoint the
// proof leads to, and the signing node's certificate. Their JSON form is in
// receipt_json.h and docs/formats.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::ledger {

inline constexpr uint32_t kReceiptVersion = 1;

// The receipt of `leaf` (at leaf index txid.index - 1) under
// `signed_checkpoint`, whose tree_size must cover it, with the inclusion
// proof generated from `tree`. InvalidArgument if the leaf is malformed or
// not covered; errors from the tree otherwise.
absl::StatusOr<v1::Receipt> BuildReceipt(const v1::LeafComponents& leaf, const MerkleTree& tree,
                                         const v1::SignedCheckpoint& signed_checkpoint,
                                         absl::string_view node_certificate_pem);

// What the verifier knows besides the receipt, if anything.
struct ReceiptExpectations {
  // The transaction's contents: SHA-256(contents) must be the leaf's
  // contents_digest; for a private entry (leaf kind PRIVATE_USER)
  // HMAC-SHA256 keyed with `contents_salt` must be, so both are needed.
  std::optional<std::string> contents = std::nullopt;
  // The claims digest the application expects (empty: none). Must equal the leaf's.
  std::optional<std::string> claims_digest = std::nullopt;
  // A private entry's salt (32 bytes), given to its readers with the contents.
  std::optional<std::string> contents_salt = std::nullopt;
};

// Verifies `receipt` against `service_cert` (the pinned service identity),
// checking in order:
//   1. "node certificate": it parses and chains to `service_cert`, valid at
//      the checkpoint's timestamp;
//   2. "leaf": the components encode (docs/formats.md), leaf_index is the
//      txid's index - 1, and `expect` (contents, claims) matches them;
//   3. "inclusion proof": hashes are 32 bytes, the leaf is below the
//      checkpoint's tree size, and the proof leads to the checkpoint's root;
//   4. "checkpoint signature": the checkpoint names this service and is
//      signed by the node certificate's key.
// OK when all pass; otherwise InvalidArgument whose message starts with
// "<check>: " and says what failed. ("receipt: " when the version is unknown.)
absl::Status VerifyReceipt(const v1::Receipt& receipt, const Certificate& service_cert,
                           const ReceiptExpectations& expect = {});

}  // namespace cairn::ledger
