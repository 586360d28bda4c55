// Who is calling: the identity in the client certificate TLS verified.
//
// Users are named by the SHA-256 fingerprint of their certificate (user_id).
// A node certificate (issued by the service identity for "node-<id>", with
// serverAuth usage) additionally names a node id; only those may use the peer
// port or forward appends on behalf of a user.
#pragma once

#include <grpcpp/server_context.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace cairn::node {

struct Caller {
  std::string user_id;   // lowercase hex SHA-256 of the certificate DER
  uint64_t node_id = 0;  // non-zero for a node certificate
};

// Maps peer certificates to callers, caching parsed certificates (bounded).
class CallerIdentifier {
 public:
  explicit CallerIdentifier(size_t cache_entries_max = 4096)
      : cache_entries_max_(cache_entries_max) {}

  // UNAUTHENTICATED when the call carries no verified client certificate.
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) ABSL_LOCKS_EXCLUDED(mu_);

  // The certificate (PEM) node `node_id` last presented to this node, if it
  // has called (TLS verified it chains to the service identity). The leader
  // of a private ledger wraps the ledger secret to it.
  std::optional<std::string> NodeCertificatePem(uint64_t node_id) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const size_t cache_entries_max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Caller> cache_ ABSL_GUARDED_BY(mu_);         // PEM -> caller
  absl::flat_hash_map<uint64_t, std::string> node_certs_ ABSL_GUARDED_BY(mu_);  // id -> PEM
};

}  // namespace cairn::node
