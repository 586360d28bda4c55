// Committed ledger state on RocksDB: commit of apply batches and the readers
// (see ledger_store.h; encodings in ledger_keys.h).
#include "cairn/storage/ledger_store.h"

#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/storage/apply_batch.h"
#include "cairn/storage/database.h"
#include "codec.h"
#include "db_core.h"
#include "ledger_keys.h"
#include "merkle_tiles.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/snapshot.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "rocksdb/write_batch.h"

namespace cairn::storage {

using internal::DbCore;
using internal::U64Key;

namespace {

// Page tokens are printable (they travel in proto string fields) and bind
// the query they continue: "e1.<next index hex>.<query fingerprint hex>".
// The fingerprint is FNV-1a 64, stable across processes and nodes.
uint64_t Fingerprint(absl::string_view collection_id, uint64_t from, uint64_t to) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](absl::string_view bytes) {
    for (char c : bytes) {
      h ^= static_cast<uint8_t>(c);
      h *= 0x100000001b3ULL;
    }
  };
  mix(collection_id);
  mix(U64Key(from));
  mix(U64Key(to));
  return h;
}

std::string EntryPageToken(uint64_t next, uint64_t fingerprint) {
  return absl::StrCat("e1.", absl::Hex(next), ".", absl::Hex(fingerprint));
}

absl::StatusOr<uint64_t> ParseEntryPageToken(absl::string_view token, uint64_t fingerprint) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  uint64_t next = 0, fp = 0;
  if (parts.size() != 3 || parts[0] != "e1" || !absl::SimpleHexAtoi(parts[1], &next) ||
      !absl::SimpleHexAtoi(parts[2], &fp) || fp != fingerprint) {
    return absl::InvalidArgumentError("page_token does not belong to this query");
  }
  return next;
}

