// The fake node's gRPC services (see fake_server.h). Synchronous gRPC
// services are enough here: the fake has no I/O of its own.
#include "fake_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cairn/base/check.h"
#include "cairn/ledger/identity.h"
#include "cairn/v1/admin.grpc.pb.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "errors/status.h"
#include "testing/process.h"

namespace cairn::testing {
namespace {

// What a node answers for `s`: its code and message, and its reason (the
// one attached, else the one its code implies) in the status details.
grpc::Status ToGrpc(const absl::Status& s) { return node::ToGrpcStatus(s); }

absl::Status Error(grpc::StatusCode code, const std::string& message) {
  return absl::Status(static_cast<absl::StatusCode>(code), message);
}

// node::WithReason takes its metadata as an initializer list.
absl::Status Reasoned(absl::Status s, v1::ErrorReason reason,
                      const std::vector<std::pair<std::string, std::string>>& m) {
  switch (m.size()) {
    case 0:
      return node::WithReason(std::move(s), reason);
    case 1:
      return node::WithReason(std::move(s), reason, {m[0]});
    case 2:
      return node::WithReason(std::move(s), reason, {m[0], m[1]});
    default:
      CAIRN_CHECK(m.size() == 3) << "a Fault has at most 3 metadata entries";
      return node::WithReason(std::move(s), reason, {m[0], m[1], m[2]});
  }
}

std::string Slurp(const std::string& path) { return ReadFileOrEmpty(path); }

// Runs `body` when the caller may make the call; its result becomes the answer.
#define FAKE_CALL(method, is_write, role, body)                                          \
  do {                                                                                   \
    if (grpc::Status s = server_->Intercept(context, method, is_write); !s.ok()) {       \
      return s;                                                                          \
    }                                                                                    \
    if (absl::Status s = server_->RequireRole(context, role); !s.ok()) return ToGrpc(s); \
    body                                                                                 \
  } while (0)

}  // namespace

class FakeServer::Ledger final : public v1::LedgerService::Service {
 public:
  explicit Ledger(FakeServer* server) : server_(server) {}

  grpc::Status Append(grpc::ServerContext* context, const v1::AppendRequest* request,
                      v1::AppendResponse* response) override {
    FAKE_CALL("Append", true, v1::ROLE_CONTRIBUTOR, {
      const bool held = server_->TakeHold();
      if (held) {
        // Wait until the client has given up on this attempt (cancelled it,
        // or its deadline passed a while ago); apply regardless.
        const absl::Time deadline = absl::FromChrono(context->deadline());
        while (absl::Now() < deadline + absl::Milliseconds(100) &&
               !(context->IsCancelled() && absl::Now() < deadline)) {
          absl::SleepFor(absl::Milliseconds(5));
        }
      }
      auto r = server_->ledger()->Append(*request, server_->CallerId(context));
      if (held) server_->HoldDone();
      if (!r.ok()) return ToGrpc(r.status());
      if (server_->TakeLostAnswer()) {
        // gRPC's own answer for a broken connection: no details.
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection lost (fake)");
      }
      *response = *r;
      return grpc::Status::OK;
    });
  }

  grpc::Status GetEntry(grpc::ServerContext* context, const v1::GetEntryRequest* request,
                        v1::GetEntryResponse* response) override {
    FAKE_CALL("GetEntry", false, v1::ROLE_READER, {
      auto r = server_->ledger()->GetEntry(request->txid());
      if (!r.ok()) return ToGrpc(r.status());
      *response->mutable_entry() = *r;
      return grpc::Status::OK;
    });
  }

  grpc::Status GetCurrentEntry(grpc::ServerContext* context,
                               const v1::GetCurrentEntryRequest* request,
                               v1::GetCurrentEntryResponse* response) override {
    FAKE_CALL("GetCurrentEntry", false, v1::ROLE_READER, {
      auto r = server_->ledger()->GetCurrentEntry(request->collection_id());
      if (!r.ok()) return ToGrpc(r.status());
      *response->mutable_entry() = *r;
      return grpc::Status::OK;
    });
  }

  grpc::Status ListEntries(grpc::ServerContext* context, const v1::ListEntriesRequest* request,
                           v1::ListEntriesResponse* response) override {
    FAKE_CALL("ListEntries", false, v1::ROLE_READER, {
      auto r = server_->ledger()->ListEntries(*request);
      if (!r.ok()) return ToGrpc(r.status());
      *response = *r;
      return grpc::Status::OK;
    });
  }

