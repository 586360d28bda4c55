// What the client-port services share: configuration, state, the Raft loop,
// and the rules every handler applies first — who the caller is and what
// their role allows, whether the service exists yet, and where the leader is.
//
// Writes that reach a follower are forwarded to the leader over its client
// port, authenticated with this node's certificate and naming the user in
// the "cairn-on-behalf-of" header; the leader trusts that header only from a
// member node, and never forwards a forwarded call again.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "apply/governance.h"
#include "cairn/ledger/merkle_store.h"
#include "cairn/node/config.h"
#include "cairn/storage/database.h"
#include "cairn/v1/admin.grpc.pb.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "observe/metrics.h"
#include "raft/index_waiters.h"
#include "raft/raft_loop.h"
#include "security/auth.h"
#include "security/tls.h"

namespace cairn::node {

inline constexpr char kOnBehalfOfHeader[] = "cairn-on-behalf-of";

// Channels from this node to other nodes' client ports, authenticated as this
// node. Channels are kept for the life of the process (one per member and
// address ever used, so the set stays small): a callback of an asynchronous
// call must never drop the last reference to its channel, which gRPC 1.51
// does not survive on its own callback threads.
class PeerChannels {
 public:
  explicit PeerChannels(const TlsFiles* tls) : tls_(tls) {}
  std::shared_ptr<grpc::Channel> Get(uint64_t node_id, const std::string& address)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const TlsFiles* tls_;
  absl::Mutex mu_;
  std::map<std::pair<uint64_t, std::string>, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
};
inline constexpr char kLeaderTrailer[] = "cairn-leader";

struct ServiceContext {
  const NodeConfig* config = nullptr;
  storage::Database* db = nullptr;
  // Committed Merkle nodes for proofs, through a bounded cache (node_cache.h).
  const ledger::MerkleNodeReader* proof_nodes = nullptr;
  Governance* governance = nullptr;
  RaftLoop* loop = nullptr;
  IndexWaiters* applied = nullptr;  // reached: applied index
  IndexWaiters* signed_ = nullptr;  // reached: leaves covered by a signature
  CallerIdentifier* identifier = nullptr;
  NodeMetrics* metrics = nullptr;
  PeerChannels* channels = nullptr;
  TlsFiles tls;
  std::string service_id;
  std::string service_cert_pem;
};

// The user a call acts for, once authorized.
struct Principal {
  std::string user_id;
  bool forwarded = false;  // came from a member node on a user's behalf
};

// Authorizes a call needing at least `role` (ROLE_UNSPECIFIED: any
// authenticated caller, known user or not). UNAUTHENTICATED without a client
// certificate, PERMISSION_DENIED for an unknown user or too low a role,
// UNAVAILABLE while the service has no genesis yet.
absl::StatusOr<Principal> Authorize(const ServiceContext& ctx,
                                    const grpc::CallbackServerContext& call, v1::Role role);

// The deadline of `call`, capped so a caller without one cannot park a
// request forever, and a little early (a tenth of the time left, at most
// 100 ms) so the answer, with its reason, reaches the caller in time.
std::chrono::steady_clock::time_point DeadlineOf(const grpc::CallbackServerContext& call);

// Forwards calls to the leader's client port.
class LeaderRouter {
 public:
  explicit LeaderRouter(const ServiceContext* ctx) : ctx_(ctx) {}

  // The leader's client address, or "" when no leader is known.
  std::string LeaderAddress() const;
  bool IsLeader() const;
  // UNAVAILABLE with reason NOT_LEADER (and the leader trailer) or NO_LEADER.
  grpc::Status NotLeader(grpc::CallbackServerContext* call) const;

  // Channels to the leader, authenticated as this node, carrying `principal`.
  std::shared_ptr<v1::LedgerService::Stub> LedgerStub();
  std::shared_ptr<v1::AdminService::Stub> AdminStub();
  // Prepares `client` for a forwarded call on behalf of `principal`, with the
  // deadline of `call`.
  static void PrepareForward(const grpc::CallbackServerContext& call, const Principal& principal,
                             grpc::ClientContext* client);

 private:
  std::shared_ptr<grpc::Channel> LeaderChannel();

  const ServiceContext* ctx_;
};

// How a follower answers a client whose append it forwarded and the leader
// answered with `status`: the leader's reason when it gave one; otherwise the
// call broke on the way, after the leader may have proposed the append, so
// OUTCOME_UNKNOWN (never a raw "Socket closed").
absl::Status ForwardedAppendOutcome(const grpc::Status& status);

}  // namespace cairn::node
