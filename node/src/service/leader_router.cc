// Leader routing and forwarding for the client-port services (see leader_router.h).
#include "service/leader_router.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "peer/transport.h"

namespace cairn::node {

std::string LeaderRouter::LeaderAddress() const { return AddressOf(loop_->status().node.leader); }

std::string LeaderRouter::AddressOf(uint64_t node_id) const {
  if (node_id == 0) return "";
  auto member = governance_->Member(node_id);
  return member ? member->client_address() : "";
}

bool LeaderRouter::IsLeader() const {
  return loop_->status().node.role == consensus::Role::kLeader;
}

grpc::Status LeaderRouter::NotLeader(grpc::CallbackServerContext* call,
                                     absl::string_view why) const {
  // One read of the leader, so the id and address named are the same node's.
  const uint64_t leader_id = loop_->status().node.leader;
  const std::string leader = AddressOf(leader_id);
  if (leader.empty()) {
    return ToGrpcStatus(WithReason(
        absl::UnavailableError("no leader is known right now (election in progress?); retry"),
        v1::ERROR_REASON_NO_LEADER));
  }
  call->AddTrailingMetadata(kLeaderTrailer, leader);
  return ToGrpcStatus(
      WithReason(absl::UnavailableError(absl::StrCat(why, "; the leader is at ", leader)),
                 v1::ERROR_REASON_NOT_LEADER,
                 {{"leader_address", leader}, {"leader_id", std::to_string(leader_id)}}));
}

absl::Status ForwardedAppendOutcome(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status st = FromGrpcStatus(status);
  if (ErrorInfoOf(st)) return st;  // the leader said why: pass it on
  // No reason: the call broke between this node and the leader (a reset
  // connection, the leader paused past the deadline). The leader may have
  // proposed the append, so the outcome is unknown.
  return WithReason(
      absl::Status(
          st.code(),
          absl::StrCat("the leader did not answer the forwarded append (", status.error_message(),
                       "); it may or may not have been written: retry with the same "
                       "idempotency key")),
      v1::ERROR_REASON_OUTCOME_UNKNOWN);
}

grpc::Status ForwardedAppendStatus(const grpc::Status& status) {
  return ToGrpcStatus(ForwardedAppendOutcome(status));
}

std::shared_ptr<grpc::Channel> PeerChannels::Get(uint64_t node_id, const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& channel = channels_[{node_id, address}];
  // To the leader's client port, which permits fewer pings than the peer port.
  if (!channel) channel = OpenPeerChannel(*tls_, node_id, address, kClientPortKeepaliveMs);
  return channel;
}

std::shared_ptr<grpc::Channel> LeaderRouter::LeaderChannel() const {
  const uint64_t leader = loop_->status().node.leader;
  const std::string address = LeaderAddress();
  if (leader == 0 || address.empty()) return nullptr;
  return channels_->Get(leader, address);
}

void LeaderRouter::PrepareForward(const grpc::CallbackServerContext& call,
                                  const Principal& principal, grpc::ClientContext* client) {
  client->AddMetadata(kOnBehalfOfHeader, principal.user_id);
  // The leader must answer before this node's caller gives up, and this
  // node must have time to pass the answer (or its own) on.
  const auto now = std::chrono::system_clock::now();
  const auto deadline = call.deadline();
  client->set_deadline(deadline > now ? deadline - ReplyMargin(deadline - now) : deadline);
}

}  // namespace cairn::node
