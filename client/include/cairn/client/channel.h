// Mutually authenticated TLS channels to a Cairn node.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cairn::client {

// Files a client authenticates with. The service certificate is pinned: the
// node must present a certificate it issued.
struct Credentials {
  std::string cert_file;          // the user's certificate (PEM)
  std::string key_file;           // its private key (PEM)
  std::string service_cert_file;  // the service identity certificate (PEM)
};

// Reads the credential files (errors name the missing file) and opens a
// channel to `endpoint` ("host:port").
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& endpoint,
                                                           const Credentials& credentials);

}  // namespace cairn::client
