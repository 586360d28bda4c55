// AdminService handlers (see admin_service.h).
#include "service/admin_service.h"

#include "absl/strings/str_cat.h"
#include "cairn/base/clock.h"
#include "cairn/ledger/identity.h"
#include "cairn/storage/ledger_store.h"
#include "errors/status.h"
#include "observe/log.h"
#include "peer/transport.h"

namespace cairn::node {
namespace {

// A certificate issued by the service identity, valid now.
absl::StatusOr<ledger::Certificate> IssuedCertificate(const ServiceIdentity& identity,
                                                      const std::string& pem,
                                                      absl::string_view field) {
  auto cert = ledger::Certificate::FromPem(pem);
  if (!cert.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", cert.status().message()));
  }
  auto service = ledger::Certificate::FromPem(identity.service_cert_pem);
  if (!service.ok()) return service.status();
  if (absl::Status st = cert->VerifyIssuedBy(*service, absl::Now()); !st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not issued by this service's identity: ", st.message()));
  }
  return cert;
}

v1::RaftRole ToRaftRole(consensus::Role role) {
  switch (role) {
    case consensus::Role::kFollower:
      return v1::RAFT_ROLE_FOLLOWER;
    case consensus::Role::kPreCandidate:
      return v1::RAFT_ROLE_PRE_CANDIDATE;
    case consensus::Role::kCandidate:
      return v1::RAFT_ROLE_CANDIDATE;
    case consensus::Role::kLeader:
      return v1::RAFT_ROLE_LEADER;
  }
  return v1::RAFT_ROLE_UNSPECIFIED;
}

}  // namespace

template <typename Forward>
grpc::ServerUnaryReactor* AdminServiceImpl::Govern(Ctx* call, v1::GovernanceResponse* resp,
                                                   v1::GovernanceTransaction tx,
                                                   std::optional<consensus::ConfChange> change,
                                                   Forward forward) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_ADMINISTRATOR);
  if (!principal.ok()) return Finish(reactor, principal.status());
  // Who makes the change is part of what Validate judges (only an
  // Administrator's ShareLedgerSecrets is a rotation).
  tx.set_user_id(principal->user_id);
  if (absl::Status st = governance_->Validate(tx); !st.ok()) return Finish(reactor, st);
  if (!router_->IsLeader()) {
    router_->Forward<v1::AdminService>(call, reactor, *principal, std::move(forward));
    return reactor;
  }
  tx.set_timestamp_unix_ms(base::NowUnixMs());
  v1::LogCommand command;
  *command.mutable_governance() = std::move(tx);
  auto done = [reactor, resp](absl::StatusOr<CommitResult> r) {
    if (!r.ok()) {
      Finish(reactor, r.status());
      return;
    }
    resp->set_txid(r->txid.ToString());
    Finish(reactor, absl::OkStatus());
  };
  if (change) {
    loop_->ProposeConfChange(*change, command.SerializeAsString(), DeadlineOf(*call),
                             std::move(done));
  } else {
    loop_->Propose(command.SerializeAsString(), AppendIdentity{}, true, DeadlineOf(*call),
                   std::move(done));
  }
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::PutUser(Ctx* call, const v1::PutUserRequest* req,
                                                    v1::GovernanceResponse* resp) {
  v1::GovernanceTransaction tx;
  v1::User* user = tx.mutable_put_user();
  *user = req->user();
  if (!req->certificate_pem().empty()) {
    auto cert = IssuedCertificate(*identity_, req->certificate_pem(), "certificate_pem");
    if (!cert.ok()) return Finish(call->DefaultReactor(), cert.status());
    if (!user->user_id().empty() && user->user_id() != cert->Fingerprint()) {
      return Finish(call->DefaultReactor(),
                    absl::InvalidArgumentError(
                        "user.user_id does not match the fingerprint of certificate_pem"));
    }
    user->set_user_id(cert->Fingerprint());
  }
  return Govern(call, resp, std::move(tx), std::nullopt,
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->PutUser(client, req, resp, std::move(done));
                });
}

