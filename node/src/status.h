// absl::Status inside, grpc::Status outside: the one place codes are mapped.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace cairn::node {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace cairn::node
