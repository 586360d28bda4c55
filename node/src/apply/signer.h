// The leader's half of signature transactions: a checkpoint over the leaves
// this node has applied, signed with the node's key.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/merkle_tree.h"

namespace cairn::node {

struct SignerIdentity {
  uint64_t node_id = 0;
  std::string service_id;
  const ledger::Certificate* node_certificate = nullptr;  // the node's TLS certificate
  const ledger::PrivateKey* key = nullptr;                // and its key
};

// A serialized LogCommand carrying a SignatureTransaction over the first
// tree.size() leaves, the last of which has term `last_term`.
absl::StatusOr<std::string> MakeSignatureCommand(const SignerIdentity& identity,
                                                 const ledger::MerkleTree& tree, uint64_t last_term,
                                                 int64_t now_unix_ms);
// The same over a tree of `tree_size` leaves with root `root`.
absl::StatusOr<std::string> MakeSignatureCommand(const SignerIdentity& identity, uint64_t tree_size,
                                                 const ledger::Hash& root, uint64_t last_term,
                                                 int64_t now_unix_ms);

}  // namespace cairn::node