// A RocksDB snapshot released on scope exit, so multi-key reads agree.
class ReadView {
 public:
  explicit ReadView(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ReadView() { db_->ReleaseSnapshot(snapshot_); }
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace

LedgerStore::LedgerStore(DbCore* core) : core_(core) {}

LedgerStore::~LedgerStore() = default;

absl::StatusOr<std::unique_ptr<LedgerStore>> LedgerStore::Open(const std::string& db_path) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(db_path);
  if (!db.ok()) return db.status();
  auto store = std::make_unique<LedgerStore>((*db)->ledger().core_);
  store->owned_database_ = *std::move(db);
  return store;
}

std::unique_ptr<ApplyBatch> LedgerStore::NewBatch() const {
  return std::unique_ptr<ApplyBatch>(new ApplyBatch(core_, core_->applied()));
}

absl::Status LedgerStore::Commit(ApplyBatch& batch, bool sync) {
  CAIRN_CHECK(batch.core_ == core_) << "apply batch from another database";
  const TxId current = core_->applied();
  if (!(batch.base_ == current)) {
    return absl::FailedPreconditionError(
        absl::StrCat("apply batch was built at applied index ", batch.base_.index,
                     " but the applied index is now ", current.index));
  }
  batch.WriteSummaries();
  absl::Status tiles = batch.WriteTiles();
  if (!tiles.ok()) return tiles;
  std::string applied;
  internal::PutU64(&applied, batch.applied_.index);
  internal::PutU64(&applied, batch.applied_.term);
  batch.Put(internal::kMeta, internal::kMetaAppliedKey, applied);
  absl::Status st = core_->Write(batch.writes_.get(), sync, "applying committed entries");
  if (!st.ok()) return st;
  core_->SetApplied(batch.applied_, sync && !core_->options().unsafe_disable_sync_for_testing);
  return absl::OkStatus();
}

absl::Status LedgerStore::Apply(const std::vector<StoredEntry>& entries) {
  std::unique_ptr<ApplyBatch> batch = NewBatch();
  for (const StoredEntry& e : entries) {
    absl::Status st = batch->AddEntry(e);
    if (!st.ok()) return st;
  }
  return Commit(*batch, /*sync=*/true);
}

uint64_t LedgerStore::applied_index() const { return core_->applied().index; }
TxId LedgerStore::applied() const { return core_->applied(); }

absl::StatusOr<StoredEntry> LedgerStore::Get(uint64_t index) const {
  std::string value;
  absl::Status st = core_->Get(internal::kEntries, U64Key(index), &value);
  if (absl::IsNotFound(st)) return absl::NotFoundError(absl::StrCat("no entry at index ", index));
  if (!st.ok()) return st;
  return internal::DecodeEntryRecord(index, value, /*include_data=*/true);
}

absl::StatusOr<std::vector<StoredEntry>> LedgerStore::GetRange(uint64_t from, uint64_t to,
                                                               uint64_t bytes_max) const {
  std::vector<StoredEntry> out;
  if (from == 0 || from > to) return out;
  const std::string upper_key =
      to == std::numeric_limits<uint64_t>::max() ? std::string(9, '\xff') : U64Key(to + 1);
  rocksdb::Slice upper(upper_key);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(ro, core_->cf(internal::kEntries)));
  uint64_t expected = from;
  uint64_t bytes = 0;
  for (it->Seek(U64Key(from)); it->Valid() && bytes < bytes_max; it->Next(), ++expected) {
    if (absl::string_view(it->key().data(), it->key().size()) != U64Key(expected)) {
      return absl::DataLossError(absl::StrCat("ledger entry ", expected, " is missing"));
    }
    absl::StatusOr<StoredEntry> e = internal::DecodeEntryRecord(
        expected, absl::string_view(it->value().data(), it->value().size()), true);
    if (!e.ok()) return e.status();
    bytes += e->data.size();
    out.push_back(*std::move(e));
  }
  absl::Status st = internal::FromRocks(it->status(), "reading ledger entries");
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<CollectionSummary> LedgerStore::GetCollection(
    absl::string_view collection_id) const {
  std::string value;
  absl::Status st = core_->Get(internal::kCollections, collection_id, &value);
  if (absl::IsNotFound(st)) {
    return absl::NotFoundError(absl::StrCat("no collection \"", collection_id, "\""));
  }
  if (!st.ok()) return st;
  return internal::DecodeSummary(collection_id, value);
}

absl::StatusOr<StoredEntry> LedgerStore::CurrentEntry(absl::string_view collection_id) const {
  ReadView view(core_->db());
  std::string value;
  absl::Status st = core_->Get(internal::kCollections, collection_id, &value, view.get());
  if (absl::IsNotFound(st)) {
    return absl::NotFoundError(absl::StrCat("no collection \"", collection_id, "\""));
  }
  if (!st.ok()) return st;
  absl::StatusOr<CollectionSummary> summary = internal::DecodeSummary(collection_id, value);
  if (!summary.ok()) return summary.status();
  st = core_->Get(internal::kEntries, U64Key(summary->last.index), &value, view.get());
  if (absl::IsNotFound(st)) {
    return absl::DataLossError(absl::StrCat("collection \"", collection_id,
                                            "\" names missing entry ", summary->last.index));
  }
  if (!st.ok()) return st;
  return internal::DecodeEntryRecord(summary->last.index, value, /*include_data=*/true);
}

absl::StatusOr<EntryPage> LedgerStore::ListEntries(absl::string_view collection_id,
                                                   const ListEntriesOptions& options) const {
  if (options.page_size == 0) return absl::InvalidArgumentError("page_size must be at least 1");
  if (collection_id.size() > internal::kCollectionIdBytesMax) {
    return absl::InvalidArgumentError("collection_id is too long");
  }
  const uint64_t fingerprint = Fingerprint(collection_id, options.from_index, options.to_index);
  uint64_t start = std::max<uint64_t>(options.from_index, 1);
  if (!options.page_token.empty()) {
    absl::StatusOr<uint64_t> next = ParseEntryPageToken(options.page_token, fingerprint);
    if (!next.ok()) return next.status();
    start = std::max(start, *next);
  }
  const uint64_t end =
      options.to_index == 0 ? std::numeric_limits<uint64_t>::max() : options.to_index;
  EntryPage page;
  if (start > end) return page;

  ReadView view(core_->db());
  // Past every index of this collection: the prefix followed by nine 0xff bytes.
  std::string upper_key = end == std::numeric_limits<uint64_t>::max()
                              ? internal::CollectionPrefix(collection_id) + std::string(9, '\xff')
                              : internal::CollectionIndexKey(collection_id, end + 1);
  rocksdb::Slice upper(upper_key);
  rocksdb::ReadOptions ro;
  ro.snapshot = view.get();
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(ro, core_->cf(internal::kCollectionIndex)));
  const size_t prefix_len = 2 + collection_id.size();
  uint64_t bytes = 0;
  for (it->Seek(internal::CollectionIndexKey(collection_id, start)); it->Valid(); it->Next()) {
    internal::Decoder d(absl::string_view(it->key().data(), it->key().size()));
    absl::string_view prefix;
    uint64_t index = 0;
    if (!d.GetBytes(prefix_len, &prefix) || !d.GetU64(&index) || !d.empty()) {
      return internal::Malformed("collection index key");
    }
    if (page.entries.size() == options.page_size ||
        (!page.entries.empty() && bytes >= options.page_bytes_max)) {
      page.next_page_token = EntryPageToken(index, fingerprint);
      break;
    }
    std::string value;
    absl::Status st = core_->Get(internal::kEntries, U64Key(index), &value, view.get());
    if (absl::IsNotFound(st)) {
      return absl::DataLossError(
          absl::StrCat("collection \"", collection_id, "\" names missing entry ", index));
    }
    if (!st.ok()) return st;
    absl::StatusOr<StoredEntry> e = internal::DecodeEntryRecord(index, value, options.include_data);
    if (!e.ok()) return e.status();
    bytes += e->data.size();
    page.entries.push_back(*std::move(e));
  }
  absl::Status st = internal::FromRocks(it->status(), "listing collection entries");
  if (!st.ok()) return st;
  return page;
}

