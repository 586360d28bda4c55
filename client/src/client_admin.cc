// cairn::client::Client, administration (AdminService; see client.h).
// Governance changes are writes: they go to the leader and teach the client
// where it is. A change that timed out may have been applied, so only
// outright refusals (a "not written" reason: not the leader, no leader,
// backpressure) are retried, except for PutUser, which is idempotent.
#include "absl/strings/str_cat.h"
#include "cairn/client/client.h"
#include "call.h"
#include "core.h"

namespace cairn::client {

using internal::CallSpec;
using internal::CallSync;
using internal::Repeatable;

namespace {

CallSpec Governance(const char* method, Repeatable repeatable = Repeatable::kIfRefused) {
  CallSpec spec;
  spec.method = method;
  spec.repeatable = repeatable;
  spec.write = true;
  spec.records_leader = true;
  return spec;
}

CallSpec Read(const char* method) {
  CallSpec spec;
  spec.method = method;
  return spec;
}

absl::StatusOr<std::string> TxidOf(absl::StatusOr<v1::GovernanceResponse> response) {
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_txid());
}

}  // namespace

absl::StatusOr<std::string> Client::PutUser(const v1::User& user,
                                            absl::string_view certificate_pem) {
  v1::PutUserRequest request;
  *request.mutable_user() = user;
  request.set_certificate_pem(std::string(certificate_pem));
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("PutUser", Repeatable::kYes),
                                                 request, CAIRN_RPC(admin, PutUser)));
}

absl::StatusOr<std::string> Client::RemoveUser(absl::string_view user_id) {
  v1::RemoveUserRequest request;
  request.set_user_id(std::string(user_id));
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("RemoveUser"), request,
                                                 CAIRN_RPC(admin, RemoveUser)));
}

absl::StatusOr<v1::User> Client::GetUser(absl::string_view user_id) {
  v1::GetUserRequest request;
  request.set_user_id(std::string(user_id));
  return CallSync<v1::User>(core_, Read("GetUser"), request, CAIRN_RPC(admin, GetUser));
}

absl::StatusOr<std::vector<v1::User>> Client::ListUsers() {
  auto response = CallSync<v1::ListUsersResponse>(core_, Read("ListUsers"), v1::ListUsersRequest(),
                                                  CAIRN_RPC(admin, ListUsers));
  if (!response.ok()) return response.status();
  return std::vector<v1::User>(response->users().begin(), response->users().end());
}

absl::StatusOr<std::string> Client::AddLearner(const v1::NodeInfo& node) {
  v1::AddLearnerRequest request;
  *request.mutable_node() = node;
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("AddLearner"), request,
                                                 CAIRN_RPC(admin, AddLearner)));
}

absl::StatusOr<std::string> Client::PromoteLearner(uint64_t node_id) {
  v1::PromoteLearnerRequest request;
  request.set_node_id(node_id);
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("PromoteLearner"), request,
                                                 CAIRN_RPC(admin, PromoteLearner)));
}

absl::StatusOr<std::string> Client::RemoveNode(uint64_t node_id) {
  v1::RemoveNodeRequest request;
  request.set_node_id(node_id);
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("RemoveNode"), request,
                                                 CAIRN_RPC(admin, RemoveNode)));
}

absl::StatusOr<v1::TransferLeadershipResponse> Client::TransferLeadership(uint64_t target_node_id) {
  v1::TransferLeadershipRequest request;
  request.set_target_node_id(target_node_id);
  // Not recorded as the leader: after the call, it no longer is.
  CallSpec spec = Governance("TransferLeadership");
  spec.records_leader = false;
  auto response = CallSync<v1::TransferLeadershipResponse>(core_, std::move(spec), request,
                                                           CAIRN_RPC(admin, TransferLeadership));
  if (response.ok()) core_->RecordLeader("");  // rediscovered on the next write
  return response;
}

absl::StatusOr<v1::TriggerSnapshotResponse> Client::TriggerSnapshot(absl::string_view endpoint) {
  CallSpec spec = Read("TriggerSnapshot");
  spec.repeatable = Repeatable::kIfRefused;
  spec.pinned_endpoint =
      endpoint.empty() ? core_->options().endpoints.front() : std::string(endpoint);
  return CallSync<v1::TriggerSnapshotResponse>(core_, std::move(spec), v1::TriggerSnapshotRequest(),
                                               CAIRN_RPC(admin, TriggerSnapshot));
}

absl::StatusOr<v1::ClusterStatus> Client::GetClusterStatus() {
  return CallSync<v1::ClusterStatus>(core_, Read("GetClusterStatus"), v1::GetClusterStatusRequest(),
                                     CAIRN_RPC(admin, GetClusterStatus));
}

absl::StatusOr<std::string> Client::SetResidency(const std::vector<std::string>& allowed_regions,
                                                 bool single_region) {
  v1::SetResidencyRequest request;
  for (const std::string& r : allowed_regions) request.add_allowed_regions(r);
  request.set_single_region(single_region);
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("SetResidency"), request,
                                                 CAIRN_RPC(admin, SetResidency)));
}

absl::StatusOr<std::string> Client::SetServiceSettings(const v1::ServiceSettings& settings) {
  v1::SetServiceSettingsRequest request;
  *request.mutable_settings() = settings;
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("SetServiceSettings"), request,
                                                 CAIRN_RPC(admin, SetServiceSettings)));
}

absl::StatusOr<std::string> Client::RotateLedgerSecret() {
  return TxidOf(CallSync<v1::GovernanceResponse>(core_, Governance("RotateLedgerSecret"),
                                                 v1::RotateLedgerSecretRequest(),
                                                 CAIRN_RPC(admin, RotateLedgerSecret)));
}

absl::StatusOr<v1::DrStatus> Client::GetDrStatus() {
  return CallSync<v1::DrStatus>(core_, Read("GetDrStatus"), v1::GetDrStatusRequest(),
                                CAIRN_RPC(admin, GetDrStatus));
}

}  // namespace cairn::client