grpc::ServerUnaryReactor* AdminServiceImpl::RemoveUser(Ctx* call, const v1::RemoveUserRequest* req,
                                                       v1::GovernanceResponse* resp) {
  v1::GovernanceTransaction tx;
  tx.set_remove_user_id(req->user_id());
  return Govern(call, resp, std::move(tx), std::nullopt,
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->RemoveUser(client, req, resp, std::move(done));
                });
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetUser(Ctx* call, const v1::GetUserRequest* req,
                                                    v1::User* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_ADMINISTRATOR);
  if (!principal.ok()) return Finish(reactor, principal.status());
  auto user = governance_->User(req->user_id());
  if (!user) return Finish(reactor, absl::NotFoundError(absl::StrCat("no user ", req->user_id())));
  *resp = *user;
  return Finish(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListUsers(Ctx* call, const v1::ListUsersRequest* req,
                                                      v1::ListUsersResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_ADMINISTRATOR);
  if (!principal.ok()) return Finish(reactor, principal.status());
  for (auto& u : governance_->Users()) *resp->add_users() = std::move(u);
  return Finish(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminServiceImpl::AddLearner(Ctx* call, const v1::AddLearnerRequest* req,
                                                       v1::GovernanceResponse* resp) {
  const v1::NodeInfo& node = req->node();
  auto cert = IssuedCertificate(*identity_, node.certificate_pem(), "node.certificate_pem");
  if (!cert.ok()) return Finish(call->DefaultReactor(), cert.status());
  if (cert->CommonName() != absl::StrCat("node-", node.node_id())) {
    return Finish(call->DefaultReactor(), absl::InvalidArgumentError(absl::StrCat(
                                              "node.certificate_pem names ", cert->CommonName(),
                                              ", not node-", node.node_id())));
  }
  v1::GovernanceTransaction tx;
  *tx.mutable_add_learner() = node;
  tx.mutable_add_learner()->set_membership(v1::MEMBERSHIP_LEARNER);
  return Govern(call, resp, std::move(tx),
                consensus::ConfChange{consensus::ConfChange::Kind::kAddLearner, node.node_id()},
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->AddLearner(client, req, resp, std::move(done));
                });
}

grpc::ServerUnaryReactor* AdminServiceImpl::PromoteLearner(Ctx* call,
                                                           const v1::PromoteLearnerRequest* req,
                                                           v1::GovernanceResponse* resp) {
  // A geo-replica stays a learner: a voter in the paired region would put
  // the primary's quorum across regions. (Known once it reported to this
  // leader, within a second of archiving; a follower forwards the call.)
  if (geo_->IsGeoReplica(req->node_id())) {
    return Finish(call->DefaultReactor(),
                  absl::FailedPreconditionError(absl::StrCat(
                      "node ", req->node_id(),
                      " is a geo-replica; it stays a learner (start a member in its place to "
                      "add a voter)")));
  }
  v1::GovernanceTransaction tx;
  tx.set_promote_learner_node_id(req->node_id());
  return Govern(call, resp, std::move(tx),
                consensus::ConfChange{consensus::ConfChange::Kind::kPromoteLearner, req->node_id()},
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->PromoteLearner(client, req, resp, std::move(done));
                });
}

grpc::ServerUnaryReactor* AdminServiceImpl::RemoveNode(Ctx* call, const v1::RemoveNodeRequest* req,
                                                       v1::GovernanceResponse* resp) {
  v1::GovernanceTransaction tx;
  tx.set_remove_node_id(req->node_id());
  return Govern(call, resp, std::move(tx),
                consensus::ConfChange{consensus::ConfChange::Kind::kRemoveNode, req->node_id()},
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->RemoveNode(client, req, resp, std::move(done));
                });
}

