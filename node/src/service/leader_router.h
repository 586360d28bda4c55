// Where the leader is, and forwarding to it. Writes that reach a follower are
// forwarded to the leader over its client port, authenticated with this
// node's certificate and naming the user in the "cairn-on-behalf-of" header
// (call.h); the leader trusts that header only from a member node, and never
// forwards a forwarded call again.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "apply/governance.h"
#include "raft/raft_loop.h"
#include "security/tls.h"
#include "service/call.h"

namespace cairn::node {

inline constexpr char kLeaderTrailer[] = "cairn-leader";

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

// Knows the leader (from the loop's status and the members' addresses) and
// forwards calls to it. Thread-safe.
class LeaderRouter {
 public:
  // All must outlive the router.
  LeaderRouter(const RaftLoop* loop, const Governance* governance, PeerChannels* channels)
      : loop_(loop), governance_(governance), channels_(channels) {}

  // The leader's client address, or "" when no leader is known.
  std::string LeaderAddress() const;
  bool IsLeader() const;
  // A channel to the leader's client port as this node; null when no leader
  // is known (or this node leads).
  std::shared_ptr<grpc::Channel> LeaderChannel() const;
  // A channel to member `node_id`'s client port at `client_address`, as
  // this node.
  std::shared_ptr<grpc::Channel> MemberChannel(uint64_t node_id,
                                               const std::string& client_address) const {
    return channels_->Get(node_id, client_address);
  }
  // UNAVAILABLE with reason NOT_LEADER (and the leader trailer) or NO_LEADER;
  // `why` opens the message (by default: this node is not the leader).
  grpc::Status NotLeader(grpc::CallbackServerContext* call,
                         absl::string_view why = "this node is not the leader") const;

  // Forwards `call`, which this follower cannot serve, to the leader's
  // `Service` on behalf of `principal`, and finishes `reactor` with the
  // leader's answer, passed through `outcome` when given. A call that was
  // itself forwarded, or one made while no leader is known, is answered
  // NotLeader instead: nothing is forwarded twice. `start(leader, client,
  // done)` starts the call on the leader's async stub (`leader->Rpc(client,
  // request, response, std::move(done))`).
  template <typename Service, typename Start>
  void Forward(grpc::CallbackServerContext* call, grpc::ServerUnaryReactor* reactor,
               const Principal& principal, Start start,
               grpc::Status (*outcome)(const grpc::Status&) = nullptr) const {
    std::shared_ptr<grpc::Channel> channel = principal.forwarded ? nullptr : LeaderChannel();
    if (!channel) {
      reactor->Finish(NotLeader(call));
      return;
    }
    // Stub and client context live until the leader answers.
    auto stub = std::shared_ptr<typename Service::Stub>(Service::NewStub(channel));
    auto client = std::make_shared<grpc::ClientContext>();
    PrepareForward(*call, principal, client.get());
    start(stub->async(), client.get(), [reactor, client, stub, outcome](grpc::Status status) {
      reactor->Finish(outcome != nullptr ? outcome(status) : status);
    });
  }

 private:
  // Prepares `client` for a forwarded call on behalf of `principal`, with the
  // deadline of `call`.
  static void PrepareForward(const grpc::CallbackServerContext& call, const Principal& principal,
                             grpc::ClientContext* client);
  // Member `node_id`'s client address ("" for 0 or a non-member).
  std::string AddressOf(uint64_t node_id) const;

  const RaftLoop* const loop_;
  const Governance* const governance_;
  PeerChannels* const channels_;
};

// How a follower answers a client whose append it forwarded and the leader
// answered with `status`: the leader's reason when it gave one; otherwise the
// call broke on the way, after the leader may have proposed the append, so
// OUTCOME_UNKNOWN (never a raw "Socket closed").
absl::Status ForwardedAppendOutcome(const grpc::Status& status);
// The same in gRPC form, for LeaderRouter::Forward.
grpc::Status ForwardedAppendStatus(const grpc::Status& status);

}  // namespace cairn::node
