// AdminService (cairn.v1): users and roles, membership, leadership transfer,
// snapshots, cluster status. Every change is a governance transaction in the
// ledger, proposed by the leader (a follower forwards it) and answered once
// applied.
#pragma once

#include "cairn/v1/admin.grpc.pb.h"
#include "service/service_context.h"

namespace cairn::node {

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(const ServiceContext* ctx) : ctx_(ctx), router_(ctx) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* PutUser(Ctx* call, const v1::PutUserRequest* req, v1::GovernanceResponse* resp) override;
  Reactor* RemoveUser(Ctx* call, const v1::RemoveUserRequest* req,
                      v1::GovernanceResponse* resp) override;
  Reactor* GetUser(Ctx* call, const v1::GetUserRequest* req, v1::User* resp) override;
  Reactor* ListUsers(Ctx* call, const v1::ListUsersRequest* req,
                     v1::ListUsersResponse* resp) override;
  Reactor* AddLearner(Ctx* call, const v1::AddLearnerRequest* req,
                      v1::GovernanceResponse* resp) override;
  Reactor* PromoteLearner(Ctx* call, const v1::PromoteLearnerRequest* req,
                          v1::GovernanceResponse* resp) override;
  Reactor* RemoveNode(Ctx* call, const v1::RemoveNodeRequest* req,
                      v1::GovernanceResponse* resp) override;
  Reactor* TransferLeadership(Ctx* call, const v1::TransferLeadershipRequest* req,
                              v1::TransferLeadershipResponse* resp) override;
  Reactor* TriggerSnapshot(Ctx* call, const v1::TriggerSnapshotRequest* req,
                           v1::TriggerSnapshotResponse* resp) override;
  Reactor* GetClusterStatus(Ctx* call, const v1::GetClusterStatusRequest* req,
                            v1::ClusterStatus* resp) override;

 private:
  // Authorizes as Administrator, validates `tx`, then proposes it (with the
  // membership change when given) on the leader or forwards `forward` to it.
  template <typename Request, typename Forward>
  Reactor* Govern(Ctx* call, const Request* req, v1::GovernanceResponse* resp,
                  v1::GovernanceTransaction tx, std::optional<consensus::ConfChange> change,
                  Forward forward);
  void FillOwnStatus(v1::NodeStatus* out) const;
  void GatherClusterStatus(Ctx* call, Reactor* reactor, v1::ClusterStatus* resp);

  const ServiceContext* ctx_;
  LeaderRouter router_;
};

}  // namespace cairn::node
