// How the SDK reads and writes a Cairn error reason on an absl::Status: the
// serialized cairn.v1.ErrorInfo as a payload under the type URL
// "type.googleapis.com/google.rpc.ErrorInfo", exactly as the node keeps it
// (node/src/errors/status.h), so a status converted from gRPC and one the SDK makes
// itself look the same to ReasonOf (cairn/client/errors.h).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/client/errors.h"
#include "cairn/v1/errors.pb.h"

namespace cairn::client::internal {

inline constexpr absl::string_view kErrorInfoTypeUrl = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kErrorDomain = "cairn.v1";

using Metadata = std::initializer_list<std::pair<std::string, std::string>>;

// The Cairn ErrorInfo `status` carries (domain cairn.v1), if any.
std::optional<v1::ErrorInfo> ErrorInfoOf(const absl::Status& status);

// `status` with `reason` and `metadata` attached, replacing any reason it
// had; OK stays OK. kUnknown removes the reason.
absl::Status WithReason(absl::Status status, ErrorReason reason, Metadata metadata = {});

// `status` with metadata `key` set on the reason it carries; unchanged when it
// carries none (the SDK does not invent a reason to hold metadata).
absl::Status WithMetadata(absl::Status status, std::string_view key, std::string_view value);

// `status`'s reason and metadata on a new status with `code` and `message`.
absl::Status Rewrap(const absl::Status& status, absl::StatusCode code, absl::string_view message);

}  // namespace cairn::client::internal
