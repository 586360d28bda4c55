// Assembling Merkle tiles (see merkle_tiles.h).
#include "merkle_tiles.h"

#include "absl/strings/str_cat.h"
#include "cairn/ledger/merkle_tiles.h"
#include "db_core.h"
#include "ledger_keys.h"
#include "rocksdb/iterator.h"

namespace cairn::storage::internal {

absl::StatusOr<std::string> AssembleTile(
    rocksdb::Iterator& nodes, uint32_t group, uint64_t tile,
    absl::FunctionRef<const ledger::Hash*(uint32_t level, uint64_t index)> overlay) {
  std::string bytes;
  bytes.reserve(ledger::kTileBytes);
  for (uint32_t row = 0; row < ledger::kTileHeight; ++row) {
    const uint32_t level = group * ledger::kTileHeight + row;
    const uint64_t first = tile << (ledger::kTileHeight - row);
    const uint64_t width = ledger::kTileWidth >> row;
    bool sought = false;
    for (uint64_t index = first; index < first + width; ++index) {
      if (const ledger::Hash* h = overlay(level, index); h != nullptr) {
        bytes.append(reinterpret_cast<const char*>(h->data()), h->size());
        continue;
      }
      const std::string key = MerkleKey(level, index);
      if (!sought) {
        nodes.Seek(key);
        sought = true;
      }
      while (nodes.Valid() && nodes.key().compare(key) < 0) nodes.Next();
      if (!nodes.Valid() || nodes.key() != key || nodes.value().size() != sizeof(ledger::Hash)) {
        absl::Status st = FromRocks(nodes.status(), "reading merkle nodes");
        if (!st.ok()) return st;
        return absl::DataLossError(absl::StrCat("merkle node at level ", level, " index ", index,
                                                " is missing or malformed"));
      }
      bytes.append(nodes.value().data(), nodes.value().size());
      nodes.Next();
    }
  }
  return bytes;
}

}  // namespace cairn::storage::internal
