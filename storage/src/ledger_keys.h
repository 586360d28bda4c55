// Key and value encodings of the ledger tables (db_core.h lists the tables).
// Shared by the apply batch (writer), the ledger store (readers) and, through
// the raw bytes, snapshots.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/merkle_store.h"
#include "cairn/storage/ledger_types.h"

namespace cairn::storage::internal {

// Collection ids longer than this cannot be indexed (the key stores a u16 length).
inline constexpr size_t kCollectionIdBytesMax = 0xffff;

// entries: one record per applied index.
std::string EncodeEntryRecord(const StoredEntry& e);
absl::StatusOr<StoredEntry> DecodeEntryRecord(uint64_t index, absl::string_view value,
                                              bool include_data);

// collection_index: u16 length, id, u64 index -> u64 term. The prefix (length
// and id) groups one collection's entries in index order.
std::string CollectionPrefix(absl::string_view collection_id);
std::string CollectionIndexKey(absl::string_view collection_id, uint64_t index);

// collections: id -> count, first txid, last txid.
std::string EncodeSummary(const CollectionSummary& s);
absl::StatusOr<CollectionSummary> DecodeSummary(absl::string_view id, absl::string_view value);

// merkle: u8 level, u64 index -> hash.
std::string MerkleKey(uint32_t level, uint64_t index);
absl::StatusOr<ledger::Hash> DecodeHash(absl::string_view value);

// merkle_tiles: u8 group, u64 tile -> the tile's hashes (ledger/merkle_tiles.h).
std::string TileKey(uint32_t group, uint64_t tile);

// checkpoints: u64 signature index -> u64 term, u64 tree size, signed checkpoint.
std::string EncodeCheckpoint(const CheckpointRecord& c);
absl::StatusOr<CheckpointRecord> DecodeCheckpoint(absl::string_view key, absl::string_view value);

// idempotency: 'k' + (user, key) -> term, index, timestamp; and a time index
// 't' + ordered timestamp + (user, key) -> "" for expiry in time order.
struct IdempotencyRecord {
  TxId txid;
  int64_t timestamp_unix_ms = 0;
};
std::string IdempotencyKey(absl::string_view user_id, absl::string_view key);
std::string IdempotencyTimeKey(int64_t timestamp_unix_ms, absl::string_view user_id,
                               absl::string_view key);
std::string IdempotencyTimePrefix(int64_t timestamp_unix_ms);
// 'f' -> ordered timestamp: no time key older than it exists, so expiry seeks
// there instead of walking the tombstones of keys it already removed (they
// stay in the table until compaction drops them).
inline constexpr char kIdempotencyFloorKey[] = "f";
std::string EncodeIdempotencyFloor(int64_t timestamp_unix_ms);
absl::StatusOr<int64_t> DecodeIdempotencyFloor(absl::string_view value);
std::string EncodeIdempotency(const IdempotencyRecord& r);
absl::StatusOr<IdempotencyRecord> DecodeIdempotency(absl::string_view value);
// Splits a time key back into its timestamp and the 'k' key it indexes.
bool SplitIdempotencyTimeKey(absl::string_view time_key, int64_t* timestamp_unix_ms,
                             std::string* record_key);
// True when an entry stamped `timestamp_unix_ms` is outside the window at `now_unix_ms`.
bool IdempotencyExpired(int64_t timestamp_unix_ms, int64_t now_unix_ms, int64_t window_ms);

// governance: 'u' user id | 'n' u64 node id | 's' name.
std::string UserKey(absl::string_view user_id);
std::string MemberKey(uint64_t node_id);
std::string ServiceValueKey(absl::string_view name);

}  // namespace cairn::storage::internal
