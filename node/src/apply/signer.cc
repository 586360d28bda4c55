// Building signed checkpoints (see signer.h).
#include "apply/signer.h"

#include "cairn/base/clock.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/txid.h"

namespace cairn::node {

absl::StatusOr<std::string> MakeSignatureCommand(const SignerIdentity& identity,
                                                 const ledger::MerkleTree& tree, uint64_t last_term,
                                                 int64_t now_unix_ms) {
  return MakeSignatureCommand(identity, tree.size(), tree.Root(), last_term, now_unix_ms);
}

absl::StatusOr<std::string> MakeSignatureCommand(const SignerIdentity& identity, uint64_t tree_size,
                                                 const ledger::Hash& root, uint64_t last_term,
                                                 int64_t now_unix_ms) {
  const v1::Checkpoint checkpoint = ledger::MakeCheckpoint(
      identity.service_id, tree_size, root, ledger::TxId{last_term, tree_size}, now_unix_ms);
  auto signed_checkpoint = ledger::SignCheckpoint(checkpoint, identity.node_id, *identity.key);
  if (!signed_checkpoint.ok()) return signed_checkpoint.status();
  return ledger::MakeSignatureCommand(*signed_checkpoint, *identity.node_certificate)
      .SerializeAsString();
}

absl::StatusOr<std::string> NodeSigner::SignatureCommand(uint64_t tree_size,
                                                         const ledger::Hash& root,
                                                         uint64_t last_term) {
  return MakeSignatureCommand(identity_, tree_size, root, last_term, base::NowUnixMs());
}

}  // namespace cairn::node
