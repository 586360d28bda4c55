// Retry decisions for one logical call: which answers are worth another
// attempt, how long to wait before it, and how a gRPC status becomes an
// absl::Status. Pure functions, so the policy is unit-tested without a server.
#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/client/options.h"

namespace cairn::client::internal {

// The trailing-metadata key a node that is not the leader sets to the
// leader's client address (proto/cairn/v1/ledger.proto).
inline constexpr absl::string_view kLeaderTrailer = "cairn-leader";

// Whether repeating a call can change its outcome. Appends are made safe by
// their idempotency key; a governance change that timed out may have been
// applied, so it is only retried when the node refused it outright.
enum class Repeatable {
  kYes,        // reads, Append (idempotency key), PutUser
  kIfRefused,  // other governance changes: UNAVAILABLE / RESOURCE_EXHAUSTED only
};

// What to do after a failed attempt.
enum class RetryVerdict {
  kGiveUp,
  kRedirect,  // another node is (or may be) the leader: try it
  kBackOff,   // wait, then try again (the same node for RESOURCE_EXHAUSTED)
};

// `hinted` is true when the answer carried a usable cairn-leader trailer that
// names a node other than the one that answered.
RetryVerdict Classify(grpc::StatusCode code, Repeatable repeatable, bool hinted);

// The delay before retry number `retry` (0 for the first retry), before
// jitter: initial * multiplier^retry, capped at max_backoff_ms.
int64_t BackoffMs(const RetryPolicy& policy, int retry);
// Scales `backoff_ms` by a factor in [1 - jitter, 1]; `unit` is uniform in [0, 1).
int64_t JitteredMs(const RetryPolicy& policy, int64_t backoff_ms, double unit);

// Checks the policy's ranges; InvalidArgument naming the field.
absl::Status ValidatePolicy(const RetryPolicy& policy);

// The same code and message.
absl::Status FromGrpc(const grpc::Status& status);

// A "cairn-leader" value worth following: host:port, printable, bounded.
bool PlausibleAddress(absl::string_view address);

}  // namespace cairn::client::internal
