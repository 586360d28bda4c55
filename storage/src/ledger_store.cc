// RocksDB-backed committed ledger state (see ledger_store.h).
//
// Column families: "entries" (key: big-endian u64 index; value: big-endian
// u64 term followed by the payload) and "meta" (key "applied_index": big-endian u64).
#include "cairn/storage/ledger_store.h"

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace cairn::storage {
namespace {

constexpr char kAppliedIndexKey[] = "applied_index";

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t DecodeU64(absl::string_view s) {
  CAIRN_CHECK(s.size() >= 8) << "stored integer has " << s.size() << " bytes";
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  return absl::InternalError(msg);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LedgerStore>> LedgerStore::Open(const std::string& db_path) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, {}}, {"entries", {}}, {"meta", {}}};
  std::unique_ptr<LedgerStore> store(new LedgerStore());
  rocksdb::DB* raw = nullptr;
  absl::Status st = FromRocks(rocksdb::DB::Open(options, db_path, cfs, &store->handles_, &raw),
                              absl::StrCat("opening database ", db_path));
  if (!st.ok()) return st;
  store->db_.reset(raw);
  store->entries_cf_ = store->handles_[1];
  store->meta_cf_ = store->handles_[2];
  std::string value;
  rocksdb::Status s =
      store->db_->Get(rocksdb::ReadOptions(), store->meta_cf_, kAppliedIndexKey, &value);
  if (s.ok()) {
    store->applied_index_ = DecodeU64(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading applied index");
  }
  return store;
}

LedgerStore::~LedgerStore() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

absl::Status LedgerStore::Apply(const std::vector<StoredEntry>& entries) {
  if (!write_error_.ok()) return write_error_;
  if (entries.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  uint64_t next = applied_index_ + 1;
  for (const StoredEntry& e : entries) {
    CAIRN_CHECK(e.index == next) << "apply out of order: got " << e.index << ", want " << next;
    std::string value = EncodeU64(e.term);
    value.append(e.data);
    batch.Put(entries_cf_, EncodeU64(e.index), value);
    ++next;
  }
  batch.Put(meta_cf_, kAppliedIndexKey, EncodeU64(next - 1));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  absl::Status st = FromRocks(db_->Write(wo, &batch), "synced write of applied entries");
  if (!st.ok()) {
    // Fatal to the write path: refuse every later write until restarted.
    write_error_ = absl::InternalError(absl::StrCat("write path stopped after failure: ", st.message()));
    return write_error_;
  }
  applied_index_ = next - 1;
  return absl::OkStatus();
}

absl::StatusOr<StoredEntry> LedgerStore::Get(uint64_t index) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), entries_cf_, EncodeU64(index), &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("no entry at index ", index));
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading entry ", index));
  StoredEntry e;
  e.index = index;
  e.term = DecodeU64(value);
  e.data = value.substr(8);
  return e;
}

}  // namespace cairn::storage
