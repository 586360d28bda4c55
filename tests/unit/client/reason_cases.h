// The error reasons of proto/cairn/v1/errors.proto as the client tests use
// them: for each, the gRPC code a node sends it with, the metadata it
// carries, and what the SDK's retry loop must do with it. The SDK tests
// (reasons_test.cc) and the cairnctl tests (cairnctl_errors_test.cc) walk
// the same table, so a reason added to the proto and not here fails
// ReasonCasesTest.CoverEveryProtoReason.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "cairn/client/errors.h"
#include "cairn/v1/errors.pb.h"
#include "fake_server.h"

namespace cairn::testing {

// What the retry loop does with an answer carrying the reason.
enum class Expect {
  kRetry,              // backs off and tries again (or follows a leader it names)
  kRetryIfRepeatable,  // retried for appends and reads; final for other governance changes
  kGiveUp,             // final at once
};

struct ReasonCase {
  v1::ErrorReason proto;
  client::ErrorReason reason;
  grpc::StatusCode code;  // what a node sends it with
  std::vector<std::pair<std::string, std::string>> metadata;
  Expect expect;
  bool not_written;  // DefinitelyNotWritten
  std::string name() const { return std::string(client::ReasonName(reason)); }

  // A Fault for `method` answering with this reason.
  Fault AsFault(const std::string& method) const {
    Fault f;
    f.code = code;
    f.reason = proto;
    f.metadata = metadata;
    f.method = method;
    f.message = "refused by the fake: " + name();
    return f;
  }
};

inline const std::vector<ReasonCase>& ReasonCases() {
  using C = grpc::StatusCode;
  using R = client::ErrorReason;
  static const auto* cases = new std::vector<ReasonCase>{
      // NOT_LEADER naming no address: retried on the next node (a named one
      // is followed at once; see the redirect tests).
      {v1::ERROR_REASON_NOT_LEADER,
       R::kNotLeader,
       C::UNAVAILABLE,
       {{"leader_id", "2"}},
       Expect::kRetry,
       true},
      {v1::ERROR_REASON_NO_LEADER, R::kNoLeader, C::UNAVAILABLE, {}, Expect::kRetry, true},
      {v1::ERROR_REASON_LOST_TO_LEADER_CHANGE,
       R::kLostToLeaderChange,
       C::UNAVAILABLE,
       {{"txid", "1.3"}},
       Expect::kRetry,
       true},
      {v1::ERROR_REASON_BACKPRESSURE,
       R::kBackpressure,
       C::RESOURCE_EXHAUSTED,
       {{"limit", "inbox_ops_max"}},
       Expect::kRetry,
       true},
      {v1::ERROR_REASON_SHUTTING_DOWN, R::kShuttingDown, C::UNAVAILABLE, {}, Expect::kRetry, true},
      {v1::ERROR_REASON_INVALID_REQUEST,
       R::kInvalidRequest,
       C::INVALID_ARGUMENT,
       {{"field", "collection_id"}},
       Expect::kGiveUp,
       true},
      {v1::ERROR_REASON_LIMIT_EXCEEDED,
       R::kLimitExceeded,
       C::INVALID_ARGUMENT,
       {{"limit", "entry_bytes_max"}},
       Expect::kGiveUp,
       true},
      {v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED,
       R::kIdempotencyKeyReused,
       C::INVALID_ARGUMENT,
       {{"txid", "1.2"}},
       Expect::kGiveUp,
       true},
      {v1::ERROR_REASON_UNAUTHENTICATED,
       R::kUnauthenticated,
       C::UNAUTHENTICATED,
       {},
       Expect::kGiveUp,
       true},
      {v1::ERROR_REASON_PERMISSION_DENIED,
       R::kPermissionDenied,
       C::PERMISSION_DENIED,
       {},
       Expect::kGiveUp,
       true},
      {v1::ERROR_REASON_NOT_FOUND, R::kNotFound, C::NOT_FOUND, {}, Expect::kGiveUp, true},
      {v1::ERROR_REASON_FAILED_PRECONDITION,
       R::kFailedPrecondition,
       C::FAILED_PRECONDITION,
       {},
       Expect::kGiveUp,
       true},
      {v1::ERROR_REASON_OUTCOME_UNKNOWN,
       R::kOutcomeUnknown,
       C::DEADLINE_EXCEEDED,
       {{"txid", "1.7"}},
       Expect::kRetryIfRepeatable,
       false},
      {v1::ERROR_REASON_NOT_GEO_DURABLE,
       R::kNotGeoDurable,
       C::DEADLINE_EXCEEDED,
       {{"txid", "1.8"}},
       Expect::kGiveUp,
       false},
      {v1::ERROR_REASON_NOT_YET_AVAILABLE,
       R::kNotYetAvailable,
       C::UNAVAILABLE,
       {},
       Expect::kRetry,
       false},
      {v1::ERROR_REASON_INTERNAL, R::kInternal, C::INTERNAL, {}, Expect::kGiveUp, false},
  };
  return *cases;
}

}  // namespace cairn::testing
