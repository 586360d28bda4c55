// In-memory node store (see memory_merkle_store.h).
#include "cairn/ledger/memory_merkle_store.h"

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"

namespace cairn::ledger {

absl::StatusOr<Hash> MemoryMerkleStore::ReadNode(uint32_t level, uint64_t index) const {
  ++reads_;
  if (level < levels_.size()) {
    const Level& l = levels_[level];
    if (index >= l.first && index - l.first < l.nodes.size()) return l.nodes[index - l.first];
  }
  return absl::NotFoundError(absl::StrCat("merkle node (", level, ", ", index, ") not stored"));
}

void MemoryMerkleStore::WriteNode(uint32_t level, uint64_t index, const Hash& hash) {
  if (level >= levels_.size()) levels_.resize(level + 1);
  Level& l = levels_[level];
  if (l.nodes.empty()) l.first = index;
  const uint64_t end = l.first + l.nodes.size();
  if (index == end) {
    l.nodes.push_back(hash);
    return;
  }
  CAIRN_CHECK(index >= l.first && index < end)
      << "merkle node (" << level << ", " << index << ") written out of order; level holds ["
      << l.first << ", " << end << ")";
  CAIRN_CHECK(l.nodes[index - l.first] == hash)
      << "merkle node (" << level << ", " << index << ") rewritten with a different hash";
}

void MemoryMerkleStore::DiscardBefore(uint64_t size) {
  for (uint32_t level = 0; level < levels_.size(); ++level) {
    const uint64_t count = level < 64 ? size >> level : 0;
    if (count == 0) continue;
    // A root of size s >= size needs node (level, (s >> level) - 1) only.
    const uint64_t keep_from = count - 1;
    Level& l = levels_[level];
    while (!l.nodes.empty() && l.first < keep_from) {
      l.nodes.pop_front();
      ++l.first;
    }
  }
}

uint64_t MemoryMerkleStore::node_count() const {
  uint64_t n = 0;
  for (const Level& l : levels_) n += l.nodes.size();
  return n;
}

}  // namespace cairn::ledger
