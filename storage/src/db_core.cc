// The shared RocksDB instance, its tables and its single write path (see db_core.h).
#include "db_core.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "codec.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace cairn::storage::internal {
namespace {

constexpr char kLayoutVersionKey[] = "layout_version";

rocksdb::DBOptions MakeDbOptions(const DatabaseOptions& options) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.paranoid_checks = true;
  // Tolerate only a torn last record (a write that was never acknowledged);
  // refuse to open on corruption anywhere else. kPointInTimeRecovery, the
  // default, would silently drop everything after a damaged record,
  // acknowledged Raft entries included: silent repair, which we never do.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  o.db_write_buffer_size = options.write_buffer_bytes_total;
  o.max_total_wal_size = options.wal_bytes_max;
  o.manual_wal_flush = options.unsafe_disable_sync_for_testing;
  o.keep_log_file_num = 4;
  o.max_background_jobs = 2;
  if (options.env_for_testing != nullptr) o.env = options.env_for_testing;
  return o;
}

}  // namespace

const char* TableName(Table t) {
  switch (t) {
    case kRaftLog:
      return "raft_log";
    case kRaftState:
      return "raft_state";
    case kEntries:
      return "entries";
    case kCollectionIndex:
      return "collection_index";
    case kCollections:
      return "collections";
    case kMerkle:
      return "merkle";
    case kCheckpoints:
      return "checkpoints";
    case kIdempotency:
      return "idempotency";
    case kGovernance:
      return "governance";
    case kMeta:
      return "meta";
    case kTableCount:
      break;
  }
  CAIRN_UNREACHABLE() << "table " << static_cast<int>(t);
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(std::move(msg));
  if (s.IsNotFound()) return absl::NotFoundError(std::move(msg));
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return absl::FailedPreconditionError(std::move(msg));
  }
  if (s.IsBusy() || s.IsTryAgain()) return absl::UnavailableError(std::move(msg));
  return absl::InternalError(std::move(msg));
}

absl::StatusOr<std::unique_ptr<DbCore>> DbCore::Open(const std::string& path,
                                                     const DatabaseOptions& options) {
  std::unique_ptr<DbCore> core(new DbCore());
  core->path_ = path;
  core->options_ = options;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int t = 0; t < kTableCount; ++t) {
    descriptors.emplace_back(TableName(static_cast<Table>(t)), rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s =
      rocksdb::DB::Open(MakeDbOptions(options), path, descriptors, &handles, &core->db_);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening database ", path));
  // The default family is unused, but RocksDB requires it to be open.
  core->db_->DestroyColumnFamilyHandle(handles[0]);
  for (int t = 0; t < kTableCount; ++t) core->handles_[t] = handles[t + 1];
  absl::Status st = core->LoadMeta();
  if (!st.ok()) return st;
  return core;
}

DbCore::~DbCore() {
  if (db_ == nullptr) return;
  for (auto* h : handles_) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
  delete db_;
}

absl::Status DbCore::LoadMeta() {
  std::string value;
  absl::Status st = Get(kMeta, kLayoutVersionKey, &value);
  if (absl::IsNotFound(st)) {
    // Only a brand-new database may lack the version: refuse to stamp one
    // that already holds data (it was written by something else).
    for (int t = 0; t < kTableCount; ++t) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[t]));
      it->SeekToFirst();
      if (it->Valid()) {
        return absl::FailedPreconditionError(
            absl::StrCat("database ", path_, " holds data (table ", TableName(Table(t)),
                         ") but no layout version; refusing to use it"));
      }
      st = FromRocks(it->status(), "scanning a new database");
      if (!st.ok()) return st;
    }
    rocksdb::WriteBatch batch;
    std::string version;
    PutU32(&version, kDatabaseLayoutVersion);
    batch.Put(handles_[kMeta], kLayoutVersionKey, version);
    return Write(&batch, /*sync=*/true, "writing the layout version");
  }
  if (!st.ok()) return st;
  Decoder d(value);
  uint32_t version = 0;
  if (!d.GetU32(&version)) return Malformed("layout version");
  if (version != kDatabaseLayoutVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path_, " has layout version ", version,
                     "; this cairn-node reads only version ", kDatabaseLayoutVersion));
  }
  st = Get(kMeta, kMetaAppliedKey, &value);
  if (absl::IsNotFound(st)) return absl::OkStatus();
  if (!st.ok()) return st;
  Decoder a(value);
  TxId applied;
  if (!a.GetU64(&applied.index) || !a.GetU64(&applied.term)) return Malformed("applied index");
  absl::MutexLock lock(&mu_);
  applied_ = applied;
  durable_applied_index_ = applied.index;  // it was read back from disk
  return absl::OkStatus();
}