  grpc::Status ListCollections(grpc::ServerContext* context,
                               const v1::ListCollectionsRequest* request,
                               v1::ListCollectionsResponse* response) override {
    FAKE_CALL("ListCollections", false, v1::ROLE_READER, {
      *response = server_->ledger()->ListCollections(*request);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetTransactionStatus(grpc::ServerContext* context,
                                    const v1::GetTransactionStatusRequest* request,
                                    v1::GetTransactionStatusResponse* response) override {
    FAKE_CALL("GetTransactionStatus", false, v1::ROLE_READER, {
      auto r = server_->ledger()->Status(request->txid());
      if (!r.ok()) return ToGrpc(r.status());
      *response = *r;
      return grpc::Status::OK;
    });
  }

  grpc::Status GetReceipt(grpc::ServerContext* context, const v1::GetReceiptRequest* request,
                          v1::GetReceiptResponse* response) override {
    FAKE_CALL("GetReceipt", false, v1::ROLE_READER, {
      auto r = server_->ledger()->Receipt(request->txid(), server_->receipt_size());
      if (!r.ok()) return ToGrpc(r.status());
      *response->mutable_receipt() = *r;
      return grpc::Status::OK;
    });
  }

  grpc::Status GetConsistencyProof(grpc::ServerContext* context,
                                   const v1::GetConsistencyProofRequest* request,
                                   v1::GetConsistencyProofResponse* response) override {
    FAKE_CALL("GetConsistencyProof", false, v1::ROLE_READER, {
      auto r =
          server_->ledger()->ConsistencyProof(request->from_tree_size(), request->to_tree_size());
      if (!r.ok()) return ToGrpc(r.status());
      *response->mutable_proof() = *r;
      if (server_->corrupt_proofs() && response->proof().hashes_size() > 0) {
        std::string* h = response->mutable_proof()->mutable_hashes(0);
        (*h)[0] = static_cast<char>((*h)[0] ^ 0x01);
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status GetLatestCheckpoint(grpc::ServerContext* context,
                                   const v1::GetLatestCheckpointRequest*,
                                   v1::GetLatestCheckpointResponse* response) override {
    FAKE_CALL("GetLatestCheckpoint", false, v1::ROLE_READER, {
      if (auto fixed = server_->fixed_checkpoint()) {
        *response = *fixed;
        return grpc::Status::OK;
      }
      auto r = server_->ledger()->Checkpoint(server_->latest_size());
      if (!r.ok()) return ToGrpc(r.status());
      *response = *r;
      return grpc::Status::OK;
    });
  }

  grpc::Status GetServiceIdentity(grpc::ServerContext* context,
                                  const v1::GetServiceIdentityRequest*,
                                  v1::GetServiceIdentityResponse* response) override {
    FAKE_CALL("GetServiceIdentity", false, v1::ROLE_UNSPECIFIED, {
      *response = server_->ledger()->Identity();
      return grpc::Status::OK;
    });
  }

 private:
  FakeServer* server_;
};

class FakeServer::Admin final : public v1::AdminService::Service {
 public:
  explicit Admin(FakeServer* server) : server_(server) {}

  grpc::Status PutUser(grpc::ServerContext* context, const v1::PutUserRequest* request,
                       v1::GovernanceResponse* response) override {
    FAKE_CALL("PutUser", true, v1::ROLE_ADMINISTRATOR, {
      v1::User user = request->user();
      if (user.user_id().empty() && !request->certificate_pem().empty()) {
        auto cert = ledger::Certificate::FromPem(request->certificate_pem());
        if (!cert.ok()) return ToGrpc(cert.status());
        user.set_user_id(cert->Fingerprint());
      }
      if (user.user_id().size() != 64) {
        return ToGrpc(Error(grpc::StatusCode::INVALID_ARGUMENT, "user.user_id is malformed"));
      }
      if (user.role() == v1::ROLE_UNSPECIFIED) {
        return ToGrpc(Error(grpc::StatusCode::INVALID_ARGUMENT, "user.role is unspecified"));
      }
      server_->ledger()->PutUser(user.user_id(), user.role());
      v1::GovernanceTransaction change;
      change.set_user_id(server_->CallerId(context));
      *change.mutable_put_user() = user;
      response->set_txid(server_->ledger()->RecordGovernance(change));
      return grpc::Status::OK;
    });
  }

  grpc::Status RemoveUser(grpc::ServerContext* context, const v1::RemoveUserRequest* request,
                          v1::GovernanceResponse* response) override {
    FAKE_CALL("RemoveUser", true, v1::ROLE_ADMINISTRATOR, {
      if (server_->ledger()->RoleOf(request->user_id()) == v1::ROLE_UNSPECIFIED) {
        return ToGrpc(Error(grpc::StatusCode::NOT_FOUND, "no user " + request->user_id()));
      }
      server_->ledger()->PutUser(request->user_id(), v1::ROLE_UNSPECIFIED);
      v1::GovernanceTransaction change;
      change.set_user_id(server_->CallerId(context));
      change.set_remove_user_id(request->user_id());
      response->set_txid(server_->ledger()->RecordGovernance(change));
      return grpc::Status::OK;
    });
  }

  grpc::Status GetUser(grpc::ServerContext* context, const v1::GetUserRequest* request,
                       v1::User* response) override {
    FAKE_CALL("GetUser", false, v1::ROLE_ADMINISTRATOR, {
      for (const v1::User& u : server_->ledger()->Users()) {
        if (u.user_id() == request->user_id() && u.role() != v1::ROLE_UNSPECIFIED) {
          *response = u;
          return grpc::Status::OK;
        }
      }
      return ToGrpc(Error(grpc::StatusCode::NOT_FOUND, "no user " + request->user_id()));
    });
  }

  grpc::Status ListUsers(grpc::ServerContext* context, const v1::ListUsersRequest*,
                         v1::ListUsersResponse* response) override {
    FAKE_CALL("ListUsers", false, v1::ROLE_ADMINISTRATOR, {
      for (const v1::User& u : server_->ledger()->Users()) {
        if (u.role() != v1::ROLE_UNSPECIFIED) *response->add_users() = u;
      }
      return grpc::Status::OK;
    });
  }

  grpc::Status AddLearner(grpc::ServerContext* context, const v1::AddLearnerRequest* request,
                          v1::GovernanceResponse* response) override {
    FAKE_CALL("AddLearner", true, v1::ROLE_ADMINISTRATOR, {
      if (request->node().node_id() == 0 || request->node().client_address().empty()) {
        return ToGrpc(Error(grpc::StatusCode::INVALID_ARGUMENT, "node.node_id is 0"));
      }
      v1::GovernanceTransaction change;
      change.set_user_id(server_->CallerId(context));
      *change.mutable_add_learner() = request->node();
      response->set_txid(server_->ledger()->RecordGovernance(change));
      return grpc::Status::OK;
    });
  }

  grpc::Status PromoteLearner(grpc::ServerContext* context,
                              const v1::PromoteLearnerRequest* request,
                              v1::GovernanceResponse* response) override {
    FAKE_CALL("PromoteLearner", true, v1::ROLE_ADMINISTRATOR, {
      if (request->node_id() != 4) {
        return ToGrpc(Error(grpc::StatusCode::FAILED_PRECONDITION, "node is not a learner"));
      }
      v1::GovernanceTransaction change;
      change.set_user_id(server_->CallerId(context));
      change.set_promote_learner_node_id(request->node_id());
      response->set_txid(server_->ledger()->RecordGovernance(change));
      return grpc::Status::OK;
    });
  }

  grpc::Status RemoveNode(grpc::ServerContext* context, const v1::RemoveNodeRequest* request,
                          v1::GovernanceResponse* response) override {
    FAKE_CALL("RemoveNode", true, v1::ROLE_ADMINISTRATOR, {
      if (request->node_id() > 4) {
        return ToGrpc(
            Error(grpc::StatusCode::NOT_FOUND, "no node " + std::to_string(request->node_id())));
      }
      v1::GovernanceTransaction change;
      change.set_user_id(server_->CallerId(context));
      change.set_remove_node_id(request->node_id());
      response->set_txid(server_->ledger()->RecordGovernance(change));
      return grpc::Status::OK;
    });
  }

  grpc::Status TransferLeadership(grpc::ServerContext* context,
                                  const v1::TransferLeadershipRequest* request,
                                  v1::TransferLeadershipResponse* response) override {
    FAKE_CALL("TransferLeadership", true, v1::ROLE_ADMINISTRATOR, {
      if (request->target_node_id() > 3) {
        return ToGrpc(Error(grpc::StatusCode::FAILED_PRECONDITION, "target is not a voter"));
      }
      response->set_new_leader_id(request->target_node_id() == 0 ? 2 : request->target_node_id());
      response->set_term(2);
      return grpc::Status::OK;
    });
  }

  grpc::Status TriggerSnapshot(grpc::ServerContext* context, const v1::TriggerSnapshotRequest*,
                               v1::TriggerSnapshotResponse* response) override {
    FAKE_CALL("TriggerSnapshot", false, v1::ROLE_ADMINISTRATOR, {
      response->set_snapshot_index(server_->ledger()->size());
      return grpc::Status::OK;
    });
  }

  grpc::Status GetClusterStatus(grpc::ServerContext* context, const v1::GetClusterStatusRequest*,
                                v1::ClusterStatus* response) override {
    FAKE_CALL("GetClusterStatus", false, v1::ROLE_READER, {
      const v1::GetServiceIdentityResponse id = server_->ledger()->Identity();
      response->set_service_id(id.service_id());
      response->set_leader_id(id.node_id());
      response->set_term(1);
      response->set_last_signed_index(server_->ledger()->size());
      v1::NodeStatus* node = response->add_nodes();
      node->mutable_node()->set_node_id(id.node_id());
      node->mutable_node()->set_client_address(server_->address());
      node->mutable_node()->set_membership(v1::MEMBERSHIP_VOTER);
      node->set_role(v1::RAFT_ROLE_LEADER);
      node->set_term(1);
      node->set_commit_index(server_->ledger()->size());
      node->set_reachable(true);
      return grpc::Status::OK;
    });
  }

 private:
  FakeServer* server_;
};

FakeServer::FakeServer(FakeLedger* ledger, std::string tls_cert_file, std::string tls_key_file,
                       std::string service_cert_file)
    : tls_cert_file_(std::move(tls_cert_file)),
      tls_key_file_(std::move(tls_key_file)),
      service_cert_file_(std::move(service_cert_file)),
      ledger_service_(std::make_unique<Ledger>(this)),
      admin_service_(std::make_unique<Admin>(this)),
      ledger_(ledger) {}

FakeServer::~FakeServer() { Stop(); }

absl::Status FakeServer::Start(int port) {
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = Slurp(service_cert_file_);
  tls.pem_key_cert_pairs.push_back({Slurp(tls_key_file_), Slurp(tls_cert_file_)});
  grpc::ServerBuilder builder;
  // Never share a port with another test's server (gRPC enables SO_REUSEPORT).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::SslServerCredentials(tls),
                           &port_);
  builder.RegisterService(ledger_service_.get());
  builder.RegisterService(admin_service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat("fake server cannot listen on port ", port));
  }
  address_ = absl::StrCat("127.0.0.1:", port_);
  return absl::OkStatus();
}

void FakeServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
  server_.reset();
}

grpc::Status FakeServer::Intercept(grpc::ServerContext* context, const std::string& method,
                                   bool is_write) {
  absl::MutexLock lock(&mu_);
  ++calls_[method];
  const Fault& f = failure_.fault;
  if (failure_.remaining > 0 && (f.method.empty() || f.method == method)) {
    --failure_.remaining;
    if (!f.hint.empty()) context->AddTrailingMetadata("cairn-leader", f.hint);
    const std::string message =
        f.message.empty() ? absl::StrCat(method, " failed (fake fault)") : f.message;
    if (f.bare) return grpc::Status(f.code, message);
    absl::Status s = Error(f.code, message);
    if (f.reason != v1::ERROR_REASON_UNSPECIFIED) s = Reasoned(std::move(s), f.reason, f.metadata);
    return ToGrpc(s);
  }
  if (is_write && !follower_of_.empty()) {
    // As node/src/service/leader_router.cc (LeaderRouter::NotLeader) answers.
    context->AddTrailingMetadata("cairn-leader", follower_of_);
    return ToGrpc(node::WithReason(
        absl::UnavailableError(
            absl::StrCat("this node is not the leader; the leader is at ", follower_of_)),
        v1::ERROR_REASON_NOT_LEADER, {{"leader_address", follower_of_}, {"leader_id", "1"}}));
  }
  return grpc::Status::OK;
}

std::string FakeServer::CallerId(grpc::ServerContext* context) const {
  std::vector<grpc::string_ref> pems = context->auth_context()->FindPropertyValues("x509_pem_cert");
  if (pems.empty()) return "";
  auto cert = ledger::Certificate::FromPem(absl::string_view(pems[0].data(), pems[0].size()));
  return cert.ok() ? cert->Fingerprint() : "";
}

absl::Status FakeServer::RequireRole(grpc::ServerContext* context, v1::Role role) const {
  if (role == v1::ROLE_UNSPECIFIED) return absl::OkStatus();
  const std::string caller = CallerId(context);
  const v1::Role have = ledger()->RoleOf(caller);
  if (have == v1::ROLE_UNSPECIFIED) {
    return absl::PermissionDeniedError(absl::StrCat("user ", caller, " is not a known user"));
  }
  if (have < role) {
    return absl::PermissionDeniedError(absl::StrCat("user ", caller, " has role ",
                                                    v1::Role_Name(have), "; the call needs ",
                                                    v1::Role_Name(role)));
  }
  return absl::OkStatus();
}

void FakeServer::set_follower_of(std::string leader_address) {
  absl::MutexLock lock(&mu_);
  follower_of_ = std::move(leader_address);
}

void FakeServer::Fail(int n, Fault fault) {
  CAIRN_CHECK(fault.metadata.size() <= 3) << "a Fault has at most 3 metadata entries";
  absl::MutexLock lock(&mu_);
  failure_ = Failure{n, std::move(fault)};
}

void FakeServer::FailNext(int n, grpc::StatusCode code, std::string method, std::string hint) {
  Fault fault;
  fault.code = code;
  fault.method = std::move(method);
  fault.hint = std::move(hint);
  Fail(n, std::move(fault));
}

void FakeServer::LoseNextAppendAnswers(int n) {
  absl::MutexLock lock(&mu_);
  lost_answers_ = n;
}

void FakeServer::HoldNextAppends(int n) {
  absl::MutexLock lock(&mu_);
  holds_ = n;
}

bool FakeServer::TakeLostAnswer() {
  absl::MutexLock lock(&mu_);
  if (lost_answers_ == 0) return false;
  --lost_answers_;
  return true;
}

bool FakeServer::TakeHold() {
  absl::MutexLock lock(&mu_);
  if (holds_ == 0) return false;
  --holds_;
  return true;
}

void FakeServer::HoldDone() {
  absl::MutexLock lock(&mu_);
  ++holds_done_;
}

int FakeServer::held_appends_done() const {
  absl::MutexLock lock(&mu_);
  return holds_done_;
}

void FakeServer::set_latest_size(uint64_t size) {
  absl::MutexLock lock(&mu_);
  latest_size_ = size;
}

uint64_t FakeServer::latest_size() const {
  absl::MutexLock lock(&mu_);
  return latest_size_;
}

void FakeServer::set_fixed_checkpoint(std::optional<v1::GetLatestCheckpointResponse> checkpoint) {
  absl::MutexLock lock(&mu_);
  fixed_checkpoint_ = std::move(checkpoint);
}

std::optional<v1::GetLatestCheckpointResponse> FakeServer::fixed_checkpoint() const {
  absl::MutexLock lock(&mu_);
  return fixed_checkpoint_;
}

void FakeServer::set_receipt_size(uint64_t size) {
  absl::MutexLock lock(&mu_);
  receipt_size_ = size;
}

uint64_t FakeServer::receipt_size() const {
  absl::MutexLock lock(&mu_);
  return receipt_size_;
}

void FakeServer::set_corrupt_proofs(bool corrupt) {
  absl::MutexLock lock(&mu_);
  corrupt_proofs_ = corrupt;
}

bool FakeServer::corrupt_proofs() const {
  absl::MutexLock lock(&mu_);
  return corrupt_proofs_;
}

void FakeServer::set_ledger(FakeLedger* ledger) {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* uses) { return *uses == 0; }, &ledger_uses_));
  ledger_ = ledger;
}

FakeServer::LedgerUse FakeServer::ledger() const {
  absl::MutexLock lock(&mu_);
  ++ledger_uses_;
  return LedgerUse(this, ledger_);
}

FakeServer::LedgerUse::~LedgerUse() {
  absl::MutexLock lock(&server_->mu_);
  --server_->ledger_uses_;
}

int FakeServer::calls(const std::string& method) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

}  // namespace cairn::testing
