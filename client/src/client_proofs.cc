// cairn::client::Client: receipts and checkpoints, and the verified state
// they go through (see client.h and verified_state.h).
#include "absl/strings/str_cat.h"
#include "cairn/client/client.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/txid.h"
#include "call.h"
#include "core.h"

namespace cairn::client {

using internal::CallSpec;
using internal::CallSync;
using internal::VerifiedState;

absl::Status Client::WithLostEntries(
    const absl::Status& fork, const std::optional<v1::GetLatestCheckpointResponse>& trusted) {
  if (!trusted.has_value()) return fork;
  absl::StatusOr<v1::GetServiceIdentityResponse> identity = GetServiceIdentity();
  if (!identity.ok() || !identity->has_last_recovery()) return fork;
  const v1::RecoverService& r = identity->last_recovery();
  const v1::Checkpoint& saw = trusted->checkpoint().checkpoint();
  // The recovered history ends on the signature transaction at log index
  // `last`; the trusted checkpoint covers log indexes 1 .. saw.tree_size().
  absl::StatusOr<ledger::TxId> last = ledger::TxId::Parse(r.recovered_signature_txid());
  if (!last.ok() || last->index >= saw.tree_size()) return fork;
  return absl::Status(
      fork.code(),
      absl::StrCat(fork.message(), "; the service was recovered from its archive (recovery ",
                   r.recovery_count(), ", from ", r.archive_url(), ") up to txid ",
                   r.recovered_signature_txid(), ": this client saw log indexes ", last->index + 1,
                   " to ", saw.tree_size(), " (through txid ", saw.last_txid(),
                   "), which the archive did not hold; they are lost"));
}

absl::Status Client::ObserveCheckpoint(const v1::SignedCheckpoint& checkpoint,
                                       absl::string_view node_certificate_pem, bool is_latest,
                                       const std::string& endpoint) {
  VerifiedState* state = core_->verified_state();
  if (state == nullptr) return absl::OkStatus();
  // Proofs come from the node that served the checkpoint: it must be able
  // to show that what it signed extends what this client already trusts. A
  // node that lags may not have signed the trusted size yet; then any node
  // may supply the proof (it is verified, not trusted).
  auto fetch = [this, &endpoint](uint64_t from,
                                 uint64_t to) -> absl::StatusOr<v1::ConsistencyProof> {
    v1::GetConsistencyProofRequest request;
    request.set_from_tree_size(from);
    request.set_to_tree_size(to);
    CallSpec spec;
    spec.method = "GetConsistencyProof";
    spec.pinned_endpoint = endpoint;
    auto response = CallSync<v1::GetConsistencyProofResponse>(
        core_, spec, request, CAIRN_RPC(ledger, GetConsistencyProof));
    if (!response.ok() && !core_->closing()) {
      spec.pinned_endpoint.clear();
      response = CallSync<v1::GetConsistencyProofResponse>(core_, std::move(spec), request,
                                                           CAIRN_RPC(ledger, GetConsistencyProof));
    }
    if (!response.ok()) return response.status();
    return std::move(*response->mutable_proof());
  };
  absl::Status observed = state->Observe(
      checkpoint, node_certificate_pem,
      is_latest ? VerifiedState::Source::kLatest : VerifiedState::Source::kReceipt, fetch);
  if (observed.code() != absl::StatusCode::kDataLoss) return observed;
  return WithLostEntries(observed, state->trusted());
}

absl::StatusOr<v1::GetLatestCheckpointResponse> Client::GetLatestCheckpoint() {
  CallSpec spec;
  spec.method = "GetLatestCheckpoint";
  spec.answered_by = std::make_shared<std::string>();
  std::shared_ptr<std::string> endpoint = spec.answered_by;
  auto response = CallSync<v1::GetLatestCheckpointResponse>(core_, std::move(spec),
                                                            v1::GetLatestCheckpointRequest(),
                                                            CAIRN_RPC(ledger, GetLatestCheckpoint));
  if (!response.ok()) return response.status();
  if (absl::Status s = ObserveCheckpoint(response->checkpoint(), response->node_certificate_pem(),
                                         /*is_latest=*/true, *endpoint);
      !s.ok()) {
    return s;
  }
  return response;
}

absl::StatusOr<v1::Receipt> Client::GetReceipt(absl::string_view txid,
                                               const ReceiptOptions& options) {
  v1::GetReceiptRequest request;
  request.set_txid(std::string(txid));
  request.set_wait(options.wait);
  CallSpec spec;
  spec.method = "GetReceipt";
  spec.answered_by = std::make_shared<std::string>();
  if (options.wait) {
    // The node holds the call until a signature covers the txid.
    spec.attempt_timeout_ms = options.timeout_ms;
    spec.total_timeout_ms = options.timeout_ms;
  }
  std::shared_ptr<std::string> endpoint = spec.answered_by;
  auto receipt = CallSync<v1::GetReceiptResponse>(core_, std::move(spec), request,
                                                  CAIRN_RPC(ledger, GetReceipt));
  if (!receipt.ok() && options.wait && absl::IsDeadlineExceeded(receipt.status())) {
    // The wait ran out: the transaction is not covered yet (a read that is
    // not available yet), whatever the last attempt's own words were.
    return internal::WithReason(absl::DeadlineExceededError(absl::StrCat(
                                    "GetReceipt: no signature covered ", txid, " within ",
                                    options.timeout_ms, " ms (", receipt.status().message(), ")")),
                                ErrorReason::kNotYetAvailable,
                                {{std::string(kTxidKey), std::string(txid)}});
  }
  if (!receipt.ok()) return receipt.status();
  v1::Receipt out = std::move(*receipt->mutable_receipt());
  // Receipts are always verified (offline, cheap); only the comparison with
  // the trusted checkpoint depends on the verified state being on.
  if (out.leaf().txid() != txid) {
    return absl::DataLossError(absl::StrCat("invalid receipt from ", *endpoint, ": asked for ",
                                            txid, ", got one for ", out.leaf().txid()));
  }
  if (absl::Status s = ledger::VerifyReceipt(out, core_->service_cert()); !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("invalid receipt for ", txid, " from ", *endpoint, ": ", s.message()));
  }
  if (options.expect.contents.has_value() || options.expect.claims_digest.has_value() ||
      options.expect.contents_salt.has_value()) {
    ledger::ReceiptExpectations expect;
    expect.contents = options.expect.contents;
    expect.contents_salt = options.expect.contents_salt;
    expect.claims_digest = options.expect.claims_digest;
    if (absl::Status s = ledger::VerifyReceipt(out, core_->service_cert(), expect); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the receipt of ", txid, " does not prove what was expected: ", s.message()));
    }
  }
  if (absl::Status s = ObserveCheckpoint(out.checkpoint(), out.node_certificate_pem(),
                                         /*is_latest=*/false, *endpoint);
      !s.ok()) {
    return s;
  }
  return out;
}

}  // namespace cairn::client