absl::Status DbCore::Fail(absl::Status st) {
  absl::MutexLock lock(&mu_);
  if (write_error_.ok()) {
    write_error_ =
        absl::Status(st.code(), absl::StrCat("storage write path stopped after a failed write "
                                             "(restart the node): ",
                                             st.message()));
  }
  return write_error_;
}

absl::Status DbCore::Write(rocksdb::WriteBatch* batch, bool sync, absl::string_view what) {
  uint64_t applied_before = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    applied_before = applied_.index;
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync && !options_.unsafe_disable_sync_for_testing;
  absl::Status st = FromRocks(db_->Write(wo, batch), what);
  if (!st.ok()) return Fail(std::move(st));
  if (wo.sync) {
    absl::MutexLock lock(&mu_);
    durable_applied_index_ = std::max(durable_applied_index_, applied_before);
  }
  return absl::OkStatus();
}

absl::Status DbCore::SyncWal() {
  uint64_t applied_before = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
    applied_before = applied_.index;
  }
  // Under the test-only switch nothing is ever synced, not even here.
  if (options_.unsafe_disable_sync_for_testing) return absl::OkStatus();
  absl::Status st = FromRocks(db_->SyncWAL(), "syncing the WAL");
  if (!st.ok()) return Fail(std::move(st));
  absl::MutexLock lock(&mu_);
  durable_applied_index_ = std::max(durable_applied_index_, applied_before);
  return absl::OkStatus();
}

absl::Status DbCore::write_error() const {
  absl::MutexLock lock(&mu_);
  return write_error_;
}

absl::Status DbCore::Get(Table t, absl::string_view key, std::string* value,
                         const rocksdb::Snapshot* snapshot) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  rocksdb::Status s = db_->Get(ro, handles_[t], rocksdb::Slice(key.data(), key.size()), value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("not in ", TableName(t)));
  return FromRocks(s, absl::StrCat("reading ", TableName(t)));
}

absl::Status DbCore::ClearTable(Table t, rocksdb::WriteBatch* batch) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[t]));
  it->SeekToFirst();
  if (!it->Valid()) return FromRocks(it->status(), absl::StrCat("scanning ", TableName(t)));
  const std::string first = it->key().ToString();
  it->SeekToLast();
  if (!it->Valid()) return FromRocks(it->status(), absl::StrCat("scanning ", TableName(t)));
  // The smallest key above the last one: the last key with a zero byte added.
  std::string end = it->key().ToString();
  end.push_back('\0');
  batch->DeleteRange(handles_[t], first, end);
  return absl::OkStatus();
}

TxId DbCore::applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

void DbCore::SetApplied(TxId applied, bool durable) {
  absl::MutexLock lock(&mu_);
  CAIRN_CHECK(applied.index >= applied_.index)
      << "applied index going backwards: " << applied_.index << " -> " << applied.index;
  applied_ = applied;
  if (durable) durable_applied_index_ = applied.index;
}

absl::Status DbCore::MakeAppliedDurable() {
  {
    absl::MutexLock lock(&mu_);
    if (durable_applied_index_ >= applied_.index) return absl::OkStatus();
  }
  return SyncWal();
}

uint64_t DbCore::durable_applied_index() const {
  absl::MutexLock lock(&mu_);
  return durable_applied_index_;
}

}  // namespace cairn::storage::internal
