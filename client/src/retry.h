// Retry decisions for one logical call: which answers are worth another
// attempt, how long to wait before it, and how a gRPC status becomes an
// absl::Status (keeping the node's error reason). Pure functions, so the
// policy is unit-tested without a server.
//
// Decisions follow the reason the node attached (cairn/client/errors.h):
// a leader named (NOT_LEADER) is followed at once; NO_LEADER,
// LOST_TO_LEADER_CHANGE, SHUTTING_DOWN and NOT_YET_AVAILABLE are retried on
// the next node after a backoff, BACKPRESSURE on the same node; an unknown
// outcome is retried only when repeating the call cannot apply it twice;
// everything else is final. Answers without a reason (gRPC's own, or a node
// from before reasons) are judged by their code.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/client/options.h"

namespace cairn::client::internal {

// The trailing-metadata key a node that is not the leader sets to the
// leader's client address (proto/cairn/v1/ledger.proto).
inline constexpr absl::string_view kLeaderTrailer = "cairn-leader";

// Whether repeating a call can change its outcome. Appends are made safe by
// their idempotency key; a governance change whose outcome is unknown may
// have been applied, so it is only retried when the node refused it outright.
enum class Repeatable {
  kYes,        // reads, Append (idempotency key), PutUser
  kIfRefused,  // other governance changes: only "not written" answers are retried
};

// What to do after a failed attempt.
enum class RetryVerdict {
  kGiveUp,
  kRedirect,     // another node is (or may be) the leader: try it at once
  kBackOff,      // wait, then try the next node
  kBackOffHere,  // wait, then try the same node (backpressure)
};

// `status` is the attempt's answer as FromGrpc made it; `hinted` is true
// when it named a usable leader other than the node that answered (the
// leader_address metadata or the cairn-leader trailer).
RetryVerdict Classify(const absl::Status& status, Repeatable repeatable, bool hinted);

// Whether the attempt that ended with `status` may have been acted on by a
// node: false only when a node said it did nothing (a "not written" reason,
// or a refusal code from a node without reasons) or the transport says the
// request never left the client (no connection could be made).
bool MayHaveBeenActedOn(const absl::Status& status);

// gRPC's own "Received/Sent message larger than max" (RESOURCE_EXHAUSTED
// without a Cairn reason) as a final LIMIT_EXCEEDED error naming the sizes;
// nullopt for any other status. `request_bytes` is the serialized request's
// size: when the rejected message is that big, it was the request.
std::optional<absl::Status> MessageSizeError(const absl::Status& status, absl::string_view method,
                                             size_t request_bytes);

// gRPC's "certificate verify failed" at connection (the node's certificate
// does not chain to the pinned service certificate) as a final
// UNAUTHENTICATED error that says so in one line; nullopt otherwise.
// Retrying cannot help: the same certificate is presented every time.
std::optional<absl::Status> ServerCertificateError(const absl::Status& status,
                                                   absl::string_view address);

// The delay before retry number `retry` (0 for the first retry), before
// jitter: initial * multiplier^retry, capped at max_backoff_ms.
int64_t BackoffMs(const RetryPolicy& policy, int retry);
// Scales `backoff_ms` by a factor in [1 - jitter, 1]; `unit` is uniform in [0, 1).
int64_t JitteredMs(const RetryPolicy& policy, int64_t backoff_ms, double unit);

// Checks the policy's ranges; InvalidArgument naming the field.
absl::Status ValidatePolicy(const RetryPolicy& policy);

// The same code and message, and the Cairn ErrorInfo of the status details
// (if any) as the payload ReasonOf reads.
absl::Status FromGrpc(const grpc::Status& status);

// A "cairn-leader" value worth following: host:port, printable, bounded.
bool PlausibleAddress(absl::string_view address);

}  // namespace cairn::client::internal
