// Building and verifying receipts (see receipt.h). Verification runs its
// checks in the documented order and stops at the first failure, naming it.
#include "cairn/ledger/receipt.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/txid.h"

namespace cairn::ledger {
namespace {

absl::Status Failed(absl::string_view check, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat(check, ": ", status.message()));
}

absl::Status Failed(absl::string_view check, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(check, ": ", why));
}

// Part of check 2: the contents (and a private entry's salt) the verifier
// was given lead to the leaf's contents_digest.
absl::Status CheckContents(const v1::LeafComponents& leaf, const ReceiptExpectations& expect) {
  const bool private_entry = leaf.kind() == v1::ENTRY_KIND_PRIVATE_USER;
  if (expect.contents_salt.has_value() && !private_entry) {
    return Failed("leaf", "a contents salt was given, but this is not a private entry");
  }
  if (!expect.contents.has_value()) return absl::OkStatus();
  if (!private_entry) {
    if (HashToString(Sha256(*expect.contents)) != leaf.contents_digest()) {
      return Failed("leaf", "the contents do not match contents_digest");
    }
    return absl::OkStatus();
  }
  if (!expect.contents_salt.has_value()) {
    return Failed("leaf",
                  "this is a private entry: its contents are checked with its contents salt, "
                  "which was not given");
  }
  absl::StatusOr<Hash> commitment = ContentsCommitment(*expect.contents_salt, *expect.contents);
  if (!commitment.ok()) return Failed("leaf", commitment.status());
  if (HashToString(*commitment) != leaf.contents_digest()) {
    return Failed("leaf", "the contents and salt do not match contents_digest");
  }
  return absl::OkStatus();
}

// Check 2: the leaf's hash, from its components, matching what is expected.
absl::StatusOr<Hash> CheckLeaf(const v1::Receipt& receipt, const ReceiptExpectations& expect) {
  const v1::LeafComponents& leaf = receipt.leaf();
  absl::StatusOr<Hash> leaf_hash = LeafHashOf(leaf);
  if (!leaf_hash.ok()) return Failed("leaf", leaf_hash.status());
  const TxId txid = *TxId::Parse(leaf.txid());  // EncodeLeaf validated it
  if (receipt.leaf_index() != txid.leaf_index()) {
    return Failed("leaf", absl::StrCat("leaf_index ", receipt.leaf_index(), " is not txid ",
                                       leaf.txid(), "'s index - 1"));
  }
  if (absl::Status st = CheckContents(leaf, expect); !st.ok()) return st;
  if (expect.claims_digest.has_value() && *expect.claims_digest != leaf.claims_digest()) {
    return Failed("leaf", "the claims digest does not match claims_digest");
  }
  return leaf_hash;
}

// Check 3: the inclusion proof leads from the leaf to the checkpoint's root.
absl::Status CheckInclusion(const v1::Receipt& receipt, const Hash& leaf_hash) {
  const v1::Checkpoint& checkpoint = receipt.checkpoint().checkpoint();
  absl::StatusOr<std::vector<Hash>> proof = ProofFromBytes(receipt.inclusion_proof(), "hash");
  if (!proof.ok()) return Failed("inclusion proof", proof.status());
  absl::StatusOr<Hash> root = HashFromBytes(checkpoint.root_hash(), "checkpoint root_hash");
  if (!root.ok()) return Failed("inclusion proof", root.status());
  absl::StatusOr<Hash> computed =
      RootFromInclusionProof(receipt.leaf_index(), checkpoint.tree_size(), leaf_hash, *proof);
  if (!computed.ok()) return Failed("inclusion proof", computed.status());
  if (*computed != *root) {
    return Failed("inclusion proof", absl::StrCat("leads to root ", HashToHex(*computed),
                                                  ", the checkpoint's is ", HashToHex(*root)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Receipt> BuildReceipt(const v1::LeafComponents& leaf, const MerkleTree& tree,
                                         const v1::SignedCheckpoint& signed_checkpoint,
                                         absl::string_view node_certificate_pem) {
  if (absl::StatusOr<std::string> encoded = EncodeLeaf(leaf); !encoded.ok()) {
    return encoded.status();
  }
  const uint64_t leaf_index = TxId::Parse(leaf.txid())->leaf_index();
  const uint64_t size = signed_checkpoint.checkpoint().tree_size();
  if (leaf_index >= size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "txid ", leaf.txid(), " is not covered by the checkpoint (tree size ", size, ")"));
  }
  absl::StatusOr<std::vector<Hash>> proof = tree.InclusionProof(leaf_index, size);
  if (!proof.ok()) return proof.status();
  v1::Receipt receipt;
  receipt.set_version(kReceiptVersion);
  *receipt.mutable_leaf() = leaf;
  receipt.set_leaf_index(leaf_index);
  for (const Hash& h : *proof) receipt.add_inclusion_proof(HashToString(h));
  *receipt.mutable_checkpoint() = signed_checkpoint;
  receipt.set_node_certificate_pem(std::string(node_certificate_pem));
  return receipt;
}

absl::Status VerifyReceipt(const v1::Receipt& receipt, const Certificate& service_cert,
                           const ReceiptExpectations& expect) {
  if (receipt.version() != kReceiptVersion) {
    return Failed("receipt", absl::StrCat("version ", receipt.version(), " is not supported (only ",
                                          kReceiptVersion, ")"));
  }
  // 1. The node certificate is the signer's and chains to the service certificate.
  if (absl::Status s = service_cert.CheckServiceCertificate(); !s.ok()) {
    return Failed("service certificate", s);
  }
  absl::StatusOr<Certificate> node_cert = Certificate::FromPem(receipt.node_certificate_pem());
  if (!node_cert.ok()) return Failed("node certificate", node_cert.status());
  if (absl::Status s = VerifyNodeCertificate(
          *node_cert, service_cert,
          absl::FromUnixMillis(receipt.checkpoint().checkpoint().timestamp_unix_ms()),
          receipt.checkpoint().signer_node_id());
      !s.ok()) {
    return Failed("node certificate", s);
  }
  // 2. The leaf, recomputed from its components.
  absl::StatusOr<Hash> leaf_hash = CheckLeaf(receipt, expect);
  if (!leaf_hash.ok()) return leaf_hash.status();
  // 3. The inclusion proof yields the checkpoint root.
  if (absl::Status s = CheckInclusion(receipt, *leaf_hash); !s.ok()) return s;
  // 4. The checkpoint is this service's and its signature is valid.
  if (absl::Status s = VerifySignedCheckpoint(receipt.checkpoint(), *node_cert, service_cert);
      !s.ok()) {
    // VerifySignedCheckpoint names its own step; the chain already passed.
    return Failed("checkpoint signature", s);
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger
