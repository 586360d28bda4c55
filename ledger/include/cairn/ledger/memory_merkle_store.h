// An in-memory MerkleNodeReader/Writer for tests, benchmarks and the offline
// auditor. Nodes of each level are kept in a deque indexed from the lowest
// index still held, so sequential writes (what MerkleTree does) cost O(1)
// and 10 million leaves take about 64 bytes each. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/status/statusor.h"
#include "cairn/ledger/merkle_store.h"

namespace cairn::ledger {

class MemoryMerkleStore : public MerkleNodeReader, public MerkleNodeWriter {
 public:
  absl::StatusOr<Hash> ReadNode(uint32_t level, uint64_t index) const override;
  // Writes are visible at once. Within a level, nodes are written in index
  // order (what MerkleTree does); a gap, or rewriting a node with a different
  // hash, is a broken invariant and crashes.
  void WriteNode(uint32_t level, uint64_t index, const Hash& hash) override;

  // Drops every node that no root of a tree of size >= `size` needs, so a
  // replay that only checks ever-larger roots runs in O(log n) memory. Proofs
  // that need a dropped node fail with NotFound afterwards.
  void DiscardBefore(uint64_t size);

  // Number of ReadNode calls so far (tests check proofs read O(log n) nodes).
  uint64_t reads() const { return reads_; }
  // Number of nodes held.
  uint64_t node_count() const;

 private:
  struct Level {
    uint64_t first = 0;  // index of nodes.front()
    std::deque<Hash> nodes;
  };
  std::vector<Level> levels_;
  mutable uint64_t reads_ = 0;
};

}  // namespace cairn::ledger
