// Merkle tiles (see merkle_tiles.h).
#include "cairn/ledger/merkle_tiles.h"

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"

namespace cairn::ledger {
namespace {

// Hashes in rows 0 .. row-1 of a tile: 256 + 128 + ... (row terms).
size_t RowOffset(uint32_t row) { return 2 * kTileWidth - ((2 * kTileWidth) >> row); }

}  // namespace

TilePosition TileOf(uint32_t level, uint64_t index) {
  const uint32_t row = level % kTileHeight;
  const uint32_t width_bits = kTileHeight - row;  // the row holds 2^width_bits nodes
  TilePosition p;
  p.group = level / kTileHeight;
  p.tile = index >> width_bits;
  p.slot = RowOffset(row) + (index & ((uint64_t{1} << width_bits) - 1));
  return p;
}

absl::StatusOr<std::string> GatherTile(const MerkleNodeReader& nodes, uint32_t group,
                                       uint64_t tile) {
  std::string out;
  out.reserve(kTileBytes);
  for (uint32_t row = 0; row < kTileHeight; ++row) {
    const uint32_t width_bits = kTileHeight - row;
    const uint64_t first = tile << width_bits;
    for (uint64_t i = 0; i < (uint64_t{1} << width_bits); ++i) {
      absl::StatusOr<Hash> h = nodes.ReadNode(group * kTileHeight + row, first + i);
      if (!h.ok()) return h.status();
      out.append(reinterpret_cast<const char*>(h->data()), h->size());
    }
  }
  CAIRN_CHECK(out.size() == kTileBytes) << out.size();
  return out;
}

TiledNodeReader::TiledNodeReader(const MerkleTileReader* tiles, const MerkleNodeReader* nodes,
                                 uint32_t tiled_levels_below)
    : tiles_(tiles), nodes_(nodes), tiled_levels_below_(tiled_levels_below) {}

absl::StatusOr<Hash> TiledNodeReader::ReadNode(uint32_t level, uint64_t index) const {
  if (level >= tiled_levels_below_ || level / kTileHeight >= held_.size()) {
    return nodes_->ReadNode(level, index);
  }
  const TilePosition p = TileOf(level, index);
  std::optional<Held>& held = held_[p.group];
  if (!held.has_value() || held->tile != p.tile) {
    absl::StatusOr<std::optional<std::string>> bytes = tiles_->ReadTile(p.group, p.tile);
    if (!bytes.ok()) return bytes.status();
    ++tile_reads_;
    if (bytes->has_value() && (*bytes)->size() != kTileBytes) {
      return absl::DataLossError(absl::StrCat("merkle tile ", p.group, "/", p.tile, " holds ",
                                              (*bytes)->size(), " bytes, not ", kTileBytes));
    }
    held = Held{p.tile, *std::move(bytes)};
  }
  if (!held->bytes.has_value()) return nodes_->ReadNode(level, index);
  Hash h;
  const char* at = held->bytes->data() + p.slot * h.size();
  std::copy(at, at + h.size(), h.begin());
  return h;
}

}  // namespace cairn::ledger
