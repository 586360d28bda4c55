// Retry policy arithmetic and status classification (see retry.h).
#include "retry.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cairn/client/errors.h"
#include "error_info.h"

namespace cairn::client::internal {
namespace {

// What gRPC says when an RPC failed before it was put on any connection:
// the channel could not connect (or resolve) and failed the call instead of
// sending it (gRPC 1.5x load-balancing pickers).
constexpr absl::string_view kNeverSent[] = {
    "failed to connect to all addresses",
    "connections to all backends failing",
    "DNS resolution failed",
    "empty address list",
};

constexpr absl::string_view kReceivedTooLarge = "Received message larger than max";
constexpr absl::string_view kSentTooLarge = "Sent message larger than max";

bool IsMessageSize(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted && !ErrorInfoOf(status) &&
         (absl::StrContains(status.message(), kReceivedTooLarge) ||
          absl::StrContains(status.message(), kSentTooLarge));
}

// The two numbers of gRPC's "... larger than max (SIZE vs. LIMIT)".
bool ParseSizes(absl::string_view message, uint64_t* size, uint64_t* limit) {
  const size_t open = message.find('(');
  const size_t vs = message.find(" vs. ", open == absl::string_view::npos ? 0 : open);
  const size_t close = message.find(')', vs == absl::string_view::npos ? 0 : vs);
  if (open == absl::string_view::npos || vs == absl::string_view::npos ||
      close == absl::string_view::npos) {
    return false;
  }
  return absl::SimpleAtoi(message.substr(open + 1, vs - open - 1), size) &&
         absl::SimpleAtoi(message.substr(vs + 5, close - vs - 5), limit);
}

// No reason the SDK knows: the code decides, as before reasons existed.
RetryVerdict ClassifyByCode(const absl::Status& status, Repeatable repeatable, bool hinted) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      if (hinted) return RetryVerdict::kRedirect;  // a node refused, naming the leader
      // A broken connection may have delivered a governance change.
      return repeatable == Repeatable::kYes || !MayHaveBeenActedOn(status) ? RetryVerdict::kBackOff
                                                                           : RetryVerdict::kGiveUp;
    case absl::StatusCode::kFailedPrecondition:
      // Not the leader, said with a hint: the request itself was fine.
      return hinted ? RetryVerdict::kRedirect : RetryVerdict::kGiveUp;
    case absl::StatusCode::kResourceExhausted:
      // gRPC refusing an oversized message refuses it every time.
      return IsMessageSize(status) ? RetryVerdict::kGiveUp : RetryVerdict::kBackOffHere;
    case absl::StatusCode::kDeadlineExceeded:
      // One attempt ran out of time (the caller checks the call's own
      // deadline); a governance change may have been applied regardless.
      return repeatable == Repeatable::kYes ? RetryVerdict::kBackOff : RetryVerdict::kGiveUp;
    default:
      return RetryVerdict::kGiveUp;
  }
}

}  // namespace

RetryVerdict Classify(const absl::Status& status, Repeatable repeatable, bool hinted) {
  switch (ReasonOf(status)) {
    case ErrorReason::kNotLeader:
    case ErrorReason::kNoLeader:
    case ErrorReason::kLostToLeaderChange:
    case ErrorReason::kShuttingDown:
    case ErrorReason::kNotYetAvailable:
      return hinted ? RetryVerdict::kRedirect : RetryVerdict::kBackOff;
    case ErrorReason::kBackpressure:
      return RetryVerdict::kBackOffHere;
    case ErrorReason::kOutcomeUnknown:
      return repeatable == Repeatable::kYes ? RetryVerdict::kBackOff : RetryVerdict::kGiveUp;
    case ErrorReason::kNotGeoDurable:  // written: repeating it would not make it archived sooner
    case ErrorReason::kInvalidRequest:
    case ErrorReason::kLimitExceeded:
    case ErrorReason::kIdempotencyKeyReused:
    case ErrorReason::kUnauthenticated:
    case ErrorReason::kPermissionDenied:
    case ErrorReason::kNotFound:
    case ErrorReason::kFailedPrecondition:
    case ErrorReason::kInternal:
      return RetryVerdict::kGiveUp;
    case ErrorReason::kUnknown:
      break;
  }
  if (ErrorInfoOf(status) && repeatable != Repeatable::kYes) {
    // A reason from a newer service that this SDK cannot read: its outcome
    // is unknown here, so only a call safe to repeat goes by the code.
    return RetryVerdict::kGiveUp;
  }
  return ClassifyByCode(status, repeatable, hinted);
}

bool MayHaveBeenActedOn(const absl::Status& status) {
  if (status.ok()) return true;
  if (ErrorInfoOf(status)) return MayHaveBeenWritten(status);
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return std::none_of(std::begin(kNeverSent), std::end(kNeverSent), [&](absl::string_view s) {
        return absl::StrContains(status.message(), s);
      });
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;  // a refusal: the node (or gRPC, for oversized messages) did nothing
  }
}

std::optional<absl::Status> ServerCertificateError(const absl::Status& status,
                                                   absl::string_view address) {
  if (ErrorInfoOf(status) || !absl::StrContains(status.message(), "certificate verify failed")) {
    return std::nullopt;
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "the node at ", address,
      " presented a certificate the pinned service certificate did not issue: the service "
      "certificate given (--service-cert, CAIRN_SERVICE_CERT) is another service's, or ",
      address, " is not a node of this service (TLS: certificate verify failed)"));
}

