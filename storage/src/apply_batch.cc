// Building one atomic ledger write (see apply_batch.h).
//
// The batch is a RocksDB WriteBatchWithIndex: it keeps its own writes
// searchable, so read-modify-write state (collection summaries, idempotency
// keys) and Merkle parents see earlier additions to the same batch before
// anything is committed.
#include "cairn/storage/apply_batch.h"

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "codec.h"
#include "db_core.h"
#include "ledger_keys.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/utilities/write_batch_with_index.h"

namespace cairn::storage {

using internal::DbCore;

ApplyBatch::ApplyBatch(DbCore* core, TxId base)
    : core_(core),
      base_(base),
      applied_(base),
      batch_(std::make_unique<rocksdb::WriteBatchWithIndex>(rocksdb::BytewiseComparator(), 0,
                                                            /*overwrite_key=*/true)) {}

ApplyBatch::~ApplyBatch() = default;

size_t ApplyBatch::ByteSize() const { return batch_->GetWriteBatch()->GetDataSize(); }

absl::StatusOr<std::string> ApplyBatch::ReadThrough(int table, absl::string_view key) const {
  std::string value;
  rocksdb::Status s = batch_->GetFromBatchAndDB(core_->db(), rocksdb::ReadOptions(),
                                                core_->cf(static_cast<internal::Table>(table)),
                                                rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("not in ", internal::TableName(static_cast<internal::Table>(table))));
  }
  absl::Status st = internal::FromRocks(
      s, absl::StrCat("reading ", internal::TableName(static_cast<internal::Table>(table))));
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
  rocksdb::Status s = batch_->Put(core_->cf(internal::kEntries), internal::U64Key(entry.index),
                                  internal::EncodeEntryRecord(entry));
  absl::Status st = internal::FromRocks(s, "batching a ledger entry");
  if (st.ok()) st = IndexCollection(entry);
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
  batch_->Put(core_->cf(internal::kCollectionIndex),
              internal::CollectionIndexKey(entry.collection_id, entry.index), term);
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
    batch_->Put(core_->cf(internal::kCollections), collection_id, internal::EncodeSummary(summary));
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
    batch_->Delete(core_->cf(internal::kIdempotency),
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
  batch_->Put(core_->cf(internal::kIdempotency), key, internal::EncodeIdempotency(record));
  batch_->Put(
      core_->cf(internal::kIdempotency),
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
  batch_->Put(core_->cf(internal::kIdempotency), internal::kIdempotencyFloorKey,
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
  std::unique_ptr<rocksdb::Iterator> it(
      batch_->NewIteratorWithBase(core_->cf(internal::kIdempotency),
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
  for (const std::string& k : doomed) batch_->Delete(core_->cf(internal::kIdempotency), k);
  // Every key below new_floor was just deleted, or never existed (the old
  // floor's invariant). Keys at new_floor itself may remain: the seek is
  // inclusive.
  SetIdempotencyFloor(new_floor);
  return expired;
}

void ApplyBatch::WriteNode(uint32_t level, uint64_t index, const ledger::Hash& hash) {
  nodes_[{level, index}] = hash;
  batch_->Put(core_->cf(internal::kMerkle), internal::MerkleKey(level, index),
              rocksdb::Slice(reinterpret_cast<const char*>(hash.data()), hash.size()));
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
  batch_->Put(core_->cf(internal::kCheckpoints), internal::U64Key(checkpoint.signature.index),
              internal::EncodeCheckpoint(checkpoint));
}

void ApplyBatch::PutUser(absl::string_view user_id, absl::string_view user) {
  batch_->Put(core_->cf(internal::kGovernance), internal::UserKey(user_id),
              rocksdb::Slice(user.data(), user.size()));
}

void ApplyBatch::RemoveUser(absl::string_view user_id) {
  batch_->Delete(core_->cf(internal::kGovernance), internal::UserKey(user_id));
}

void ApplyBatch::PutMember(uint64_t node_id, absl::string_view node_info) {
  batch_->Put(core_->cf(internal::kGovernance), internal::MemberKey(node_id),
              rocksdb::Slice(node_info.data(), node_info.size()));
}

void ApplyBatch::RemoveMember(uint64_t node_id) {
  batch_->Delete(core_->cf(internal::kGovernance), internal::MemberKey(node_id));
}

void ApplyBatch::PutServiceValue(absl::string_view name, absl::string_view value) {
  batch_->Put(core_->cf(internal::kGovernance), internal::ServiceValueKey(name),
              rocksdb::Slice(value.data(), value.size()));
}

}  // namespace cairn::storage
