// Building one atomic ledger write (see apply_batch.h).
//
// Every write goes into one plain RocksDB WriteBatch, committed at once.
// What the batch reads back before it commits is found without searching
// it: collection summaries and new Merkle nodes are kept in memory, and the
// idempotency table's writes are also kept in a WriteBatchWithIndex (never
// written itself), which reads and scans it merged with the database. An
// indexed batch for everything cost a skip-list insert per key.
#include "cairn/storage/apply_batch.h"

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/ledger/merkle_tiles.h"
#include "codec.h"
#include "db_core.h"
#include "ledger_keys.h"
#include "merkle_tiles.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"

namespace cairn::storage {

using internal::DbCore;

ApplyBatch::ApplyBatch(DbCore* core, TxId base)
    : core_(core),
      base_(base),
      applied_(base),
      writes_(std::make_unique<rocksdb::WriteBatch>()),
      idempotency_(std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                                  /*overwrite_key=*/true)) {}

ApplyBatch::~ApplyBatch() = default;

size_t ApplyBatch::ByteSize() const { return writes_->GetDataSize(); }

void ApplyBatch::Put(int table, absl::string_view key, absl::string_view value) {
  rocksdb::ColumnFamilyHandle* cf = core_->cf(static_cast<internal::Table>(table));
  const rocksdb::Slice k(key.data(), key.size());
  const rocksdb::Slice v(value.data(), value.size());
  writes_->Put(cf, k, v);
  if (table == internal::kIdempotency) idempotency_->Put(cf, k, v);
}

void ApplyBatch::Delete(int table, absl::string_view key) {
  rocksdb::ColumnFamilyHandle* cf = core_->cf(static_cast<internal::Table>(table));
  const rocksdb::Slice k(key.data(), key.size());
  writes_->Delete(cf, k);
  if (table == internal::kIdempotency) idempotency_->Delete(cf, k);
}

absl::StatusOr<std::string> ApplyBatch::ReadThrough(int table, absl::string_view key) const {
  // Only the idempotency table is read back through the batch's own writes;
  // the Merkle nodes and summaries it changed are looked up in memory first.
  std::string value;
  const auto t = static_cast<internal::Table>(table);
  const rocksdb::Slice k(key.data(), key.size());
  rocksdb::Status s = table == internal::kIdempotency
                          ? idempotency_->GetFromBatchAndDB(core_->db(), rocksdb::ReadOptions(),
                                                            core_->cf(t), k, &value)
                          : core_->db()->Get(rocksdb::ReadOptions(), core_->cf(t), k, &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("not in ", internal::TableName(t)));
  }
  absl::Status st = internal::FromRocks(s, absl::StrCat("reading ", internal::TableName(t)));
  if (!st.ok()) return st;
  return value;
}

absl::Status ApplyBatch::AddEntry(const StoredEntry& entry) {
  CAIRN_CHECK(entry.index == applied_.index + 1)
      << "apply out of order: got index " << entry.index << ", want " << applied_.index + 1;
  CAIRN_CHECK(entry.term >= applied_.term) << "applied term decreases at index " << entry.index
                                           << ": " << applied_.term << " -> " << entry.term;
  if (entry.collection_id.size() > internal::kCollectionIdBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("collection_id of entry ", entry.index, " has ",
                                                   entry.collection_id.size(), " bytes; at most ",
                                                   internal::kCollectionIdBytesMax));
  }
  Put(internal::kEntries, internal::U64Key(entry.index), internal::EncodeEntryRecord(entry));
  absl::Status st = IndexCollection(entry);
  if (st.ok()) st = IndexIdempotencyKey(entry);
  if (!st.ok()) return st;
  applied_ = TxId{entry.term, entry.index};
  ++entry_count_;
  return absl::OkStatus();
}

absl::StatusOr<TxId> ApplyBatch::LookupIdempotencyKey(absl::string_view user_id,
                                                      absl::string_view key,
                                                      int64_t now_unix_ms) const {
  absl::StatusOr<std::string> held =
      ReadThrough(internal::kIdempotency, internal::IdempotencyKey(user_id, key));
  if (!held.ok()) return held.status();
  absl::StatusOr<internal::IdempotencyRecord> record = internal::DecodeIdempotency(*held);
  if (!record.ok()) return record.status();
  if (internal::IdempotencyExpired(record->timestamp_unix_ms, now_unix_ms,
                                   core_->options().idempotency_window_ms)) {
    return absl::NotFoundError("idempotency key expired");
  }
  return record->txid;
}