std::optional<absl::Status> MessageSizeError(const absl::Status& status, absl::string_view method,
                                             size_t request_bytes) {
  if (!IsMessageSize(status)) return std::nullopt;
  uint64_t size = request_bytes;
  uint64_t limit = 0;
  const bool parsed = ParseSizes(status.message(), &size, &limit);
  const std::string at_most = parsed ? absl::StrCat("at most ", limit, " bytes") : "less";
  const bool sent = absl::StrContains(status.message(), kSentTooLarge);
  std::string message;
  if (sent) {
    message = absl::StrCat(method, ": the request is ", request_bytes,
                           " bytes; this client sends messages of ", at_most,
                           ", so it was not sent: send less");
  } else if (!parsed || size == request_bytes) {
    message = absl::StrCat(method, ": the request is ", request_bytes,
                           " bytes; the node accepts messages of ", at_most,
                           ", so nothing was written: send less (a node's entry_bytes_max "
                           "bounds an append's contents)");
  } else {
    message =
        absl::StrCat(method, ": the answer is ", size, " bytes; this client accepts messages of ",
                     at_most, ": ask for less (e.g. a smaller page_size)");
  }
  absl::StrAppend(&message, " (gRPC: ", status.message(), ")");
  absl::Status out = WithReason(
      absl::ResourceExhaustedError(message), ErrorReason::kLimitExceeded,
      {{std::string(kLimitKey), "grpc_message_bytes_max"}, {"message_bytes", absl::StrCat(size)}});
  if (parsed) out = WithMetadata(out, "message_bytes_max", absl::StrCat(limit));
  return out;
}

int64_t BackoffMs(const RetryPolicy& policy, int retry) {
  double delay = static_cast<double>(policy.initial_backoff_ms);
  for (int i = 0; i < retry && delay < static_cast<double>(policy.max_backoff_ms); ++i) {
    delay *= policy.backoff_multiplier;
  }
  return std::min(policy.max_backoff_ms, static_cast<int64_t>(std::llround(delay)));
}

int64_t JitteredMs(const RetryPolicy& policy, int64_t backoff_ms, double unit) {
  const double factor = 1.0 - policy.jitter * std::clamp(unit, 0.0, 1.0);
  return std::max<int64_t>(0, static_cast<int64_t>(std::llround(backoff_ms * factor)));
}

absl::Status ValidatePolicy(const RetryPolicy& p) {
  auto bad = [](absl::string_view field, auto value, absl::string_view rule) {
    return WithReason(
        absl::InvalidArgumentError(absl::StrCat("retry.", field, " is ", value, "; ", rule)),
        ErrorReason::kInvalidRequest, {{std::string(kFieldKey), absl::StrCat("retry.", field)}});
  };
  if (p.initial_backoff_ms < 0 || p.initial_backoff_ms > 60000) {
    return bad("initial_backoff_ms", p.initial_backoff_ms, "must be 0 to 60000");
  }
  if (p.max_backoff_ms < p.initial_backoff_ms || p.max_backoff_ms > 600000) {
    return bad("max_backoff_ms", p.max_backoff_ms,
               "must be at least initial_backoff_ms and at most 600000");
  }
  if (!(p.backoff_multiplier >= 1.0 && p.backoff_multiplier <= 10.0)) {
    return bad("backoff_multiplier", p.backoff_multiplier, "must be 1 to 10");
  }
  if (!(p.jitter >= 0.0 && p.jitter <= 1.0)) return bad("jitter", p.jitter, "must be 0 to 1");
  if (p.total_timeout_ms < 1 || p.total_timeout_ms > 86400000) {
    return bad("total_timeout_ms", p.total_timeout_ms, "must be 1 to 86400000");
  }
  if (p.redirects_without_backoff_max < 0 || p.redirects_without_backoff_max > 100) {
    return bad("redirects_without_backoff_max", p.redirects_without_backoff_max,
               "must be 0 to 100");
  }
  return absl::OkStatus();
}

absl::Status FromGrpc(const grpc::Status& status) {
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (status.ok() || status.error_details().empty()) return out;
  v1::RpcStatus details;
  if (!details.ParseFromString(status.error_details())) return out;  // not ours: no reason
  for (const auto& any : details.details()) {
    if (any.type_url() != kErrorInfoTypeUrl) continue;
    v1::ErrorInfo info;
    // Only Cairn's own reasons: another domain's ErrorInfo (a proxy's)
    // would be read as a Cairn reason of the same name.
    if (!info.ParseFromString(any.value()) || info.domain() != kErrorDomain) continue;
    out.SetPayload(kErrorInfoTypeUrl, absl::Cord(any.value()));
    break;
  }
  return out;
}

bool PlausibleAddress(absl::string_view address) {
  if (address.empty() || address.size() > 256) return false;
  if (address.find(':') == absl::string_view::npos) return false;
  return std::all_of(address.begin(), address.end(), [](char c) { return c > ' ' && c < 127; });
}

}  // namespace cairn::client::internal
