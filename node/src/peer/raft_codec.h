// Conversion between the Raft core's value types (consensus/types.h) and
// their wire form (cairn.v1 raft.proto), field for field.
#pragma once

#include "absl/status/statusor.h"
#include "cairn/consensus/types.h"
#include "cairn/v1/raft.pb.h"

namespace cairn::node {

void ToProto(const consensus::Entry& entry, v1::RaftEntry* out);
void ToProto(const consensus::Message& message, v1::RaftMessage* out);

// InvalidArgument naming the field when an enum value is unknown.
absl::StatusOr<consensus::Entry> FromProto(const v1::RaftEntry& entry);
absl::StatusOr<consensus::Message> FromProto(const v1::RaftMessage& message);

}  // namespace cairn::node
