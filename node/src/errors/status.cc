// Error reasons and the gRPC status mapping (see status.h).
#include "errors/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cairn::node {
namespace {

constexpr char kErrorInfoTypeUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kDomain[] = "cairn.v1";
constexpr absl::string_view kPrefix = "ERROR_REASON_";

std::string ReasonName(v1::ErrorReason reason) {
  std::string name = v1::ErrorReason_Name(reason);
  if (absl::StartsWith(name, kPrefix)) name.erase(0, kPrefix.size());
  return name;
}

v1::ErrorReason DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return v1::ERROR_REASON_INVALID_REQUEST;
    case absl::StatusCode::kResourceExhausted:
      return v1::ERROR_REASON_BACKPRESSURE;
    case absl::StatusCode::kUnauthenticated:
      return v1::ERROR_REASON_UNAUTHENTICATED;
    case absl::StatusCode::kPermissionDenied:
      return v1::ERROR_REASON_PERMISSION_DENIED;
    case absl::StatusCode::kNotFound:
      return v1::ERROR_REASON_NOT_FOUND;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return v1::ERROR_REASON_FAILED_PRECONDITION;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
      return v1::ERROR_REASON_OUTCOME_UNKNOWN;
    default:
      return v1::ERROR_REASON_INTERNAL;
  }
}

}  // namespace

absl::Status WithReason(absl::Status status, v1::ErrorReason reason, ReasonMetadata metadata) {
  if (status.ok()) return status;
  v1::ErrorInfo info;
  info.set_reason(ReasonName(reason));
  info.set_domain(kDomain);
  for (const auto& [k, v] : metadata) (*info.mutable_metadata())[k] = v;
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

std::optional<v1::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);
  if (!payload) return std::nullopt;
  v1::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

absl::Status AboutEntry(const absl::Status& status, size_t entry_index) {
  if (status.ok()) return status;
  const std::string prefix = absl::StrCat("entries[", entry_index, "]");
  v1::ErrorInfo info = ReasonOrDefault(status);
  auto& metadata = *info.mutable_metadata();
  if (auto field = metadata.find("field"); field != metadata.end()) {
    field->second = absl::StrCat(prefix, ".", field->second);
  }
  metadata["entry_index"] = std::to_string(entry_index);
  absl::Status named(status.code(), absl::StrCat(prefix, ": ", status.message()));
  named.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return named;
}

v1::ErrorInfo ReasonOrDefault(const absl::Status& status) {
  if (auto info = ErrorInfoOf(status)) return *info;
  v1::ErrorInfo info;
  info.set_reason(ReasonName(DefaultReason(status.code())));
  info.set_domain(kDomain);
  return info;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  v1::RpcStatus details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(std::string(status.message()));
  auto* any = details.add_details();
  any->set_type_url(kErrorInfoTypeUrl);
  any->set_value(ReasonOrDefault(status).SerializeAsString());
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  v1::RpcStatus details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return out;
  }
  for (const auto& any : details.details()) {
    if (any.type_url() == kErrorInfoTypeUrl) {
      out.SetPayload(kErrorInfoTypeUrl, absl::Cord(any.value()));
    }
  }
  return out;
}

}  // namespace cairn::node