grpc::ServerUnaryReactor* AdminServiceImpl::TransferLeadership(
    Ctx* call, const v1::TransferLeadershipRequest* req, v1::TransferLeadershipResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_ADMINISTRATOR);
  if (!principal.ok()) return Finish(reactor, principal.status());
  if (!router_->IsLeader()) {
    router_->Forward<v1::AdminService>(
        call, reactor, *principal, [req, resp](auto* leader, auto* client, auto done) {
          leader->TransferLeadership(client, req, resp, std::move(done));
        });
    return reactor;
  }
  loop_->TransferLeadership(req->target_node_id(), DeadlineOf(*call),
                            [this, reactor, resp](absl::StatusOr<uint64_t> leader) {
                              if (!leader.ok()) {
                                Finish(reactor, leader.status());
                                return;
                              }
                              resp->set_new_leader_id(*leader);
                              resp->set_term(loop_->status().node.term);
                              Finish(reactor, absl::OkStatus());
                            });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::TriggerSnapshot(Ctx* call,
                                                            const v1::TriggerSnapshotRequest* req,
                                                            v1::TriggerSnapshotResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_ADMINISTRATOR);
  if (!principal.ok()) return Finish(reactor, principal.status());
  loop_->Compact([reactor, resp](absl::StatusOr<uint64_t> index) {
    if (!index.ok()) {
      Finish(reactor, index.status());
      return;
    }
    resp->set_snapshot_index(*index);
    Finish(reactor, absl::OkStatus());
  });
  return reactor;
}

void AdminServiceImpl::FillOwnStatus(v1::NodeStatus* out) const {
  const LoopStatus s = loop_->status();
  if (auto me = governance_->Member(identity_->node_id)) *out->mutable_node() = *me;
  out->mutable_node()->set_node_id(identity_->node_id);
  out->set_role(ToRaftRole(s.node.role));
  out->set_term(s.node.term);
  out->set_commit_index(s.node.commit);
  out->set_applied_index(applied_->reached());
  out->set_last_log_index(s.node.last_index);
  out->set_match_index(s.node.last_index);
  out->set_reachable(true);
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetClusterStatus(Ctx* call,
                                                             const v1::GetClusterStatusRequest* req,
                                                             v1::ClusterStatus* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  const LoopStatus s = loop_->status();
  resp->set_service_id(identity_->service_id);
  resp->set_leader_id(s.node.leader);
  resp->set_term(s.node.term);
  if (auto latest = ledger_->LatestCheckpoint(); latest.ok()) {
    resp->set_last_signed_index(latest->signature.index);
    resp->set_signed_tree_size(latest->tree_size);
  }
  const bool is_private = governance_->ledger_type() == v1::LEDGER_TYPE_PRIVATE;
  resp->set_ledger_type(is_private ? "private" : "public");
  if (is_private) resp->set_ledger_secret_version(governance_->newest_ledger_secret_version());
  if (req->local_only()) {
    FillOwnStatus(resp->add_nodes());
    return Finish(reactor, absl::OkStatus());
  }
  if (!router_->IsLeader()) {
    router_->Forward<v1::AdminService>(
        call, reactor, *principal, [req, resp](auto* leader, auto* client, auto done) {
          leader->GetClusterStatus(client, req, resp, std::move(done));
        });
    return reactor;
  }
  GatherClusterStatus(call, reactor, resp);
  return reactor;
}

// The leader's view: its own status, its replication progress for each
// member, and each member's own report (asked with a one-second deadline).
void AdminServiceImpl::GatherClusterStatus(Ctx* call, Reactor* reactor, v1::ClusterStatus* resp) {
  const LoopStatus s = loop_->status();
  const auto members = governance_->Members();
  struct Gather {
    absl::Mutex mu;
    size_t pending ABSL_GUARDED_BY(mu) = 0;
  };
  auto gather = std::make_shared<Gather>();
  std::vector<std::pair<v1::NodeStatus*, v1::NodeInfo>> others;
  for (const auto& m : members) {
    v1::NodeStatus* out = resp->add_nodes();
    if (m.node_id() == identity_->node_id) {
      FillOwnStatus(out);
      continue;
    }
    *out->mutable_node() = m;
    for (const auto& p : s.progress) {
      if (p.id != m.node_id()) continue;
      out->set_match_index(p.match);
      out->set_lag_entries(s.node.last_index > p.match ? s.node.last_index - p.match : 0);
    }
    others.emplace_back(out, m);
  }
  {
    absl::MutexLock lock(&gather->mu);
    gather->pending = others.size() + 1;
  }
  auto finish_one = [gather, reactor]() {
    bool last = false;
    {
      absl::MutexLock lock(&gather->mu);
      last = --gather->pending == 0;
    }
    if (last) reactor->Finish(grpc::Status::OK);
  };
  for (auto& [out, m] : others) {
    auto channel = channels_->Get(m.node_id(), m.client_address());
    auto stub = std::shared_ptr<v1::AdminService::Stub>(v1::AdminService::NewStub(channel));
    auto client = std::make_shared<grpc::ClientContext>();
    client->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    auto request = std::make_shared<v1::GetClusterStatusRequest>();
    request->set_local_only(true);
    auto answer = std::make_shared<v1::ClusterStatus>();
    stub->async()->GetClusterStatus(
        client.get(), request.get(), answer.get(),
        [out = out, stub, client, request, answer, finish_one](grpc::Status st) {
          if (st.ok() && answer->nodes_size() == 1) {
            const v1::NodeStatus& own = answer->nodes(0);
            out->set_role(own.role());
            out->set_term(own.term());
            out->set_commit_index(own.commit_index());
            out->set_applied_index(own.applied_index());
            out->set_last_log_index(own.last_log_index());
            out->set_reachable(true);
          }
          finish_one();
        });
  }
  finish_one();
}

// The residency policy (a governance transaction; Governance::Validate
// refuses one that leaves out a member's region).
grpc::ServerUnaryReactor* AdminServiceImpl::SetResidency(Ctx* call,
                                                         const v1::SetResidencyRequest* req,
                                                         v1::GovernanceResponse* resp) {
  v1::GovernanceTransaction tx;
  v1::ResidencyPolicy* policy = tx.mutable_set_residency();
  if (req->single_region()) {
    if (!req->allowed_regions().empty()) {
      return Finish(call->DefaultReactor(),
                    absl::InvalidArgumentError("give allowed_regions or single_region, not both"));
    }
    // The leader's region (a follower forwards the request, not this).
    policy->add_allowed_regions(identity_->region);
  } else {
    *policy->mutable_allowed_regions() = req->allowed_regions();
  }
  return Govern(call, resp, std::move(tx), std::nullopt,
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->SetResidency(client, req, resp, std::move(done));
                });
}

