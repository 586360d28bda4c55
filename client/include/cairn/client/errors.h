// Typed outcomes of failed calls: what the SDK's errors say a program should
// do next, read from the machine-readable reason every Cairn error carries
// (proto/cairn/v1/errors.proto; docs/api.md has the table). The SDK keeps a
// node's reason and metadata on the absl::Status it returns, and attaches one
// itself to the errors it decides on its own, so a program branches on
// ReasonOf() and DefinitelyNotWritten() instead of parsing messages.
//
// For writes the reasons split in two. "Not written" (NOT_LEADER, NO_LEADER,
// LOST_TO_LEADER_CHANGE, BACKPRESSURE, SHUTTING_DOWN and every "fix the
// request" reason): nothing was written, a retry is safe even with a new
// idempotency key. "May have been written" (OUTCOME_UNKNOWN, and any error
// without a reason the SDK knows): retry only with the same idempotency key
// (the SDK adds it to the metadata of an Append error), or look the txid up
// with GetTransactionStatus when the metadata names one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cairn::client {

// Mirrors cairn.v1.ErrorReason (ErrorInfo.reason is the name ReasonName gives).
enum class ErrorReason {
  // The error carries no reason the SDK knows: a failure the transport (not
  // a node) reported, e.g. no node could be reached, a reason from a newer
  // service, or an error of the SDK's own checks (DataLoss for a ledger fork).
  kUnknown = 0,
  // Not written; retrying is safe.
  kNotLeader,           // metadata leader_address, leader_id when known
  kNoLeader,            // an election is in progress, or no quorum
  kLostToLeaderChange,  // metadata txid: the position it had; it will never commit
  kBackpressure,        // a queue is at its bound (metadata limit); back off
  kShuttingDown,        // the node (or this client) is shutting down
  // Not written; fix the request or the state first.
  kInvalidRequest,        // metadata field
  kLimitExceeded,         // metadata limit
  kIdempotencyKeyReused,  // metadata txid: the append that holds the key
  kUnauthenticated,
  kPermissionDenied,
  kNotFound,
  kFailedPrecondition,
  // May have been written.
  kOutcomeUnknown,  // metadata txid when a log position was assigned
  // Written (committed, metadata txid), but not yet archived by a
  // geo-replica before the deadline (an append with geo_durable).
  kNotGeoDurable,
  // Reads.
  kNotYetAvailable,
  kInternal,
};

// The metadata keys the service and the SDK use.
inline constexpr std::string_view kTxidKey = "txid";
inline constexpr std::string_view kLeaderAddressKey = "leader_address";
inline constexpr std::string_view kLeaderIdKey = "leader_id";
inline constexpr std::string_view kFieldKey = "field";
inline constexpr std::string_view kLimitKey = "limit";
// Added by the SDK to an Append error whose reason says it may have been
// written (OUTCOME_UNKNOWN, INTERNAL): retry with this key.
inline constexpr std::string_view kIdempotencyKeyKey = "idempotency_key";

// The wire name, e.g. "NOT_LEADER"; "UNKNOWN" for kUnknown.
std::string_view ReasonName(ErrorReason reason);
// The reason with wire name `name`; kUnknown for a name this SDK does not know.
ErrorReason ReasonFromName(std::string_view name);

// The reason `status` carries; kUnknown for OK and for an error without one.
ErrorReason ReasonOf(const absl::Status& status);

// The value of metadata `key` (e.g. kTxidKey) in `status`'s reason, if any.
std::optional<std::string> ErrorMetadata(const absl::Status& status, std::string_view key);

// Everything the reason says, as sent.
struct ErrorDetails {
  ErrorReason reason = ErrorReason::kUnknown;
  // As sent: may name a reason this SDK does not know (then reason is kUnknown).
  std::string reason_name;
  std::map<std::string, std::string> metadata;
};
// nullopt when `status` is OK or carries no Cairn reason.
std::optional<ErrorDetails> DetailsOf(const absl::Status& status);

// True when `status` is an error whose reason says the write was not made:
// NOT_LEADER, NO_LEADER, LOST_TO_LEADER_CHANGE, BACKPRESSURE, SHUTTING_DOWN,
// INVALID_REQUEST, LIMIT_EXCEEDED, IDEMPOTENCY_KEY_REUSED, UNAUTHENTICATED,
// PERMISSION_DENIED, NOT_FOUND, FAILED_PRECONDITION. Retrying cannot write it
// twice, with any idempotency key. False for OK.
bool DefinitelyNotWritten(const absl::Status& status);

// True for every error that is not DefinitelyNotWritten: OUTCOME_UNKNOWN,
// an error without a reason (kUnknown: the SDK cannot tell, so it does not
// claim "not written"), and the read reasons. The write may have been made:
// retry only with the same idempotency key, or look its txid up. False for
// OK. For an error, exactly one of the two is true.
bool MayHaveBeenWritten(const absl::Status& status);

}  // namespace cairn::client
