// gRPC server reflection v1 (grpc.reflection.v1.ServerReflection) on the
// client port, beside the v1alpha that gRPC 1.51's plugin serves: the same
// answers from the process's generated descriptor pool, under the package
// name current tools (grpcurl) ask for first.
#pragma once

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace cairn::node {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // `services`: the full names of the services the server offers, which
  // list_services answers.
  explicit ReflectionV1Service(std::vector<std::string> services)
      : services_(std::move(services)) {}

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

 private:
  const std::vector<std::string> services_;
};

}  // namespace cairn::node