absl::StatusOr<CollectionPage> LedgerStore::ListCollections(uint32_t page_size,
                                                            absl::string_view page_token) const {
  if (page_size == 0) return absl::InvalidArgumentError("page_size must be at least 1");
  std::string after;
  bool resume = false;
  if (!page_token.empty()) {
    absl::string_view hex = page_token;
    if (!absl::ConsumePrefix(&hex, "c1.")) {
      return absl::InvalidArgumentError("page_token is not a collection page token");
    }
    absl::StatusOr<std::string> id = base::HexDecode(hex, "page_token");
    if (!id.ok()) return id.status();
    after = *std::move(id);
    resume = true;
  }
  CollectionPage page;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(ro, core_->cf(internal::kCollections)));
  if (resume) {
    it->Seek(after);
    if (it->Valid() && it->key() == rocksdb::Slice(after)) it->Next();
  } else {
    it->SeekToFirst();
  }
  for (; it->Valid(); it->Next()) {
    if (page.collections.size() == page_size) {
      page.next_page_token =
          absl::StrCat("c1.", base::HexEncode(page.collections.back().collection_id));
      break;
    }
    absl::StatusOr<CollectionSummary> s =
        internal::DecodeSummary(absl::string_view(it->key().data(), it->key().size()),
                                absl::string_view(it->value().data(), it->value().size()));
    if (!s.ok()) return s.status();
    page.collections.push_back(*std::move(s));
  }
  absl::Status st = internal::FromRocks(it->status(), "listing collections");
  if (!st.ok()) return st;
  return page;
}

absl::StatusOr<TxId> LedgerStore::LookupIdempotencyKey(absl::string_view user_id,
                                                       absl::string_view key,
                                                       int64_t now_unix_ms) const {
  std::string value;
  absl::Status st =
      core_->Get(internal::kIdempotency, internal::IdempotencyKey(user_id, key), &value);
  if (absl::IsNotFound(st)) return absl::NotFoundError("idempotency key not seen");
  if (!st.ok()) return st;
  absl::StatusOr<internal::IdempotencyRecord> record = internal::DecodeIdempotency(value);
  if (!record.ok()) return record.status();
  if (internal::IdempotencyExpired(record->timestamp_unix_ms, now_unix_ms,
                                   core_->options().idempotency_window_ms)) {
    return absl::NotFoundError("idempotency key expired");
  }
  return record->txid;
}

absl::StatusOr<std::string> LedgerStore::GetUser(absl::string_view user_id) const {
  std::string value;
  absl::Status st = core_->Get(internal::kGovernance, internal::UserKey(user_id), &value);
  if (absl::IsNotFound(st)) return absl::NotFoundError(absl::StrCat("no user ", user_id));
  if (!st.ok()) return st;
  return value;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LedgerStore::ListUsers() const {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string end = "v";  // just past the 'u' user keys
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(ro, core_->cf(internal::kGovernance)));
  for (it->Seek("u"); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key().data() + 1, it->key().size() - 1),
                     it->value().ToString());
  }
  absl::Status st = internal::FromRocks(it->status(), "listing users");
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::string> LedgerStore::GetMember(uint64_t node_id) const {
  std::string value;
  absl::Status st = core_->Get(internal::kGovernance, internal::MemberKey(node_id), &value);
  if (absl::IsNotFound(st)) return absl::NotFoundError(absl::StrCat("no member ", node_id));
  if (!st.ok()) return st;
  return value;
}

absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> LedgerStore::ListMembers() const {
  std::vector<std::pair<uint64_t, std::string>> out;
  const std::string end = "o";  // just past the 'n' member keys
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(ro, core_->cf(internal::kGovernance)));
  for (it->Seek("n"); it->Valid(); it->Next()) {
    internal::Decoder d(absl::string_view(it->key().data() + 1, it->key().size() - 1));
    uint64_t node_id = 0;
    if (!d.GetU64(&node_id) || !d.empty()) return internal::Malformed("member key");
    out.emplace_back(node_id, it->value().ToString());
  }
  absl::Status st = internal::FromRocks(it->status(), "listing members");
  if (!st.ok()) return st;
  return out;
}

