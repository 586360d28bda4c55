// Merkle tiles: the stored tree's complete subtrees of height 8 kept as one
// value each, so an inclusion proof reads its lowest eight levels with one
// lookup instead of eight scattered ones (the idea of C2SP tlog-tiles; the
// layout here is Cairn's own and never leaves a node).
//
// Tile (group g, index t) is the complete subtree whose root is node
// (8g + 8, t). It holds that subtree's nodes at levels 8g .. 8g+7: 256 at
// level 8g, 128 at 8g+1, ..., 2 at 8g+7 (510 hashes, row by row, each row in
// index order; its root is not in it). A tile exists only once all of its
// leaves are in the tree, and like every node it never changes after that.
//
// Tiles are an index over the per-node rows (merkle_store.h), never the only
// copy: a reader that finds no tile reads the nodes one by one, so a tree
// whose tiles were never written (a ledger from before tiles, a range
// installed from a snapshot) serves the same proofs, more slowly.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/merkle_store.h"

namespace cairn::ledger {

inline constexpr uint32_t kTileHeight = 8;
inline constexpr uint64_t kTileWidth = uint64_t{1} << kTileHeight;  // 256
// Hashes in a tile: 256 + 128 + ... + 2.
inline constexpr size_t kTileHashes = 2 * kTileWidth - 2;
inline constexpr size_t kTileBytes = kTileHashes * sizeof(Hash);

// Where node (level, index) sits in the tiles.
struct TilePosition {
  uint32_t group = 0;  // level / 8
  uint64_t tile = 0;   // index of the tile within its group
  size_t slot = 0;     // position of the hash within the tile, 0 .. 509
};
TilePosition TileOf(uint32_t level, uint64_t index);

// The tile (group, tile) is complete once node (8 * group + 7, 2 * tile + 1),
// the last node it holds, is written: true for that node.
inline bool CompletesTile(uint32_t level, uint64_t index) {
  return level % kTileHeight == kTileHeight - 1 && index % 2 == 1;
}

// The 510 hashes of tile (group, tile), read node by node from `nodes`, in
// tile order. What a writer stores when CompletesTile.
absl::StatusOr<std::string> GatherTile(const MerkleNodeReader& nodes, uint32_t group,
                                       uint64_t tile);

// Reads stored tiles; implemented by storage/ over committed state.
class MerkleTileReader {
 public:
  virtual ~MerkleTileReader() = default;
  // The kTileBytes of tile (group, tile); nullopt when it is not stored.
  virtual absl::StatusOr<std::optional<std::string>> ReadTile(uint32_t group,
                                                              uint64_t tile) const = 0;
};

// A MerkleNodeReader for one proof: nodes below level `tiled_levels_below`
// come from their tiles (each tile read at most once; a tile of the wrong
// size is DataLoss), everything else, and nodes of tiles not stored, from
// `nodes`. Cheap to make; not thread-safe (make one per request).
class TiledNodeReader final : public MerkleNodeReader {
 public:
  // Neither is owned; both must outlive this.
  TiledNodeReader(const MerkleTileReader* tiles, const MerkleNodeReader* nodes,
                  uint32_t tiled_levels_below);

  absl::StatusOr<Hash> ReadNode(uint32_t level, uint64_t index) const override;

  // Tiles read from the store so far (tests count what a proof reads).
  uint64_t tile_reads() const { return tile_reads_; }

 private:
  struct Held {
    uint64_t tile = 0;
    std::optional<std::string> bytes;  // nullopt: not stored
  };
  const MerkleTileReader* const tiles_;
  const MerkleNodeReader* const nodes_;
  const uint32_t tiled_levels_below_;
  // The last tile looked up per group (a proof walks up, one tile per group).
  mutable std::array<std::optional<Held>, 8> held_;
  mutable uint64_t tile_reads_ = 0;
};

}  // namespace cairn::ledger