absl::Status ApplyBatch::IndexCollection(const StoredEntry& entry) {
  if (entry.collection_id.empty()) return absl::OkStatus();
  const TxId txid{entry.term, entry.index};
  std::string term;
  internal::PutU64(&term, entry.term);
  Put(internal::kCollectionIndex, internal::CollectionIndexKey(entry.collection_id, entry.index),
      term);
  auto pending = summaries_.find(entry.collection_id);
  if (pending == summaries_.end()) {
    CollectionSummary summary;
    absl::StatusOr<std::string> old = ReadThrough(internal::kCollections, entry.collection_id);
    if (old.ok()) {
      absl::StatusOr<CollectionSummary> decoded =
          internal::DecodeSummary(entry.collection_id, *old);
      if (!decoded.ok()) return decoded.status();
      summary = *std::move(decoded);
    } else if (absl::IsNotFound(old.status())) {
      summary.first = txid;
    } else {
      return old.status();
    }
    pending = summaries_.emplace(entry.collection_id, std::move(summary)).first;
  }
  ++pending->second.entry_count;
  pending->second.last = txid;
  return absl::OkStatus();
}

void ApplyBatch::WriteSummaries() {
  for (const auto& [collection_id, summary] : summaries_) {
    Put(internal::kCollections, collection_id, internal::EncodeSummary(summary));
  }
  summaries_.clear();
}

