// Authorization, deadlines and answers for the client-port handlers (see call.h).
#include "service/call.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "errors/status.h"

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

absl::StatusOr<v1::NodeInfo> Authorizer::AuthorizeMemberNode(
    const grpc::CallbackServerContext& call) const {
  auto caller = identifier_->Identify(call);
  if (!caller.ok()) return caller.status();
  if (caller->node_id == 0) {
    return absl::PermissionDeniedError(
        "only a member node may call this, with its node certificate");
  }
  std::optional<v1::NodeInfo> member = governance_->Member(caller->node_id);
  if (!member) {
    return absl::PermissionDeniedError(
        absl::StrCat("node ", caller->node_id, " is not a member of this service"));
  }
  return *member;
}

absl::StatusOr<Principal> Authorizer::Authorize(const grpc::CallbackServerContext& call,
                                                v1::Role role) const {
  auto caller = identifier_->Identify(call);
  if (!caller.ok()) return caller.status();
  Principal principal{caller->user_id, false};
  bool member_node = false;
  if (caller->node_id != 0 && governance_->Member(caller->node_id)) {
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
  if (!governance_->created()) {
    return absl::UnavailableError(
        "the service is starting: its genesis transaction has not "
        "been applied on this node yet");
  }
  const auto have = governance_->RoleOf(principal.user_id);
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

std::chrono::system_clock::duration ReplyMargin(std::chrono::system_clock::duration remaining) {
  return std::min<std::chrono::system_clock::duration>(std::chrono::milliseconds(100),
                                                       remaining / 10);
}

std::chrono::steady_clock::time_point DeadlineOf(const grpc::CallbackServerContext& call) {
  const auto now_sys = std::chrono::system_clock::now();
  auto remaining = call.deadline() - now_sys;
  constexpr auto kCap = std::chrono::seconds(60);
  if (remaining > kCap) remaining = kCap;
  remaining -= ReplyMargin(remaining);
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining);
}

grpc::ServerUnaryReactor* Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace cairn::node
