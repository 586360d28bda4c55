// The rules every client-port handler applies first: who the caller is and
// what their role allows (Authorizer), how long it may take (DeadlineOf), and
// how a handler answers (Finish).
//
// A member node may act for a user: a follower forwards writes to the leader
// naming the user in the "cairn-on-behalf-of" header (leader_router.h); the
// leader trusts that header only from a member node.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "apply/governance.h"
#include "cairn/v1/ledger.pb.h"
#include "security/auth.h"

namespace cairn::node {

inline constexpr char kOnBehalfOfHeader[] = "cairn-on-behalf-of";

// The user a call acts for, once authorized.
struct Principal {
  std::string user_id;
  bool forwarded = false;  // came from a member node on a user's behalf
};

// Who this node and its service are, as handlers show and check it.
struct ServiceIdentity {
  uint64_t node_id = 0;
  std::string service_id;        // fingerprint of the service certificate
  std::string service_cert_pem;  // the service identity, issuer of every node and user
  std::string node_cert_pem;     // this node's certificate
  std::string region;            // where this node runs (--region)
};

// Identifies callers by certificate and checks their role against the
// service's governance state. Thread-safe.
class Authorizer {
 public:
  // Both must outlive the Authorizer.
  Authorizer(CallerIdentifier* identifier, const Governance* governance)
      : identifier_(identifier), governance_(governance) {}

  // Authorizes a call needing at least `role` (ROLE_UNSPECIFIED: any
  // authenticated caller, known user or not). UNAUTHENTICATED without a
  // client certificate, PERMISSION_DENIED for an unknown user or too low a
  // role, UNAVAILABLE while the service has no genesis yet.
  absl::StatusOr<Principal> Authorize(const grpc::CallbackServerContext& call, v1::Role role) const;
  // A call a member node makes for itself, with its node certificate: the
  // member. PERMISSION_DENIED for anyone else.
  absl::StatusOr<v1::NodeInfo> AuthorizeMemberNode(const grpc::CallbackServerContext& call) const;

 private:
  CallerIdentifier* const identifier_;
  const Governance* const governance_;
};

// How long before the caller's deadline a node gives up waiting, so that its
// answer (with a reason: OUTCOME_UNKNOWN and the txid, say) reaches the
// caller before the caller's own deadline turns it into a bare
// DEADLINE_EXCEEDED: a tenth of the time left, at most 100 ms.
std::chrono::system_clock::duration ReplyMargin(std::chrono::system_clock::duration remaining);

// The deadline of `call`, capped so a caller without one cannot park a
// request forever, and early by ReplyMargin so the answer, with its reason,
// reaches the caller in time.
std::chrono::steady_clock::time_point DeadlineOf(const grpc::CallbackServerContext& call);

// Finishes `reactor` with `status` in its gRPC form (reason details
// included) and returns it, so a handler can `return Finish(...)`.
grpc::ServerUnaryReactor* Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status);

}  // namespace cairn::node