// The service's settings, replaced whole (a governance transaction).
grpc::ServerUnaryReactor* AdminServiceImpl::SetServiceSettings(
    Ctx* call, const v1::SetServiceSettingsRequest* req, v1::GovernanceResponse* resp) {
  v1::GovernanceTransaction tx;
  *tx.mutable_set_service_settings() = req->settings();
  return Govern(call, resp, std::move(tx), std::nullopt,
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->SetServiceSettings(client, req, resp, std::move(done));
                });
}

// A new version of a private ledger's secret. Built by the leader alone (it
// makes the secret and wraps it); a follower forwards the call as it is.
grpc::ServerUnaryReactor* AdminServiceImpl::RotateLedgerSecret(
    Ctx* call, const v1::RotateLedgerSecretRequest* req, v1::GovernanceResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_ADMINISTRATOR);
  if (!principal.ok()) return Finish(reactor, principal.status());
  if (governance_->ledger_type() != v1::LEDGER_TYPE_PRIVATE) {
    return Finish(reactor, absl::FailedPreconditionError(
                               "this ledger is public: it has no ledger secret to rotate (a "
                               "ledger's type is fixed at creation)"));
  }
  v1::GovernanceTransaction tx;
  if (router_->IsLeader()) {
    absl::StatusOr<v1::ShareLedgerSecrets> rotation = sharer_->Rotation();
    if (!rotation.ok()) return Finish(reactor, rotation.status());
    *tx.mutable_share_ledger_secrets() = *std::move(rotation);
  } else {
    tx.mutable_share_ledger_secrets();  // the leader makes the secret
  }
  return Govern(call, resp, std::move(tx), std::nullopt,
                [req, resp](auto* leader, auto* client, auto done) {
                  leader->RotateLedgerSecret(client, req, resp, std::move(done));
                });
}

}  // namespace cairn::node
