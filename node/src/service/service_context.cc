// Authorization and leader routing for the client-port services (see service_context.h).
#include "service/service_context.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "peer/transport.h"

namespace cairn::node {
namespace {

const char* RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_READER:
      return "Reader";
    case v1::ROLE_CONTRIBUTOR:
      return "Contributor";
    case v1::ROLE_ADMINISTRATOR:
      return "Administrator";
    default:
      return "none";
  }
}

}  // namespace

absl::StatusOr<Principal> Authorize(const ServiceContext& ctx,
                                    const grpc::CallbackServerContext& call, v1::Role role) {
  auto caller = ctx.identifier->Identify(call);
  if (!caller.ok()) return caller.status();
  Principal principal{caller->user_id, false};
  bool member_node = false;
  if (caller->node_id != 0 && ctx.governance->Member(caller->node_id)) {
    const auto& md = call.client_metadata();
    auto it = md.find(kOnBehalfOfHeader);
    if (it != md.end()) {
      principal.user_id = std::string(it->second.data(), it->second.size());
      principal.forwarded = true;
    } else {
      member_node = true;  // a member asking for itself: it may read
    }
  }
  if (role == v1::ROLE_UNSPECIFIED) return principal;
  if (member_node && role <= v1::ROLE_READER) return principal;
  if (!ctx.governance->created()) {
    return absl::UnavailableError(
        "the service is starting: its genesis transaction has not "
        "been applied on this node yet");
  }
  const auto have = ctx.governance->RoleOf(principal.user_id);
  if (!have) {
    return absl::PermissionDeniedError(
        absl::StrCat("user ", principal.user_id, " is not a user of this service"));
  }
  if (*have < role) {
    return absl::PermissionDeniedError(absl::StrCat("user ", principal.user_id, " is a ",
                                                    RoleName(*have), "; this call needs ",
                                                    RoleName(role)));
  }
  return principal;
}

namespace {

// How long before the caller's deadline a node gives up waiting, so that its
// answer (with a reason: OUTCOME_UNKNOWN and the txid, say) reaches the
// caller before the caller's own deadline turns it into a bare
// DEADLINE_EXCEEDED: a tenth of the time left, at most 100 ms.
std::chrono::system_clock::duration ReplyMargin(std::chrono::system_clock::duration remaining) {
  return std::min<std::chrono::system_clock::duration>(std::chrono::milliseconds(100),
                                                       remaining / 10);
}

}  // namespace

std::chrono::steady_clock::time_point DeadlineOf(const grpc::CallbackServerContext& call) {
  const auto now_sys = std::chrono::system_clock::now();
  auto remaining = call.deadline() - now_sys;
  constexpr auto kCap = std::chrono::seconds(60);
  if (remaining > kCap) remaining = kCap;
  remaining -= ReplyMargin(remaining);
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining);
}

std::string LeaderRouter::LeaderAddress() const {
  const uint64_t leader = ctx_->loop->status().node.leader;
  if (leader == 0) return "";
  auto member = ctx_->governance->Member(leader);
  if (member) return member->client_address();
  return "";
}

bool LeaderRouter::IsLeader() const {
  return ctx_->loop->status().node.role == consensus::Role::kLeader;
}

grpc::Status LeaderRouter::NotLeader(grpc::CallbackServerContext* call) const {
  const std::string leader = LeaderAddress();
  if (leader.empty()) {
    return ToGrpcStatus(WithReason(
        absl::UnavailableError("no leader is known right now (election in progress?); retry"),
        v1::ERROR_REASON_NO_LEADER));
  }
  call->AddTrailingMetadata(kLeaderTrailer, leader);
  return ToGrpcStatus(
      WithReason(absl::UnavailableError(
                     absl::StrCat("this node is not the leader; the leader is at ", leader)),
                 v1::ERROR_REASON_NOT_LEADER,
                 {{"leader_address", leader},
                  {"leader_id", std::to_string(ctx_->loop->status().node.leader)}}));
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

std::shared_ptr<grpc::Channel> PeerChannels::Get(uint64_t node_id, const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& channel = channels_[{node_id, address}];
  // To the leader's client port, which permits fewer pings than the peer port.
  if (!channel) channel = OpenPeerChannel(*tls_, node_id, address, kClientPortKeepaliveMs);
  return channel;
}

std::shared_ptr<grpc::Channel> LeaderRouter::LeaderChannel() {
  const uint64_t leader = ctx_->loop->status().node.leader;
  const std::string address = LeaderAddress();
  if (leader == 0 || address.empty()) return nullptr;
  return ctx_->channels->Get(leader, address);
}

std::shared_ptr<v1::LedgerService::Stub> LeaderRouter::LedgerStub() {
  auto channel = LeaderChannel();
  return channel ? std::shared_ptr<v1::LedgerService::Stub>(v1::LedgerService::NewStub(channel))
                 : nullptr;
}

std::shared_ptr<v1::AdminService::Stub> LeaderRouter::AdminStub() {
  auto channel = LeaderChannel();
  return channel ? std::shared_ptr<v1::AdminService::Stub>(v1::AdminService::NewStub(channel))
                 : nullptr;
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
