// ADAPTER (remove after the ledger branch is merged): the ledger/ functions the
// client needs for receipts and checkpoints. They live in
// cairn/ledger/checkpoint.h, receipt.h and receipt_json.h, which the ledger
// engineer is adding in parallel. When those headers are present (checked
// with __has_include) every function here forwards to them; until then
// ledger_adapter.cc carries a fallback built on the primitives already on
// main (EncodeLeaf/EncodeCheckpoint, VerifyInclusion/VerifyConsistency,
// Certificate::VerifyIssuedBy/VerifySignature) that performs the same checks
// in the same order. Once merged, callers can use the ledger functions
// directly and this file and ledger_adapter.cc can go.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/identity.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::client::internal {

// True when the ledger's own implementations are compiled in.
bool UsingLedgerImplementation();

// ledger::VerifySignedCheckpoint: node_cert chains to service_cert at the
// checkpoint's time, the service id matches, the signature verifies, the
// signer id is the certificate's.
absl::Status VerifySignedCheckpoint(const v1::SignedCheckpoint& signed_checkpoint,
                                    const ledger::Certificate& node_cert,
                                    const ledger::Certificate& service_cert);

// ledger::VerifyCheckpointExtends: `later` extends `earlier` by `proof`.
// InvalidArgument saying "rollback" or "fork" otherwise.
absl::Status VerifyCheckpointExtends(const v1::Checkpoint& earlier, const v1::Checkpoint& later,
                                     const v1::ConsistencyProof& proof);

// ledger::VerifyReceipt.
absl::Status VerifyReceipt(const v1::Receipt& receipt, const ledger::Certificate& service_cert,
                           const std::optional<std::string>& contents,
                           const std::optional<std::string>& claims_digest);

// ledger::ReceiptToJson / ParseReceipt (JSON or binary).
std::string ReceiptToJson(const v1::Receipt& receipt);
absl::StatusOr<v1::Receipt> ParseReceipt(absl::string_view bytes);

}  // namespace cairn::client::internal
