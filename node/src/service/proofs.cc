// Building receipts and proofs (see proofs.h).
#include "service/proofs.h"

#include "absl/strings/str_cat.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/merkle_tiles.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/txid.h"

namespace cairn::node {
namespace {

absl::StatusOr<v1::SignatureTransaction> DecodeSignature(const storage::CheckpointRecord& record) {
  v1::SignatureTransaction sig;
  if (!sig.ParseFromString(record.signed_checkpoint)) {
    return absl::DataLossError(absl::StrCat(
        "stored checkpoint of ",
        ledger::TxId{record.signature.term, record.signature.index}.ToString(), " does not parse"));
  }
  sig.mutable_checkpoint()->set_signature_txid(
      ledger::TxId{record.signature.term, record.signature.index}.ToString());
  return sig;
}

}  // namespace

absl::StatusOr<v1::Receipt> BuildReceipt(const storage::LedgerStore& store,
                                         const ledger::MerkleNodeReader& nodes, uint64_t index,
                                         uint64_t term) {
  auto entry = store.Get(index);
  if (!entry.ok() || entry->term != term) {
    return absl::NotFoundError(
        absl::StrCat("txid ", ledger::TxId{term, index}.ToString(), " is not in the ledger"));
  }
  auto record = store.CheckpointCovering(index);
  if (!record.ok()) return record.status();
  auto sig = DecodeSignature(*record);
  if (!sig.ok()) return sig.status();
  auto leaf = ledger::LeafComponentsFor(entry->term, entry->index, entry->data);
  if (!leaf.ok()) return leaf.status();
  // The proof straight from the stored nodes: opening a MerkleTree view first
  // read the whole frontier (O(log n) more Gets) on every request. The
  // receipt is assembled as ledger::BuildReceipt does.
  const uint64_t leaf_index = index - 1;
  if (leaf_index >= record->tree_size) {
    return absl::InvalidArgumentError(absl::StrCat("txid ", leaf->txid(),
                                                   " is not covered by the checkpoint (tree size ",
                                                   record->tree_size, ")"));
  }
  const ledger::TiledNodeReader tiled(&store, &nodes, kProofTileLevels);
  auto proof = ledger::StoredInclusionProof(tiled, leaf_index, record->tree_size);
  if (!proof.ok()) return proof.status();
  v1::Receipt receipt;
  receipt.set_version(ledger::kReceiptVersion);
  *receipt.mutable_leaf() = *std::move(leaf);
  receipt.set_leaf_index(leaf_index);
  for (const auto& h : *proof) receipt.add_inclusion_proof(ledger::HashToString(h));
  *receipt.mutable_checkpoint() = std::move(*sig->mutable_checkpoint());
  receipt.set_node_certificate_pem(std::move(*sig->mutable_node_certificate_pem()));
  return receipt;
}

absl::StatusOr<v1::ConsistencyProof> BuildConsistencyProof(const storage::LedgerStore& store,
                                                           const ledger::MerkleNodeReader& nodes,
                                                           uint64_t from_size, uint64_t to_size) {
  auto latest = store.LatestCheckpoint();
  if (!latest.ok()) return latest.status();
  const uint64_t signed_size = latest->tree_size;
  if (to_size == 0) to_size = signed_size;
  if (from_size == 0) {
    return absl::InvalidArgumentError("from_tree_size must be at least 1 (RFC 9162 §2.1.4)");
  }
  if (from_size > to_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_tree_size ", from_size, " is larger than to_tree_size ", to_size));
  }
  if (to_size > signed_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "to_tree_size ", to_size, " is beyond the latest signed tree size ", signed_size));
  }
  const ledger::TiledNodeReader tiled(&store, &nodes, kProofTileLevels);
  auto hashes = ledger::StoredConsistencyProof(tiled, from_size, to_size);
  if (!hashes.ok()) return hashes.status();
  v1::ConsistencyProof proof;
  proof.set_from_tree_size(from_size);
  proof.set_to_tree_size(to_size);
  for (const auto& h : *hashes) proof.add_hashes(ledger::HashToString(h));
  return proof;
}

absl::StatusOr<v1::SignatureTransaction> LatestSignature(const storage::LedgerStore& store) {
  auto record = store.LatestCheckpoint();
  if (!record.ok()) return record.status();
  return DecodeSignature(*record);
}

}  // namespace cairn::node
