// The bounded Merkle node cache for proofs (see node_cache.h).
#include "service/node_cache.h"

namespace cairn::node {

CachedNodeReader::CachedNodeReader(const ledger::MerkleNodeReader* committed, uint32_t levels_min,
                                   size_t entries_max)
    : committed_(committed), levels_min_(levels_min), shard_entries_max_(entries_max / kShards) {}

absl::StatusOr<ledger::Hash> CachedNodeReader::ReadNode(uint32_t level, uint64_t index) const {
  if (level < levels_min_ || index >= (uint64_t{1} << 56)) {
    return committed_->ReadNode(level, index);
  }
  const uint64_t key = Key(level, index);
  Shard& shard = shards_[(key ^ (key >> 29)) % kShards];
  {
    absl::MutexLock lock(&shard.mu);
    if (auto it = shard.nodes.find(key); it != shard.nodes.end()) return it->second;
  }
  absl::StatusOr<ledger::Hash> hash = committed_->ReadNode(level, index);
  if (hash.ok()) {
    absl::MutexLock lock(&shard.mu);
    if (shard.nodes.size() < shard_entries_max_) shard.nodes.emplace(key, *hash);
  }
  return hash;
}

size_t CachedNodeReader::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    absl::MutexLock lock(&s.mu);
    n += s.nodes.size();
  }
  return n;
}

}  // namespace cairn::node