absl::Status ApplyBatch::IndexIdempotencyKey(const StoredEntry& entry) {
  if (entry.user_id.empty() || entry.idempotency_key.empty()) return absl::OkStatus();
  const std::string key = internal::IdempotencyKey(entry.user_id, entry.idempotency_key);
  absl::StatusOr<std::string> old = ReadThrough(internal::kIdempotency, key);
  if (old.ok()) {
    absl::StatusOr<internal::IdempotencyRecord> held = internal::DecodeIdempotency(*old);
    if (!held.ok()) return held.status();
    if (!internal::IdempotencyExpired(held->timestamp_unix_ms, entry.timestamp_unix_ms,
                                      core_->options().idempotency_window_ms)) {
      return absl::OkStatus();  // a retry that raced the first: the first keeps the key
    }
    Delete(internal::kIdempotency,
           internal::IdempotencyTimeKey(held->timestamp_unix_ms, entry.user_id,
                                        entry.idempotency_key));
  } else if (!absl::IsNotFound(old.status())) {
    return old.status();
  }
  // Timestamps normally only grow, but a new leader's clock may be behind:
  // the floor must stay at or below every time key.
  absl::StatusOr<int64_t> floor = IdempotencyFloor();
  if (!floor.ok()) return floor.status();
  if (entry.timestamp_unix_ms < *floor) SetIdempotencyFloor(entry.timestamp_unix_ms);
  internal::IdempotencyRecord record{TxId{entry.term, entry.index}, entry.timestamp_unix_ms};
  Put(internal::kIdempotency, key, internal::EncodeIdempotency(record));
  Put(internal::kIdempotency,
      internal::IdempotencyTimeKey(entry.timestamp_unix_ms, entry.user_id, entry.idempotency_key),
      "");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ApplyBatch::IdempotencyFloor() {
  if (idempotency_floor_.has_value()) return *idempotency_floor_;
  absl::StatusOr<std::string> held =
      ReadThrough(internal::kIdempotency, internal::kIdempotencyFloorKey);
  int64_t floor = std::numeric_limits<int64_t>::min();  // none yet: the whole index
  if (held.ok()) {
    absl::StatusOr<int64_t> decoded = internal::DecodeIdempotencyFloor(*held);
    if (!decoded.ok()) return decoded.status();
    floor = *decoded;
  } else if (!absl::IsNotFound(held.status())) {
    return held.status();
  }
  idempotency_floor_ = floor;
  return floor;
}

void ApplyBatch::SetIdempotencyFloor(int64_t floor_unix_ms) {
  if (idempotency_floor_ == floor_unix_ms) return;
  idempotency_floor_ = floor_unix_ms;
  Put(internal::kIdempotency, internal::kIdempotencyFloorKey,
      internal::EncodeIdempotencyFloor(floor_unix_ms));
}

absl::StatusOr<size_t> ApplyBatch::ExpireIdempotencyKeys(int64_t now_unix_ms) {
  const int64_t window = core_->options().idempotency_window_ms;
  absl::StatusOr<int64_t> floor = IdempotencyFloor();
  if (!floor.ok()) return floor.status();
  const std::string end(1, 'u');  // just past the 't' time keys
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  // Iterates the batch and the database together, so keys recorded by this
  // batch are seen (and, being recent, kept).
  std::unique_ptr<rocksdb::Iterator> it(idempotency_->NewIteratorWithBase(
      core_->cf(internal::kIdempotency),
      core_->db()->NewIterator(ro, core_->cf(internal::kIdempotency))));
  // The deletions wait until the iterator is gone: changing a
  // WriteBatchWithIndex under one of its iterators is unsafe.
  std::vector<std::string> doomed;
  size_t expired = 0;
  int64_t new_floor = *floor;
  // Starting at the floor skips the tombstones earlier expiries left behind,
  // so the cost is O(keys expired), not O(keys ever expired).
  for (it->Seek(internal::IdempotencyTimePrefix(*floor));
       it->Valid() && expired < core_->options().idempotency_expire_per_batch_max; it->Next()) {
    int64_t ts = 0;
    std::string record_key;
    if (!internal::SplitIdempotencyTimeKey(absl::string_view(it->key().data(), it->key().size()),
                                           &ts, &record_key)) {
      return internal::Malformed("idempotency time key");
    }
    new_floor = ts;
    if (!internal::IdempotencyExpired(ts, now_unix_ms, window)) break;  // time order
    doomed.push_back(it->key().ToString());
    absl::StatusOr<std::string> held = ReadThrough(internal::kIdempotency, record_key);
    if (held.ok()) {
      absl::StatusOr<internal::IdempotencyRecord> record = internal::DecodeIdempotency(*held);
      if (!record.ok()) return record.status();
      // Otherwise the key was taken again later and belongs to a newer entry.
      if (record->timestamp_unix_ms == ts) doomed.push_back(std::move(record_key));
    } else if (!absl::IsNotFound(held.status())) {
      return held.status();
    }
    ++expired;
  }
  absl::Status st = internal::FromRocks(it->status(), "scanning idempotency keys");
  if (!st.ok()) return st;
  it.reset();
  for (const std::string& k : doomed) Delete(internal::kIdempotency, k);
  // Every key below new_floor was just deleted, or never existed (the old
  // floor's invariant). Keys at new_floor itself may remain: the seek is
  // inclusive.
  SetIdempotencyFloor(new_floor);
  return expired;
}

void ApplyBatch::WriteNode(uint32_t level, uint64_t index, const ledger::Hash& hash) {
  nodes_[{level, index}] = hash;
  Put(internal::kMerkle, internal::MerkleKey(level, index),
      absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
  if (ledger::CompletesTile(level, index)) {
    completed_tiles_.emplace_back(level / ledger::kTileHeight, index / 2);
  }
}

absl::Status ApplyBatch::WriteTiles() {
  if (completed_tiles_.empty()) return absl::OkStatus();
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(rocksdb::ReadOptions(), core_->cf(internal::kMerkle)));
  const auto in_batch = [this](uint32_t level, uint64_t index) -> const ledger::Hash* {
    auto found = nodes_.find({level, index});
    return found == nodes_.end() ? nullptr : &found->second;
  };
  for (const auto& [group, tile] : completed_tiles_) {
    absl::StatusOr<std::string> bytes = internal::AssembleTile(*it, group, tile, in_batch);
    if (!bytes.ok()) {
      return absl::Status(
          bytes.status().code(),
          absl::StrCat("building merkle tile ", group, "/", tile, ": ", bytes.status().message()));
    }
    Put(internal::kMerkleTiles, internal::TileKey(group, tile), *bytes);
  }
  completed_tiles_.clear();
  return absl::OkStatus();
}

absl::StatusOr<ledger::Hash> ApplyBatch::ReadNode(uint32_t level, uint64_t index) const {
  if (auto it = nodes_.find({level, index}); it != nodes_.end()) return it->second;
  absl::StatusOr<std::string> value =
      ReadThrough(internal::kMerkle, internal::MerkleKey(level, index));
  if (absl::IsNotFound(value.status())) {
    return absl::NotFoundError(absl::StrCat("no merkle node at level ", level, " index ", index));
  }
  if (!value.ok()) return value.status();
  return internal::DecodeHash(*value);
}

void ApplyBatch::AddCheckpoint(const CheckpointRecord& checkpoint) {
  Put(internal::kCheckpoints, internal::U64Key(checkpoint.signature.index),
      internal::EncodeCheckpoint(checkpoint));
}

void ApplyBatch::PutUser(absl::string_view user_id, absl::string_view user) {
  Put(internal::kGovernance, internal::UserKey(user_id), user);
}

void ApplyBatch::RemoveUser(absl::string_view user_id) {
  Delete(internal::kGovernance, internal::UserKey(user_id));
}

void ApplyBatch::PutMember(uint64_t node_id, absl::string_view node_info) {
  Put(internal::kGovernance, internal::MemberKey(node_id), node_info);
}

void ApplyBatch::RemoveMember(uint64_t node_id) {
  Delete(internal::kGovernance, internal::MemberKey(node_id));
}

void ApplyBatch::PutServiceValue(absl::string_view name, absl::string_view value) {
  Put(internal::kGovernance, internal::ServiceValueKey(name), value);
}

}  // namespace cairn::storage
