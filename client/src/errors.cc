// Error reasons on absl::Status (see cairn/client/errors.h and error_info.h).
#include "cairn/client/errors.h"

#include <array>

#include "absl/strings/cord.h"
#include "error_info.h"

namespace cairn::client {
namespace {

struct NamedReason {
  ErrorReason reason;
  std::string_view name;
};

// Every reason but kUnknown, with its wire name (the proto enum value's name
// without "ERROR_REASON_"); a test checks it against the proto enum.
constexpr std::array<NamedReason, 16> kReasons = {{
    {ErrorReason::kNotLeader, "NOT_LEADER"},
    {ErrorReason::kNoLeader, "NO_LEADER"},
    {ErrorReason::kLostToLeaderChange, "LOST_TO_LEADER_CHANGE"},
    {ErrorReason::kBackpressure, "BACKPRESSURE"},
    {ErrorReason::kShuttingDown, "SHUTTING_DOWN"},
    {ErrorReason::kInvalidRequest, "INVALID_REQUEST"},
    {ErrorReason::kLimitExceeded, "LIMIT_EXCEEDED"},
    {ErrorReason::kIdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED"},
    {ErrorReason::kUnauthenticated, "UNAUTHENTICATED"},
    {ErrorReason::kPermissionDenied, "PERMISSION_DENIED"},
    {ErrorReason::kNotFound, "NOT_FOUND"},
    {ErrorReason::kFailedPrecondition, "FAILED_PRECONDITION"},
    {ErrorReason::kOutcomeUnknown, "OUTCOME_UNKNOWN"},
    {ErrorReason::kNotGeoDurable, "NOT_GEO_DURABLE"},
    {ErrorReason::kNotYetAvailable, "NOT_YET_AVAILABLE"},
    {ErrorReason::kInternal, "INTERNAL"},
}};

}  // namespace

std::string_view ReasonName(ErrorReason reason) {
  for (const NamedReason& r : kReasons) {
    if (r.reason == reason) return r.name;
  }
  return "UNKNOWN";
}

ErrorReason ReasonFromName(std::string_view name) {
  for (const NamedReason& r : kReasons) {
    if (r.name == name) return r.reason;
  }
  return ErrorReason::kUnknown;
}

ErrorReason ReasonOf(const absl::Status& status) {
  std::optional<v1::ErrorInfo> info = internal::ErrorInfoOf(status);
  return info ? ReasonFromName(info->reason()) : ErrorReason::kUnknown;
}

std::optional<std::string> ErrorMetadata(const absl::Status& status, std::string_view key) {
  std::optional<v1::ErrorInfo> info = internal::ErrorInfoOf(status);
  if (!info) return std::nullopt;
  auto it = info->metadata().find(std::string(key));
  if (it == info->metadata().end()) return std::nullopt;
  return it->second;
}

std::optional<ErrorDetails> DetailsOf(const absl::Status& status) {
  std::optional<v1::ErrorInfo> info = internal::ErrorInfoOf(status);
  if (!info) return std::nullopt;
  ErrorDetails out;
  out.reason = ReasonFromName(info->reason());
  out.reason_name = info->reason();
  out.metadata.insert(info->metadata().begin(), info->metadata().end());
  return out;
}

bool DefinitelyNotWritten(const absl::Status& status) {
  if (status.ok()) return false;
  switch (ReasonOf(status)) {
    case ErrorReason::kNotLeader:
    case ErrorReason::kNoLeader:
    case ErrorReason::kLostToLeaderChange:
    case ErrorReason::kBackpressure:
    case ErrorReason::kShuttingDown:
    case ErrorReason::kInvalidRequest:
    case ErrorReason::kLimitExceeded:
    case ErrorReason::kIdempotencyKeyReused:
    case ErrorReason::kUnauthenticated:
    case ErrorReason::kPermissionDenied:
    case ErrorReason::kNotFound:
    case ErrorReason::kFailedPrecondition:
      return true;
    case ErrorReason::kUnknown:
    case ErrorReason::kOutcomeUnknown:
    case ErrorReason::kNotGeoDurable:
    case ErrorReason::kNotYetAvailable:
    case ErrorReason::kInternal:
      return false;
  }
  return false;  // a value outside the enum: claim nothing
}

bool MayHaveBeenWritten(const absl::Status& status) {
  return !status.ok() && !DefinitelyNotWritten(status);
}

namespace internal {

std::optional<v1::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);  // absl::optional
  if (!payload) return std::nullopt;
  v1::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload)) || info.domain() != kErrorDomain) {
    return std::nullopt;
  }
  return info;
}

absl::Status WithReason(absl::Status status, ErrorReason reason, Metadata metadata) {
  if (status.ok()) return status;
  if (reason == ErrorReason::kUnknown) {
    status.ErasePayload(kErrorInfoTypeUrl);
    return status;
  }
  v1::ErrorInfo info;
  info.set_reason(std::string(ReasonName(reason)));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [k, v] : metadata) (*info.mutable_metadata())[k] = v;
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status WithMetadata(absl::Status status, std::string_view key, std::string_view value) {
  std::optional<v1::ErrorInfo> info = ErrorInfoOf(status);
  if (!info) return status;
  (*info->mutable_metadata())[std::string(key)] = std::string(value);
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info->SerializeAsString()));
  return status;
}

absl::Status Rewrap(const absl::Status& status, absl::StatusCode code, absl::string_view message) {
  absl::Status out(code, message);
  if (auto payload = status.GetPayload(kErrorInfoTypeUrl)) {
    out.SetPayload(kErrorInfoTypeUrl, *payload);
  }
  return out;
}

}  // namespace internal
}  // namespace cairn::client
