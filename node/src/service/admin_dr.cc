// AdminService's disaster-recovery calls (see admin_service.h): a
// geo-replica's report of what its archive holds, and dr status.
#include "absl/strings/str_cat.h"
#include "cairn/base/clock.h"
#include "cairn/ledger/cosignature.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"
#include "service/admin_service.h"

namespace cairn::node {
namespace {

// OK when `c` cosigns the checkpoint this ledger's signature transaction at
// c.signature_txid carries, unchanged.
absl::Status IsOurCheckpoint(const storage::LedgerStore& ledger, const v1::ArchiveCosignature& c) {
  absl::StatusOr<ledger::TxId> txid = ledger::TxId::Parse(c.signature_txid(), "signature_txid");
  if (!txid.ok()) return txid.status();
  if (txid->index > ledger.applied_index()) {
    return absl::UnavailableError(absl::StrCat("entry ", c.signature_txid(),
                                               " is not applied on the leader yet; report again"));
  }
  absl::StatusOr<storage::StoredEntry> stored = ledger.Get(txid->index);
  if (!stored.ok()) return stored.status();
  v1::LogCommand command;
  if (stored->term != txid->term || !command.ParseFromString(stored->data) ||
      !command.has_signature()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the cosigned archive ends on ", c.signature_txid(),
        ", which is not a signature transaction of this ledger: the archive is of another "
        "history"));
  }
  absl::StatusOr<std::string> ours =
      ledger::EncodeCheckpoint(command.signature().checkpoint().checkpoint());
  absl::StatusOr<std::string> theirs = ledger::EncodeCheckpoint(c.checkpoint());
  if (!ours.ok() || !theirs.ok() || *ours != *theirs) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the cosigned checkpoint is not the one this ledger signed at ", c.signature_txid()));
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::ReportArchived(Ctx* call,
                                                           const v1::ReportArchivedRequest* req,
                                                           v1::ReportArchivedResponse* resp) {
  auto* reactor = call->DefaultReactor();
  absl::StatusOr<v1::NodeInfo> member = authorizer_->AuthorizeMemberNode(*call);
  if (!member.ok()) return Finish(reactor, member.status());
  if (!router_->IsLeader()) {
    reactor->Finish(router_->NotLeader(call));
    return reactor;
  }
  std::string region = member->region();
  if (req->has_cosignature()) {
    const v1::ArchiveCosignature& c = req->cosignature();
    if (absl::Status s = ledger::VerifyCosignature(c, *service_cert_); !s.ok()) {
      return Finish(reactor, s);
    }
    if (c.signer_node_id() != member->node_id()) {
      return Finish(reactor, absl::PermissionDeniedError(absl::StrCat(
                                 "node ", member->node_id(), " reported a cosignature of node ",
                                 c.signer_node_id(), "; a geo-replica reports only its own")));
    }
    if (absl::Status s = IsOurCheckpoint(*ledger_, c); !s.ok()) return Finish(reactor, s);
    if (region.empty()) region = c.region();
  }
  // A copy outside the residency policy does not count (its geo-replica
  // stops archiving too, georeplica/archive_uploader.h).
  if (absl::Status s =
          governance_->CheckResidency(region, absl::StrCat("geo-replica node ", member->node_id()));
      !s.ok()) {
    return Finish(reactor, s);
  }
  geo_->Record(member->node_id(), region, *req, base::NowUnixMs());
  return Finish(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetDrStatus(Ctx* call,
                                                        const v1::GetDrStatusRequest* req,
                                                        v1::DrStatus* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  if (!router_->IsLeader()) {
    router_->Forward<v1::AdminService>(call, reactor, *principal,
                                       [req, resp](auto* leader, auto* client, auto done) {
                                         leader->GetDrStatus(client, req, resp, std::move(done));
                                       });
    return reactor;
  }
  resp->set_service_id(identity_->service_id);
  resp->set_leader_id(identity_->node_id);
  resp->set_leader_region(identity_->region);
  geo_->Fill(resp, ledger_->applied_index(), base::NowUnixMs());
  for (const std::string& r : governance_->allowed_regions()) resp->add_allowed_regions(r);
  *resp->mutable_settings() = governance_->settings();
  return Finish(reactor, absl::OkStatus());
}

}  // namespace cairn::node
