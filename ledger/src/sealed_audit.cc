// Opening every sealed entry of a private ledger (see sealed_audit.h).
#include "cairn/ledger/sealed_audit.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/v1/log.pb.h"

namespace cairn::ledger {

SealedContentsChecker::SealedContentsChecker(uint64_t node_id, const PrivateKey* node_key,
                                             std::string service_id)
    : node_id_(node_id), node_key_(node_key), service_id_(std::move(service_id)) {}

absl::Status SealedContentsChecker::TakeSecrets(
    const google::protobuf::RepeatedPtrField<v1::WrappedLedgerSecret>& wrapped, const TxId& txid) {
  for (const v1::WrappedLedgerSecret& w : wrapped) {
    if (w.node_id() != node_id_ || secrets_.count(w.version()) > 0) continue;
    auto bytes = UnwrapSecret(w.wrapped(), *node_key_,
                              LedgerSecretWrapContext(w.version(), node_id_, service_id_));
    if (!bytes.ok()) {
      // Another certificate of this node id (the node was replaced) is
      // not this key's; a later copy may be.
      continue;
    }
    auto secret = LedgerSecret::FromBytes(w.version(), *bytes);
    if (!secret.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "txid ", txid.ToString(), ": version ", w.version(), ": ", secret.status().message()));
    }
    secrets_.emplace(w.version(), *std::move(secret));
  }
  return absl::OkStatus();
}

absl::Status SealedContentsChecker::Check(absl::string_view name, const Segment& segment) {
  for (const SegmentRecord& r : segment.records) {
    if (r.data.empty()) continue;
    const TxId txid{r.term, r.index};
    v1::LogCommand command;
    if (!command.ParseFromString(r.data)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": txid ", txid.ToString(), " is not a LogCommand"));
    }
    if (command.has_governance()) {
      const v1::GovernanceTransaction& g = command.governance();
      absl::Status taken;
      if (g.has_create_service()) {
        private_ = private_ || g.create_service().ledger_type() == v1::LEDGER_TYPE_PRIVATE;
        taken = TakeSecrets(g.create_service().ledger_secrets(), txid);
      } else if (g.has_share_ledger_secrets()) {
        taken = TakeSecrets(g.share_ledger_secrets().secrets(), txid);
      } else if (g.has_recover_service()) {
        taken = TakeSecrets(g.recover_service().ledger_secrets(), txid);
      }
      if (!taken.ok()) return absl::Status(taken.code(), absl::StrCat(name, ": ", taken.message()));
      continue;
    }
    if (!command.has_user() || !command.user().has_sealed()) continue;
    const v1::UserTransaction& tx = command.user();
    const uint32_t version = tx.sealed().secret_version();
    const auto it = secrets_.find(version);
    if (it == secrets_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, ": txid ", txid.ToString(), " is sealed with version ", version,
                       " of the ledger secret, which node ", node_id_,
                       " was not given (or its copy does not open with this key)"));
    }
    auto opened = OpenContents(it->second, txid, tx.collection_id(), tx.sealed().ciphertext());
    if (!opened.ok()) {
      return absl::Status(opened.status().code(), absl::StrCat(name, ": txid ", txid.ToString(),
                                                               ": ", opened.status().message()));
    }
    auto commitment = ContentsCommitment(opened->salt, opened->contents);
    if (!commitment.ok()) return commitment.status();
    if (HashToString(*commitment) != tx.sealed().commitment()) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, ": txid ", txid.ToString(),
                       ": the contents sealed there do not match the commitment the tree binds"));
    }
    ++opened_;
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger
