// Key and value encodings of the ledger tables (see ledger_keys.h).
#include "ledger_keys.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "codec.h"

namespace cairn::storage::internal {
namespace {

constexpr uint8_t kEntryRecordVersion = 1;
constexpr char kIdempotencyRecordTag = 'k';
constexpr char kIdempotencyTimeTag = 't';

// u8 row, u64 position: the merkle and merkle_tiles keys.
std::string RowKey(const char* what, uint32_t row, uint64_t position) {
  CAIRN_CHECK(row < 256) << what << " " << row;
  std::string key;
  PutU8(&key, static_cast<uint8_t>(row));
  PutU64(&key, position);
  return key;
}

}  // namespace

std::string EncodeEntryRecord(const StoredEntry& e) {
  std::string out;
  out.reserve(1 + 8 + 1 + 8 + 3 + e.collection_id.size() + e.user_id.size() +
              e.idempotency_key.size() + e.data.size() + 8);
  PutU8(&out, kEntryRecordVersion);
  PutU64(&out, e.term);
  PutU8(&out, static_cast<uint8_t>(e.kind));
  PutU64(&out, OrderedFromSigned(e.timestamp_unix_ms));
  PutLengthPrefixed(&out, e.collection_id);
  PutLengthPrefixed(&out, e.user_id);
  PutLengthPrefixed(&out, e.idempotency_key);
  out.append(e.data);
  return out;
}

absl::StatusOr<StoredEntry> DecodeEntryRecord(uint64_t index, absl::string_view value,
                                              bool include_data) {
  Decoder d(value);
  StoredEntry e;
  e.index = index;
  uint8_t version = 0, kind = 0;
  uint64_t ts = 0;
  absl::string_view collection, user, key;
  if (!d.GetU8(&version) || version != kEntryRecordVersion || !d.GetU64(&e.term) ||
      !d.GetU8(&kind) || kind > static_cast<uint8_t>(EntryKind::kInternal) || !d.GetU64(&ts) ||
      !d.GetLengthPrefixed(&collection) || !d.GetLengthPrefixed(&user) ||
      !d.GetLengthPrefixed(&key)) {
    return Malformed(absl::StrCat("ledger entry ", index));
  }
  e.kind = static_cast<EntryKind>(kind);
  e.timestamp_unix_ms = SignedFromOrdered(ts);
  e.collection_id = std::string(collection);
  e.user_id = std::string(user);
  e.idempotency_key = std::string(key);
  if (include_data) e.data = std::string(d.rest());
  return e;
}

std::string CollectionPrefix(absl::string_view collection_id) {
  CAIRN_CHECK(collection_id.size() <= kCollectionIdBytesMax)
      << "collection id of " << collection_id.size() << " bytes";
  std::string key;
  key.reserve(2 + collection_id.size() + 8);
  PutU16(&key, static_cast<uint16_t>(collection_id.size()));
  key.append(collection_id.data(), collection_id.size());
  return key;
}

std::string CollectionIndexKey(absl::string_view collection_id, uint64_t index) {
  std::string key = CollectionPrefix(collection_id);
  PutU64(&key, index);
  return key;
}

std::string EncodeSummary(const CollectionSummary& s) {
  std::string out;
  PutU64(&out, s.entry_count);
  PutU64(&out, s.first.term);
  PutU64(&out, s.first.index);
  PutU64(&out, s.last.term);
  PutU64(&out, s.last.index);
  return out;
}

absl::StatusOr<CollectionSummary> DecodeSummary(absl::string_view id, absl::string_view value) {
  Decoder d(value);
  CollectionSummary s;
  s.collection_id = std::string(id);
  if (!d.GetU64(&s.entry_count) || !d.GetU64(&s.first.term) || !d.GetU64(&s.first.index) ||
      !d.GetU64(&s.last.term) || !d.GetU64(&s.last.index) || !d.empty()) {
    return Malformed(absl::StrCat("summary of collection \"", id, "\""));
  }
  return s;
}

std::string MerkleKey(uint32_t level, uint64_t index) {
  return RowKey("merkle level", level, index);
}

std::string TileKey(uint32_t group, uint64_t tile) {
  return RowKey("merkle tile group", group, tile);
}

absl::StatusOr<ledger::Hash> DecodeHash(absl::string_view value) {
  ledger::Hash h;
  if (value.size() != h.size()) return Malformed("merkle node hash");
  std::copy(value.begin(), value.end(), h.begin());
  return h;
}

std::string EncodeCheckpoint(const CheckpointRecord& c) {
  std::string out;
  PutU64(&out, c.signature.term);
  PutU64(&out, c.tree_size);
  out.append(c.signed_checkpoint);
  return out;
}

absl::StatusOr<CheckpointRecord> DecodeCheckpoint(absl::string_view key, absl::string_view value) {
  Decoder k(key), d(value);
  CheckpointRecord c;
  if (!k.GetU64(&c.signature.index) || !k.empty() || !d.GetU64(&c.signature.term) ||
      !d.GetU64(&c.tree_size)) {
    return Malformed("checkpoint record");
  }
  c.signed_checkpoint = std::string(d.rest());
  return c;
}

std::string IdempotencyKey(absl::string_view user_id, absl::string_view key) {
  std::string out(1, kIdempotencyRecordTag);
  PutLengthPrefixed(&out, user_id);
  out.append(key.data(), key.size());
  return out;
}

std::string IdempotencyTimePrefix(int64_t timestamp_unix_ms) {
  std::string out(1, kIdempotencyTimeTag);
  PutU64(&out, OrderedFromSigned(timestamp_unix_ms));
  return out;
}

std::string IdempotencyTimeKey(int64_t timestamp_unix_ms, absl::string_view user_id,
                               absl::string_view key) {
  std::string out = IdempotencyTimePrefix(timestamp_unix_ms);
  // The record key follows, without its tag: the time key names the record.
  const std::string record = IdempotencyKey(user_id, key);
  out.append(record, 1);
  return out;
}

bool SplitIdempotencyTimeKey(absl::string_view time_key, int64_t* timestamp_unix_ms,
                             std::string* record_key) {
  Decoder d(time_key);
  uint8_t tag = 0;
  uint64_t ts = 0;
  if (!d.GetU8(&tag) || tag != kIdempotencyTimeTag || !d.GetU64(&ts)) return false;
  *timestamp_unix_ms = SignedFromOrdered(ts);
  *record_key = std::string(1, kIdempotencyRecordTag);
  record_key->append(d.rest().data(), d.rest().size());
  return true;
}

std::string EncodeIdempotencyFloor(int64_t timestamp_unix_ms) {
  std::string out;
  PutU64(&out, OrderedFromSigned(timestamp_unix_ms));
  return out;
}

absl::StatusOr<int64_t> DecodeIdempotencyFloor(absl::string_view value) {
  Decoder d(value);
  uint64_t ts = 0;
  if (!d.GetU64(&ts) || !d.empty()) return Malformed("idempotency expiry floor");
  return SignedFromOrdered(ts);
}

std::string EncodeIdempotency(const IdempotencyRecord& r) {
  std::string out;
  PutU64(&out, r.txid.term);
  PutU64(&out, r.txid.index);
  PutU64(&out, OrderedFromSigned(r.timestamp_unix_ms));
  return out;
}

absl::StatusOr<IdempotencyRecord> DecodeIdempotency(absl::string_view value) {
  Decoder d(value);
  IdempotencyRecord r;
  uint64_t ts = 0;
  if (!d.GetU64(&r.txid.term) || !d.GetU64(&r.txid.index) || !d.GetU64(&ts) || !d.empty()) {
    return Malformed("idempotency record");
  }
  r.timestamp_unix_ms = SignedFromOrdered(ts);
  return r;
}

bool IdempotencyExpired(int64_t timestamp_unix_ms, int64_t now_unix_ms, int64_t window_ms) {
  // 128-bit so extreme timestamps cannot overflow the subtraction.
  return static_cast<__int128>(now_unix_ms) - timestamp_unix_ms >= window_ms;
}

std::string UserKey(absl::string_view user_id) { return absl::StrCat("u", user_id); }

std::string MemberKey(uint64_t node_id) {
  std::string key = "n";
  PutU64(&key, node_id);
  return key;
}

std::string ServiceValueKey(absl::string_view name) { return absl::StrCat("s", name); }

}  // namespace cairn::storage::internal
