// Mutual TLS for both of the node's ports: the node presents its certificate
// and requires the peer (client or node) to present one issued by the service
// identity. Cairn has no plaintext mode, and speaks TLS 1.3 only.
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cairn::node {

struct TlsFiles {
  std::string cert_pem;          // this node's certificate
  std::string key_pem;           // its private key
  std::string service_cert_pem;  // trust root for peers and clients
};

// Makes every TLS context this process creates from now on refuse anything
// older than TLS 1.3, on both ports and on the node's own outgoing
// connections. gRPC 1.51 has no setting for it (its TLS contexts allow 1.2),
// so this loads OpenSSL's system_default settings for the process, which
// OpenSSL applies to each new context. Call it before any gRPC object exists.
// These settings replace the machine's own system_default section (from
// openssl.cnf) for this process; nothing else in that file is touched.
absl::Status RequireTls13();

// Reads the three PEM files; errors name the file that could not be read.
absl::StatusOr<TlsFiles> LoadTlsFiles(const std::string& cert_file, const std::string& key_file,
                                      const std::string& service_cert_file);

// Server credentials that verify any client certificate against the service
// certificate. With `require_client_cert` a caller without one fails the
// handshake (the peer port); without it the call reaches the handler, which
// answers UNAUTHENTICATED with an explanation (the client port).
std::shared_ptr<grpc::ServerCredentials> MutualTlsServerCredentials(const TlsFiles& files,
                                                                    bool require_client_cert);

}  // namespace cairn::node
