// Receipts, consistency proofs and checkpoints, built from committed and
// signed ledger state. Thread-safe: proofs read committed Merkle nodes
// (which never change) from the store's tiles below level
// kProofTileLevels (one lookup for a proof's lowest eight levels) and above
// it through `nodes`, the ledger store or a cache in front of it
// (node_cache.h), which is also where nodes of tiles not stored come from.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "cairn/ledger/merkle_tiles.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/v1/log.pb.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::node {

// Proofs read levels below this from Merkle tiles (ledger/merkle_tiles.h);
// the node's proof cache holds the levels from here up.
inline constexpr uint32_t kProofTileLevels = ledger::kTileHeight;

// The receipt of the applied entry at `index` of `term`, against the first
// checkpoint covering it. NotFound when the entry at `index` is of another
// term, or when no signature covers it yet.
absl::StatusOr<v1::Receipt> BuildReceipt(const storage::LedgerStore& store,
                                         const ledger::MerkleNodeReader& nodes, uint64_t index,
                                         uint64_t term);

// RFC 9162 consistency proof between two sizes, both within the latest
// signed tree size (to_size 0: that size). InvalidArgument / FailedPrecondition
// naming the bound that was violated.
absl::StatusOr<v1::ConsistencyProof> BuildConsistencyProof(const storage::LedgerStore& store,
                                                           const ledger::MerkleNodeReader& nodes,
                                                           uint64_t from_size, uint64_t to_size);

// The latest committed signature transaction, with signature_txid filled in.
// NotFound when nothing is signed yet.
absl::StatusOr<v1::SignatureTransaction> LatestSignature(const storage::LedgerStore& store);

}  // namespace cairn::node
