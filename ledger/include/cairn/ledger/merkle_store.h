// Where the Merkle tree keeps its node hashes: declared here by its consumer
// (ledger/merkle_tree) and implemented by storage/ (RocksDB, inside the same
// atomic write that applies a committed batch) and by an in-memory store for
// tests.
//
// The tree stores the hash of every complete subtree: node (level, index)
// covers leaves [index * 2^level, (index + 1) * 2^level). Level 0 holds the
// leaf hashes. A node is written once, when its subtree becomes complete, and
// never changes, so readers need no coordination with the writer beyond
// seeing a prefix of the writes.
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"

namespace cairn::ledger {

// A SHA-256 digest.
using Hash = std::array<uint8_t, 32>;

class MerkleNodeReader {
 public:
  virtual ~MerkleNodeReader() = default;
  // The hash of complete subtree (level, index). NotFound if it was never written.
  virtual absl::StatusOr<Hash> ReadNode(uint32_t level, uint64_t index) const = 0;
};

class MerkleNodeWriter {
 public:
  virtual ~MerkleNodeWriter() = default;
  // Records the hash of complete subtree (level, index). Writes become durable
  // and visible to readers when the caller commits the batch they belong to.
  virtual void WriteNode(uint32_t level, uint64_t index, const Hash& hash) = 0;
};

}  // namespace cairn::ledger
