// Merkle tiles: the geometry (every node of a tile has its own slot), and
// proofs read through tiles are the proofs read node by node, with a tile
// read once per group, nodes of tiles not stored read one by one, and a
// damaged tile caught (a flipped byte fails the proof's verification, a
// wrong size is DataLoss).
#include "cairn/ledger/merkle_tiles.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/merkle_tree.h"

namespace cairn::ledger {
namespace {

// Tiles kept in a map, written as a storage layer would: when the node that
// completes one is written.
class MapTiles final : public MerkleTileReader, public MerkleNodeWriter {
 public:
  explicit MapTiles(MemoryMerkleStore* nodes) : nodes_(nodes) {}

  void WriteNode(uint32_t level, uint64_t index, const Hash& hash) override {
    nodes_->WriteNode(level, index, hash);
    if (CompletesTile(level, index)) {
      auto tile = GatherTile(*nodes_, level / kTileHeight, index / 2);
      ASSERT_TRUE(tile.ok()) << tile.status();
      tiles_[{level / kTileHeight, index / 2}] = *std::move(tile);
    }
  }
  absl::StatusOr<std::optional<std::string>> ReadTile(uint32_t group,
                                                      uint64_t tile) const override {
    auto it = tiles_.find({group, tile});
    if (it == tiles_.end()) return std::nullopt;
    return it->second;
  }

  std::map<std::pair<uint32_t, uint64_t>, std::string>& tiles() { return tiles_; }

