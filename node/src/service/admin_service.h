// AdminService (cairn.v1): users and roles, membership, leadership transfer,
// snapshots, cluster status. Every change is a governance transaction in the
// ledger, proposed by the leader (a follower forwards it) and answered once
// applied.
#pragma once

#include <optional>

#include "apply/governance.h"
#include "cairn/ledger/identity.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/v1/admin.grpc.pb.h"
#include "raft/index_waiters.h"
#include "raft/raft_loop.h"
#include "service/call.h"
#include "service/geo_replicas.h"
#include "service/leader_router.h"
#include "service/secret_sharer.h"

namespace cairn::node {

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  // Everything passed must outlive the service. `loop` takes governance
  // proposals, transfers and compactions; `ledger` is read for the latest
  // checkpoint, `applied` for the applied index; `channels` reach the other
  // members for their status.
  AdminServiceImpl(const ServiceIdentity* identity, const Authorizer* authorizer,
                   const LeaderRouter* router, RaftLoop* loop, const Governance* governance,
                   const storage::LedgerStore* ledger, const IndexWaiters* applied,
                   PeerChannels* channels, GeoReplicas* geo,
                   const ledger::Certificate* service_cert, const SecretSharer* sharer)
      : identity_(identity),
        authorizer_(authorizer),
        router_(router),
        loop_(loop),
        governance_(governance),
        ledger_(ledger),
        applied_(applied),
        channels_(channels),
        geo_(geo),
        service_cert_(service_cert),
        sharer_(sharer) {}

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
  // Disaster recovery (admin_dr.cc).
  Reactor* GetDrStatus(Ctx* call, const v1::GetDrStatusRequest* req, v1::DrStatus* resp) override;
  Reactor* ReportArchived(Ctx* call, const v1::ReportArchivedRequest* req,
                          v1::ReportArchivedResponse* resp) override;
  Reactor* SetResidency(Ctx* call, const v1::SetResidencyRequest* req,
                        v1::GovernanceResponse* resp) override;
  Reactor* SetServiceSettings(Ctx* call, const v1::SetServiceSettingsRequest* req,
                              v1::GovernanceResponse* resp) override;
  Reactor* RotateLedgerSecret(Ctx* call, const v1::RotateLedgerSecretRequest* req,
                              v1::GovernanceResponse* resp) override;

 private:
  // Authorizes as Administrator, validates `tx`, then proposes it (with the
  // membership change when given) on the leader, or on a follower forwards
  // the call to the leader (`forward` starts it, as LeaderRouter::Forward's
  // `start`).
  template <typename Forward>
  Reactor* Govern(Ctx* call, v1::GovernanceResponse* resp, v1::GovernanceTransaction tx,
                  std::optional<consensus::ConfChange> change, Forward forward);
  void FillOwnStatus(v1::NodeStatus* out) const;
  void GatherClusterStatus(Ctx* call, Reactor* reactor, v1::ClusterStatus* resp);

  const ServiceIdentity* const identity_;
  const Authorizer* const authorizer_;
  const LeaderRouter* const router_;
  RaftLoop* const loop_;
  const Governance* const governance_;
  const storage::LedgerStore* const ledger_;
  const IndexWaiters* const applied_;
  PeerChannels* const channels_;
  GeoReplicas* const geo_;
  const ledger::Certificate* const service_cert_;
  const SecretSharer* const sharer_;  // a private ledger's rotations
};

}  // namespace cairn::node
