// absl::Status inside, grpc::Status outside: the one place codes are mapped.
//
// An error's machine-readable reason (proto/cairn/v1/errors.proto) travels
// inside absl::Status as a payload holding an ErrorInfo, attached where the
// error is made (WithReason). ToGrpcStatus sends it as the gRPC status
// details; an error without one gets the reason its code implies (for
// UNAVAILABLE and DEADLINE_EXCEEDED, which do not say whether a write was
// made, that is OUTCOME_UNKNOWN: the caller must not assume "not written").
#pragma once

#include <grpcpp/support/status.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "cairn/v1/errors.pb.h"

namespace cairn::node {

using ReasonMetadata = std::initializer_list<std::pair<std::string, std::string>>;

// `status` with `reason` (and metadata) attached; OK stays OK.
absl::Status WithReason(absl::Status status, v1::ErrorReason reason, ReasonMetadata metadata = {});
// The reason attached to `status`, if any.
std::optional<v1::ErrorInfo> ErrorInfoOf(const absl::Status& status);
// `status` as the error of entry `entry_index` of a batch: the message
// starts "entries[i]: ", the reason is kept (or the one the code implies),
// a "field" in the metadata becomes "entries[i].field", and metadata
// "entry_index" is added. OK stays OK.
absl::Status AboutEntry(const absl::Status& status, size_t entry_index);
// The reason attached, or the one `status`'s code implies.
v1::ErrorInfo ReasonOrDefault(const absl::Status& status);

grpc::Status ToGrpcStatus(const absl::Status& status);
// The reverse, for a call this node made on a client's behalf (forwarding):
// the details a leader sent are kept.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cairn::node
