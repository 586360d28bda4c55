// Building signed checkpoints (see signer.h).
#include "signer.h"

#include "cairn/ledger/encoding.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"

namespace cairn::node {

absl::StatusOr<std::string> MakeSignatureCommand(const SignerIdentity& identity,
                                                 const ledger::MerkleTree& tree, uint64_t last_term,
                                                 int64_t now_unix_ms) {
  v1::LogCommand command;
  v1::SignatureTransaction* sig = command.mutable_signature();
  sig->set_node_certificate_pem(identity.node_certificate_pem);
  v1::SignedCheckpoint* signed_cp = sig->mutable_checkpoint();
  signed_cp->set_signer_node_id(identity.node_id);
  v1::Checkpoint* cp = signed_cp->mutable_checkpoint();
  cp->set_service_id(identity.service_id);
  cp->set_tree_size(tree.size());
  cp->set_root_hash(ledger::HashToString(tree.Root()));
  cp->set_last_txid(ledger::TxId{last_term, tree.size()}.ToString());
  cp->set_timestamp_unix_ms(now_unix_ms);
  auto encoded = ledger::EncodeCheckpoint(*cp);
  if (!encoded.ok()) return encoded.status();
  auto signature = identity.key->Sign(*encoded);
  if (!signature.ok()) return signature.status();
  signed_cp->set_signature(*std::move(signature));
  return command.SerializeAsString();
}

}  // namespace cairn::node