absl::StatusOr<std::string> LedgerStore::GetServiceValue(absl::string_view name) const {
  std::string value;
  absl::Status st = core_->Get(internal::kGovernance, internal::ServiceValueKey(name), &value);
  if (absl::IsNotFound(st)) return absl::NotFoundError(absl::StrCat("no service value ", name));
  if (!st.ok()) return st;
  return value;
}

absl::StatusOr<CheckpointRecord> LedgerStore::LatestCheckpoint() const {
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(rocksdb::ReadOptions(), core_->cf(internal::kCheckpoints)));
  it->SeekToLast();
  if (!it->Valid()) {
    absl::Status st = internal::FromRocks(it->status(), "reading checkpoints");
    if (!st.ok()) return st;
    return absl::NotFoundError("no checkpoint yet");
  }
  return internal::DecodeCheckpoint(absl::string_view(it->key().data(), it->key().size()),
                                    absl::string_view(it->value().data(), it->value().size()));
}

absl::StatusOr<CheckpointRecord> LedgerStore::CheckpointCovering(uint64_t tree_size_min) const {
  std::unique_ptr<rocksdb::Iterator> it(
      core_->db()->NewIterator(rocksdb::ReadOptions(), core_->cf(internal::kCheckpoints)));
  // A signature at index k covers at most k - 1 leaves, so start at tree_size_min + 1.
  for (it->Seek(U64Key(tree_size_min + 1)); it->Valid(); it->Next()) {
    absl::StatusOr<CheckpointRecord> c =
        internal::DecodeCheckpoint(absl::string_view(it->key().data(), it->key().size()),
                                   absl::string_view(it->value().data(), it->value().size()));
    if (!c.ok() || c->tree_size >= tree_size_min) return c;
  }
  absl::Status st = internal::FromRocks(it->status(), "reading checkpoints");
  if (!st.ok()) return st;
  return absl::NotFoundError(
      absl::StrCat("no checkpoint covers a tree of ", tree_size_min, " leaves yet"));
}

absl::StatusOr<std::optional<std::string>> LedgerStore::ReadTile(uint32_t group,
                                                                 uint64_t tile) const {
  std::string value;
  absl::Status st = core_->Get(internal::kMerkleTiles, internal::TileKey(group, tile), &value);
  if (absl::IsNotFound(st)) return std::nullopt;
  if (!st.ok()) return st;
  return value;
}

absl::StatusOr<uint64_t> LedgerStore::BackfillTiles(uint64_t tree_size,
                                                    absl::FunctionRef<bool()> stop) {
  // Iterators pin what they read; they are made again every so many tiles.
  constexpr uint64_t kTilesPerIterator = 1024;
  uint64_t written = 0;
  std::unique_ptr<rocksdb::Iterator> nodes, tiles;
  // Group 7's tiles would need 2^64 leaves.
  for (uint32_t group = 0; group < 7; ++group) {
    const uint64_t complete = tree_size >> (ledger::kTileHeight * (group + 1));
    for (uint64_t tile = 0; tile < complete; ++tile) {
      if (stop()) return written;
      const std::string key = internal::TileKey(group, tile);
      if (tile % kTilesPerIterator == 0) {
        nodes.reset(core_->db()->NewIterator(rocksdb::ReadOptions(), core_->cf(internal::kMerkle)));
        tiles.reset(
            core_->db()->NewIterator(rocksdb::ReadOptions(), core_->cf(internal::kMerkleTiles)));
        tiles->Seek(key);
      }
      while (tiles->Valid() && tiles->key().compare(key) < 0) tiles->Next();
      if (tiles->Valid() && tiles->key() == key) continue;
      absl::StatusOr<std::string> bytes = internal::AssembleTile(
          *nodes, group, tile, [](uint32_t, uint64_t) -> const ledger::Hash* { return nullptr; });
      if (!bytes.ok()) return bytes.status();
      rocksdb::WriteBatch batch;
      batch.Put(core_->cf(internal::kMerkleTiles), key, *bytes);
      absl::Status st = core_->Write(&batch, /*sync=*/false, "writing a merkle tile");
      if (!st.ok()) return st;
      ++written;
    }
    if (tiles != nullptr) {
      absl::Status st = internal::FromRocks(tiles->status(), "reading merkle tiles");
      if (!st.ok()) return st;
    }
    tiles.reset();
    nodes.reset();
  }
  return written;
}

absl::StatusOr<ledger::Hash> LedgerStore::ReadNode(uint32_t level, uint64_t index) const {
  std::string value;
  absl::Status st = core_->Get(internal::kMerkle, internal::MerkleKey(level, index), &value);
  if (absl::IsNotFound(st)) {
    return absl::NotFoundError(absl::StrCat("no merkle node at level ", level, " index ", index));
  }
  if (!st.ok()) return st;
  return internal::DecodeHash(value);
}

}  // namespace cairn::storage
