// The ledger's RFC 9162 Merkle tree, persisted through MerkleNodeReader /
// MerkleNodeWriter (merkle_store.h) as the hashes of complete subtrees.
//
// The tree keeps its right frontier (the root of each complete subtree of the
// current size, one per set bit) in memory, so Append writes the new nodes
// and reads nothing, and Root() reads nothing. Roots at past sizes and
// inclusion and consistency proofs read O(log n) nodes: every hash they need
// is the root of at most one incomplete subtree plus complete subtrees, and
// each complete subtree is one stored node.
//
// Proofs and past roots for a size s read only nodes of complete subtrees
// within the first s leaves, so they work for any s whose nodes the reader
// sees (the node serves them for committed, signed sizes). Not thread-safe:
// callers serialize Append with everything else; threads that only serve
// proofs use the Stored* functions below, which need no MerkleTree.
//
// Append's writes become durable when the caller commits the batch they
// belong to. If that commit fails, this object is ahead of the store: drop
// it and Open() the tree again at the committed size.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/merkle_store.h"

namespace cairn::ledger {

class MerkleTree {
 public:
  // An empty tree reading nodes through `reader` (not owned; must outlive the tree).
  explicit MerkleTree(const MerkleNodeReader* reader);

  // The tree of `size` leaves whose nodes `reader` holds: reads the
  // frontier's O(log size) nodes. DataLoss if one is missing.
  static absl::StatusOr<MerkleTree> Open(const MerkleNodeReader* reader, uint64_t size);

  uint64_t size() const { return size_; }

  // Root of the whole tree (EmptyRoot() when empty). Reads nothing.
  Hash Root() const;

  // Appends the leaf whose RFC 9162 leaf hash is `leaf_hash`, writing its
  // level-0 node and every subtree it completes to `writer`. Reads nothing.
  void Append(const Hash& leaf_hash, MerkleNodeWriter& writer);

  // Root of the first `size` leaves. InvalidArgument if size > size().
  absl::StatusOr<Hash> RootAt(uint64_t size) const;

  // RFC 9162 §2.1.3 inclusion proof of leaf `index` in the first `size`
  // leaves, leaf side first. InvalidArgument unless index < size <= size().
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) const;

  // RFC 9162 §2.1.4 consistency proof from the first `size1` leaves to the
  // first `size2`. InvalidArgument unless 0 < size1 <= size2 <= size(); empty
  // when size1 == size2.
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2) const;

 private:
  // Hash of complete subtree (level, index): from the frontier when it is
  // there, otherwise from the reader (DataLoss when missing).
  absl::StatusOr<Hash> Node(uint32_t level, uint64_t index) const;

  const MerkleNodeReader* reader_;
  uint64_t size_ = 0;
  // Invariant: for each set bit l of size_, frontier_[l] is the hash of
  // complete subtree (l, (size_ >> l) - 1). Other entries are stale.
  std::array<Hash, 64> frontier_{};
};

// The same, read from the store alone, for threads that serve proofs while
// another appends: they touch no MerkleTree, only `reader` (which must be
// safe to read concurrently, e.g. a RocksDB snapshot). They need every
// complete-subtree node within the first `size` (or `size2`) leaves to be
// visible to the reader, which holds for any size whose appends are
// committed (the node serves signed sizes). DataLoss when a node is missing,
// InvalidArgument for index >= size or size1 outside 1..size2.
absl::StatusOr<Hash> StoredRootAt(const MerkleNodeReader& reader, uint64_t size);
absl::StatusOr<std::vector<Hash>> StoredInclusionProof(const MerkleNodeReader& reader,
                                                       uint64_t index, uint64_t size);
absl::StatusOr<std::vector<Hash>> StoredConsistencyProof(const MerkleNodeReader& reader,
                                                         uint64_t size1, uint64_t size2);

}  // namespace cairn::ledger
