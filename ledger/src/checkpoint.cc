// Checkpoint signing and verification, signature transactions and
// checkpoint consistency (see checkpoint.h).
#include "cairn/ledger/checkpoint.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/merkle.h"

namespace cairn::ledger {
namespace {

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// signature_txid is not signed either (it is known only once the signature
// transaction is in the log); when present it must at least be a txid after
// every leaf the checkpoint covers.
absl::Status CheckSignatureTxid(const v1::SignedCheckpoint& sc) {
  if (sc.signature_txid().empty()) return absl::OkStatus();
  absl::StatusOr<TxId> txid = TxId::Parse(sc.signature_txid(), "signature_txid");
  if (!txid.ok()) return Prefixed("checkpoint: ", txid.status());
  const TxId last = *TxId::Parse(sc.checkpoint().last_txid());  // encoded, so valid
  if (txid->index <= last.index || txid->term < last.term) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: signature_txid ",
                                                   sc.signature_txid(), " is not after last_txid ",
                                                   sc.checkpoint().last_txid()));
  }
  return absl::OkStatus();
}

}  // namespace

v1::Checkpoint MakeCheckpoint(absl::string_view service_id, uint64_t tree_size, const Hash& root,
                              const TxId& last_txid, int64_t timestamp_unix_ms) {
  v1::Checkpoint checkpoint;
  checkpoint.set_service_id(std::string(service_id));
  checkpoint.set_tree_size(tree_size);
  checkpoint.set_root_hash(HashToString(root));
  checkpoint.set_last_txid(last_txid.ToString());
  checkpoint.set_timestamp_unix_ms(timestamp_unix_ms);
  return checkpoint;
}

absl::StatusOr<v1::SignedCheckpoint> SignCheckpoint(const v1::Checkpoint& checkpoint,
                                                    uint64_t signer_node_id,
                                                    const PrivateKey& node_key) {
  absl::StatusOr<std::string> encoded = EncodeCheckpoint(checkpoint);
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<std::string> signature = node_key.Sign(*encoded);
  if (!signature.ok()) return signature.status();
  v1::SignedCheckpoint out;
  *out.mutable_checkpoint() = checkpoint;
  out.set_signer_node_id(signer_node_id);
  out.set_signature(*std::move(signature));
  return out;
}

absl::Status VerifySignedCheckpoint(const v1::SignedCheckpoint& signed_checkpoint,
                                    const Certificate& node_cert, const Certificate& service_cert) {
  const v1::Checkpoint& checkpoint = signed_checkpoint.checkpoint();
  // Only node certificates sign checkpoints: a user certificate from the same
  // CA (clientAuth only) must not, whatever name it carries. signer_node_id
  // is not signed; bind it to the certificate instead.
  if (absl::Status s = VerifyNodeCertificate(node_cert, service_cert,
                                             absl::FromUnixMillis(checkpoint.timestamp_unix_ms()),
                                             signed_checkpoint.signer_node_id());
      !s.ok()) {
    return Prefixed("node certificate: ", s);
  }
  const std::string service_id = service_cert.Fingerprint();
  if (checkpoint.service_id() != service_id) {
    return absl::InvalidArgumentError(absl::StrCat("service id: checkpoint is for service ",
                                                   checkpoint.service_id().substr(0, 64), ", not ",
                                                   service_id));
  }
  absl::StatusOr<std::string> encoded = EncodeCheckpoint(checkpoint);
  if (!encoded.ok()) return Prefixed("checkpoint: ", encoded.status());
  if (absl::Status s = node_cert.VerifySignature(*encoded, signed_checkpoint.signature());
      !s.ok()) {
    return Prefixed("checkpoint signature: ", s);
  }
  return CheckSignatureTxid(signed_checkpoint);
}

v1::LogCommand MakeSignatureCommand(const v1::SignedCheckpoint& signed_checkpoint,
                                    const Certificate& node_cert) {
  v1::LogCommand command;
  *command.mutable_signature()->mutable_checkpoint() = signed_checkpoint;
  command.mutable_signature()->set_node_certificate_pem(node_cert.ToPem());
  return command;
}

