// A bounded cache in front of the ledger's Merkle nodes, for proofs. Every
// inclusion proof reads one node per tree level (about 24 at 10M entries);
// the upper levels are shared by all proofs, so caching nodes from level
// levels_min up turns most of those reads into memory lookups. Committed
// nodes never change (a complete subtree's hash is fixed once written), so
// nothing is ever invalidated.
//
// Thread-safe (sharded locks; gRPC handler threads read through it).
// Bounded: at most entries_max nodes (about 100 bytes each); once full, new
// nodes are read but not kept.
#pragma once

#include <array>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "cairn/ledger/merkle_store.h"

namespace cairn::node {

class CachedNodeReader final : public ledger::MerkleNodeReader {
 public:
  // `committed` (the ledger store) must outlive this.
  CachedNodeReader(const ledger::MerkleNodeReader* committed, uint32_t levels_min,
                   size_t entries_max);

  absl::StatusOr<ledger::Hash> ReadNode(uint32_t level, uint64_t index) const override;

  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<uint64_t, ledger::Hash> nodes ABSL_GUARDED_BY(mu);
  };
  static uint64_t Key(uint32_t level, uint64_t index) {
    return (static_cast<uint64_t>(level) << 56) | index;  // index < 2^56 leaves
  }

  const ledger::MerkleNodeReader* const committed_;
  const uint32_t levels_min_;
  const size_t shard_entries_max_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace cairn::node
