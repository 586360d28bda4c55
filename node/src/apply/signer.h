// The leader's half of signature transactions: a checkpoint over the leaves
// this node has applied, signed with the node's key.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

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

// What the leader's Raft loop signs checkpoints with: a node's signs with
// its key (NodeSigner); the simulator's writes a stand-in with the same
// tree size and root, deterministic, so a seed replays exactly.
class CheckpointSigner {
 public:
  virtual ~CheckpointSigner() = default;
  // A serialized LogCommand carrying a signature over the first `tree_size`
  // leaves, of root `root`, the last of which has term `last_term`.
  virtual absl::StatusOr<std::string> SignatureCommand(uint64_t tree_size, const ledger::Hash& root,
                                                       uint64_t last_term) = 0;
};

// Signs with the node's key, timestamped by the wall clock.
class NodeSigner final : public CheckpointSigner {
 public:
  explicit NodeSigner(SignerIdentity identity) : identity_(std::move(identity)) {}
  absl::StatusOr<std::string> SignatureCommand(uint64_t tree_size, const ledger::Hash& root,
                                               uint64_t last_term) override;

 private:
  const SignerIdentity identity_;
};

}  // namespace cairn::node