 private:
  MemoryMerkleStore* nodes_;
  std::map<std::pair<uint32_t, uint64_t>, std::string> tiles_;
};

Hash Leaf(uint64_t i) { return LeafHash(absl::StrCat("leaf-", i)); }

// A tree of `size` leaves, its nodes in `nodes` and its tiles in `tiles`.
MerkleTree Build(MemoryMerkleStore& nodes, MapTiles& tiles, uint64_t size) {
  MerkleTree tree(&nodes);
  for (uint64_t i = 0; i < size; ++i) tree.Append(Leaf(i), tiles);
  return tree;
}

TEST(MerkleTilesTest, EveryNodeOfATileHasItsOwnSlot) {
  for (uint32_t group : {0u, 1u, 3u}) {
    for (uint64_t tile : {uint64_t{0}, uint64_t{5}}) {
      std::set<size_t> slots;
      for (uint32_t row = 0; row < kTileHeight; ++row) {
        const uint64_t width = kTileWidth >> row;
        for (uint64_t i = tile * width; i < (tile + 1) * width; ++i) {
          const TilePosition p = TileOf(group * kTileHeight + row, i);
          EXPECT_EQ(p.group, group);
          EXPECT_EQ(p.tile, tile);
          EXPECT_LT(p.slot, kTileHashes);
          slots.insert(p.slot);
          // Only the last node of the top row completes the tile.
          EXPECT_EQ(CompletesTile(group * kTileHeight + row, i),
                    row == kTileHeight - 1 && i == (tile + 1) * width - 1);
        }
      }
      EXPECT_EQ(slots.size(), kTileHashes);
    }
  }
  // The tile's root is the next group's base row, not a slot of this tile.
  EXPECT_EQ(TileOf(8, 3).group, 1u);
  EXPECT_EQ(TileOf(8, 3).slot, 3u);
}

TEST(MerkleTilesTest, ProofsThroughTilesAreTheProofsNodeByNode) {
  MemoryMerkleStore nodes;
  MapTiles tiles(&nodes);
  const uint64_t size = 1000;  // three tiles of group 0, and leaves 768.. outside any
  MerkleTree tree = Build(nodes, tiles, size);
  ASSERT_EQ(tiles.tiles().size(), 3u);
  for (uint64_t s : {uint64_t{256}, uint64_t{700}, size}) {
    for (uint64_t i = 0; i < s; ++i) {
      TiledNodeReader tiled(&tiles, &nodes, kTileHeight);
      auto expected = StoredInclusionProof(nodes, i, s);
      auto got = StoredInclusionProof(tiled, i, s);
      ASSERT_TRUE(expected.ok() && got.ok()) << i << " " << s;
      ASSERT_EQ(*got, *expected) << i << " " << s;
      // The leaf's own tile, and at most one for the right edge of size s.
      EXPECT_LE(tiled.tile_reads(), 2u) << i;
    }
  }
  for (uint64_t s1 : {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{513}}) {
    TiledNodeReader tiled(&tiles, &nodes, kTileHeight);
    EXPECT_EQ(*StoredConsistencyProof(tiled, s1, size), *StoredConsistencyProof(nodes, s1, size));
    EXPECT_EQ(*StoredRootAt(tiled, s1), *tree.RootAt(s1));
  }
}

// A leaf in a stored tile takes its lowest eight levels from the tile alone;
// one beyond the last complete tile reads node by node.
TEST(MerkleTilesTest, AProofInAStoredTileReadsNoNodeBelowTheTileTop) {
  MemoryMerkleStore nodes;
  MapTiles tiles(&nodes);
  Build(nodes, tiles, 1000);
  const uint64_t before = nodes.reads();
  TiledNodeReader tiled(&tiles, &nodes, kTileHeight);
  ASSERT_TRUE(StoredInclusionProof(tiled, 300, 768).ok());
  // At 768 leaves a proof of leaf 300 has 10 hashes: 8 from its tile, and
  // nodes (8, 0) and (8, 2).
  EXPECT_EQ(nodes.reads() - before, 2u);
  EXPECT_EQ(tiled.tile_reads(), 1u);

  const uint64_t outside = nodes.reads();
  TiledNodeReader beyond(&tiles, &nodes, kTileHeight);
  ASSERT_TRUE(StoredInclusionProof(beyond, 900, 1000).ok());
  EXPECT_GT(nodes.reads() - outside, 2u);
}

TEST(MerkleTilesTest, UpperGroupsTileTheSameWay) {
  MemoryMerkleStore nodes;
  MapTiles tiles(&nodes);
  const uint64_t size = 70'000;  // group 1's first tile (65,536 leaves) is complete
  MerkleTree tree = Build(nodes, tiles, size);
  ASSERT_TRUE(tiles.tiles().count({1, 0}));
  EXPECT_FALSE(tiles.tiles().count({1, 1}));
  for (uint64_t i : {uint64_t{0}, uint64_t{40'000}, uint64_t{65'535}, uint64_t{69'999}}) {
    TiledNodeReader tiled(&tiles, &nodes, 2 * kTileHeight);
    auto proof = StoredInclusionProof(tiled, i, size);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(*proof, *StoredInclusionProof(nodes, i, size)) << i;
    EXPECT_TRUE(VerifyInclusion(i, size, Leaf(i), *proof, tree.Root()).ok()) << i;
  }
}

// Planted faults: the tiles are what the proof is read from, so a flipped
// byte in one gives a proof that does not verify; a tile of the wrong size
// is refused.
TEST(MerkleTilesTest, ADamagedTileIsCaught) {
  MemoryMerkleStore nodes;
  MapTiles tiles(&nodes);
  const uint64_t size = 512;
  MerkleTree tree = Build(nodes, tiles, size);
  std::string& tile = tiles.tiles()[{0, 1}];
  // The slot of leaf 300's sibling (leaf 301): a byte of it, flipped.
  tile[TileOf(0, 301).slot * sizeof(Hash) + 7] ^= 0x01;
  {
    TiledNodeReader tiled(&tiles, &nodes, kTileHeight);
    auto proof = StoredInclusionProof(tiled, 300, size);
    ASSERT_TRUE(proof.ok());
    EXPECT_FALSE(VerifyInclusion(300, size, Leaf(300), *proof, tree.Root()).ok());
  }
  tile.pop_back();
  TiledNodeReader tiled(&tiles, &nodes, kTileHeight);
  EXPECT_EQ(StoredInclusionProof(tiled, 300, size).status().code(), absl::StatusCode::kDataLoss);
  // The untouched tile still serves good proofs.
  TiledNodeReader other(&tiles, &nodes, kTileHeight);
  auto proof = StoredInclusionProof(other, 3, size);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(VerifyInclusion(3, size, Leaf(3), *proof, tree.Root()).ok());
}

}  // namespace
}  // namespace cairn::ledger
