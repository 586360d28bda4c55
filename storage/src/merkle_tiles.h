// Assembling Merkle tiles (ledger/merkle_tiles.h) from the merkle table, for
// ApplyBatch (tiles its nodes complete) and LedgerStore::BackfillTiles.
#pragma once

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "cairn/ledger/merkle_store.h"

namespace rocksdb {
class Iterator;
}  // namespace rocksdb

namespace cairn::storage::internal {

// The kTileBytes of tile (group, tile): each node from `overlay` when it
// returns one (nodes of a batch not yet written), otherwise from `nodes`, an
// iterator over the merkle table, seeked once per row and stepped along it
// (eight seeks, not 510 lookups). DataLoss naming the first node missing.
absl::StatusOr<std::string> AssembleTile(
    rocksdb::Iterator& nodes, uint32_t group, uint64_t tile,
    absl::FunctionRef<const ledger::Hash*(uint32_t level, uint64_t index)> overlay);

}  // namespace cairn::storage::internal
