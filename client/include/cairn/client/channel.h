// Mutually authenticated TLS channels to a Cairn node. The Client opens its
// own; this is for tools that need a raw stub (e.g. health checks).
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cairn/client/options.h"

namespace cairn::client {

// Credentials with every PEM in memory.
struct LoadedCredentials {
  std::string cert_pem;
  std::string key_pem;
  std::string service_cert_pem;
};

// Takes each PEM from its *_pem field or reads its *_file (errors name the
// missing setting or unreadable file, and reject text that is not PEM).
absl::StatusOr<LoadedCredentials> LoadCredentials(const Credentials& credentials);

// A channel to `endpoint` ("host:port") that presents the user's certificate
// and accepts only a server certificate issued by the pinned service
// certificate. Connects lazily, and reconnects within a second after a node
// comes back.
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& endpoint,
                                           const LoadedCredentials& credentials);

// LoadCredentials + OpenChannel.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& endpoint,
                                                           const Credentials& credentials);

}  // namespace cairn::client
