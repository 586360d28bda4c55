// Building signed checkpoints (see signer.h).
#include "signer.h"

#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/txid.h"

namespace cairn::node {

absl::StatusOr<std::string> MakeSignatureCommand(const SignerIdentity& identity,
                                                 const ledger::MerkleTree& tree, uint64_t last_term,
                                                 int64_t now_unix_ms) {
  const v1::Checkpoint checkpoint =
      ledger::MakeCheckpoint(identity.service_id, tree.size(), tree.Root(),
                             ledger::TxId{last_term, tree.size()}, now_unix_ms);
  auto signed_checkpoint = ledger::SignCheckpoint(checkpoint, identity.node_id, *identity.key);
  if (!signed_checkpoint.ok()) return signed_checkpoint.status();
  return ledger::MakeSignatureCommand(*signed_checkpoint, *identity.node_certificate)
      .SerializeAsString();
}

}  // namespace cairn::node