absl::Status CheckSignatureTransaction(const v1::SignatureTransaction& tx, uint64_t index,
                                       const MerkleTree& tree, TermAt term_at,
                                       const Certificate& service_cert,
                                       const Certificate* node_cert_parsed) {
  const v1::Checkpoint& checkpoint = tx.checkpoint().checkpoint();
  const uint64_t size = checkpoint.tree_size();
  if (index == 0 || size > index - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: tree_size ", size,
                     " covers leaves at or after its own entry (log index ", index, ")"));
  }
  std::optional<Certificate> parsed;
  if (node_cert_parsed == nullptr) {
    absl::StatusOr<Certificate> node_cert = Certificate::FromPem(tx.node_certificate_pem());
    if (!node_cert.ok()) return Prefixed("node certificate: ", node_cert.status());
    parsed = *std::move(node_cert);
    node_cert_parsed = &*parsed;
  }
  if (absl::Status s = VerifySignedCheckpoint(tx.checkpoint(), *node_cert_parsed, service_cert);
      !s.ok()) {
    return s;
  }
  // The checkpoint is well formed and genuinely signed; now compare it with
  // the history this replica holds.
  absl::StatusOr<Hash> root = tree.RootAt(size);
  if (!root.ok()) return Prefixed("checkpoint: ", root.status());
  if (HashBytes(*root) != checkpoint.root_hash()) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint: signed root of tree size ", size, " is ",
                     HashToHex(*HashFromBytes(checkpoint.root_hash(), "root_hash")),
                     " but the leaves give ", HashToHex(*root)));
  }
  absl::StatusOr<uint64_t> term = term_at(size);
  if (!term.ok()) return Prefixed("checkpoint: last_txid: ", term.status());
  const std::string expected = TxId{*term, size}.ToString();
  if (checkpoint.last_txid() != expected) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint: last_txid is ", checkpoint.last_txid(), " but the entry is ", expected));
  }
  return absl::OkStatus();
}

absl::Status VerifyCheckpointExtends(const v1::Checkpoint& earlier, const v1::Checkpoint& later,
                                     const v1::ConsistencyProof& proof) {
  if (earlier.service_id() != later.service_id()) {
    return absl::InvalidArgumentError("consistency: checkpoints are of different services");
  }
  if (later.tree_size() < earlier.tree_size()) {
    return absl::InvalidArgumentError(absl::StrCat("consistency: rollback: tree size went from ",
                                                   earlier.tree_size(), " to ", later.tree_size()));
  }
  if (proof.from_tree_size() != earlier.tree_size() || proof.to_tree_size() != later.tree_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consistency: proof is from ", proof.from_tree_size(), " to ", proof.to_tree_size(),
        ", the checkpoints are ", earlier.tree_size(), " and ", later.tree_size()));
  }
  absl::StatusOr<Hash> root1 = HashFromBytes(earlier.root_hash(), "earlier.root_hash");
  if (!root1.ok()) return Prefixed("consistency: ", root1.status());
  absl::StatusOr<Hash> root2 = HashFromBytes(later.root_hash(), "later.root_hash");
  if (!root2.ok()) return Prefixed("consistency: ", root2.status());
  absl::StatusOr<std::vector<Hash>> hashes = ProofFromBytes(proof.hashes(), "proof.hashes");
  if (!hashes.ok()) return Prefixed("consistency: ", hashes.status());
  absl::StatusOr<TxId> last1 = TxId::Parse(earlier.last_txid(), "earlier.last_txid");
  if (!last1.ok()) return Prefixed("consistency: ", last1.status());
  absl::StatusOr<TxId> last2 = TxId::Parse(later.last_txid(), "later.last_txid");
  if (!last2.ok()) return Prefixed("consistency: ", last2.status());
  // Raft terms never decrease along the log, and one index has one term.
  if (earlier.tree_size() == later.tree_size() ? last1->term != last2->term
                                               : last2->term < last1->term) {
    return absl::InvalidArgumentError(absl::StrCat("consistency: fork: last txid went from ",
                                                   earlier.last_txid(), " to ", later.last_txid()));
  }
  if (absl::Status s =
          VerifyConsistency(earlier.tree_size(), later.tree_size(), *root1, *root2, *hashes);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("consistency: fork: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger
