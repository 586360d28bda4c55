// The shared RocksDB instance, its tables and its single write path (see db_core.h).
#include "db_core.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "codec.h"
#include "fatal_write_fs.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "rocksdb/write_buffer_manager.h"

namespace cairn::storage::internal {
namespace {

constexpr char kLayoutVersionKey[] = "layout_version";

// Tables read with point lookups (Get), where most misses can be answered by
// a bloom filter without touching a data block: absent idempotency keys and
// collection ids above all, which every append looks up. The others are read
// by range (raft log, collection index, checkpoints) or are tiny.
bool ServesPointLookups(Table t) {
  switch (t) {
    case kEntries:
    case kCollections:
    case kMerkle:
    case kMerkleTiles:
    case kIdempotency:
    case kGovernance:
      return true;
    default:
      return false;
  }
}

// Memtable size of one table before it is flushed. A quarter of the total
// lets the write buffer manager flush the largest tables long before the
// total is reached; RocksDB's 64 MiB default is kept as a ceiling.
size_t TableWriteBufferBytes(const DatabaseOptions& options) {
  return std::clamp<size_t>(options.write_buffer_bytes_total / 4, size_t{1} << 20,
                            size_t{64} << 20);
}

rocksdb::ColumnFamilyOptions MakeTableOptions(Table t, const DatabaseOptions& options,
                                              const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions bt;
  // One cache for every table, so block memory has one bound
  // (block_cache_bytes) instead of RocksDB's default of a private cache per
  // table. Index and filter blocks live in it too: outside it, they grow
  // with the ledger and are bounded by nothing.
  bt.block_cache = cache;
  bt.cache_index_and_filter_blocks = true;
  // L0 files are read by every lookup; keeping their index and filter pinned
  // avoids an eviction turning each lookup into extra reads. Still charged
  // to the cache.
  bt.pin_l0_filter_and_index_blocks_in_cache = true;
  if (ServesPointLookups(t)) {
    // 10 bits per key: about 1% false positives.
    bt.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  }
  rocksdb::ColumnFamilyOptions o;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bt));
  o.write_buffer_size = TableWriteBufferBytes(options);
  o.max_write_buffer_number = 2;
  return o;
}

rocksdb::DBOptions MakeDbOptions(const DatabaseOptions& options,
                                 const std::shared_ptr<rocksdb::WriteBufferManager>& buffers,
                                 rocksdb::Env* env) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.paranoid_checks = true;
  // Tolerate only a torn last record (a write that was never acknowledged);
  // refuse to open on corruption anywhere else. kPointInTimeRecovery, the
  // default, would silently drop everything after a damaged record,
  // acknowledged Raft entries included: silent repair, which we never do.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // Memtables of all tables together stay under write_buffer_bytes_total:
  // the manager flushes the largest table as the total nears the bound and,
  // with allow_stall, makes writers wait for a flush rather than exceed it.
  o.write_buffer_manager = buffers;
  o.max_total_wal_size = options.wal_bytes_max;
  o.manual_wal_flush = options.unsafe_disable_sync_for_testing;
  o.keep_log_file_num = 4;
  o.max_background_jobs = 2;
  if (env != nullptr) o.env = env;
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
    case kMerkleTiles:
      return "merkle_tiles";
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
  if (options.block_cache_bytes == 0 || options.write_buffer_bytes_total == 0 ||
      options.snapshot_install_file_bytes_max == 0) {
    return absl::InvalidArgumentError(
        "block_cache_bytes, write_buffer_bytes_total and snapshot_install_file_bytes_max must be "
        "positive");
  }
  std::unique_ptr<DbCore> core(new DbCore());
  core->path_ = path;
  core->options_ = options;
  core->block_cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);
  core->write_buffers_ = std::make_shared<rocksdb::WriteBufferManager>(
      options.write_buffer_bytes_total, /*cache=*/nullptr, /*allow_stall=*/true);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName,
                           MakeTableOptions(kMeta, options, core->block_cache_));
  for (int t = 0; t < kTableCount; ++t) {
    descriptors.emplace_back(TableName(static_cast<Table>(t)),
                             MakeTableOptions(static_cast<Table>(t), options, core->block_cache_));
  }
  // STYLE.md §6: a failed fsync is fatal to the write path. The latch in
  // Write below sees the error only after RocksDB has, and by then another
  // thread inside RocksDB may have reused the failed file and died in a
  // RocksDB assertion instead of saying what happened: so by default the
  // file system stops the process first (fatal_write_fs.h).
  rocksdb::Env* env = options.env_for_testing;
  if (options.on_write_failure == WriteFailure::kAbortProcess) {
    core->env_ = NewFatalWriteEnv(options.env_for_testing);
    env = core->env_.get();
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(MakeDbOptions(options, core->write_buffers_, env), path,
                                        descriptors, &handles, &core->db_);
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

absl::Status DbCore::Ingest(const std::vector<rocksdb::IngestExternalFileArg>& args,
                            absl::string_view what) {
  {
    absl::MutexLock lock(&mu_);
    if (!write_error_.ok()) return write_error_;
  }
  const rocksdb::Status s = db_->IngestExternalFiles(args);
  absl::Status st = FromRocks(s, what);
  // An I/O error may leave a file or the MANIFEST half written, as a failed
  // write may: it stops the write path. Anything else (files RocksDB
  // refuses) happens before any change.
  if (s.IsIOError()) return Fail(std::move(st));
  return st;
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

absl::StatusOr<std::optional<std::string>> DbCore::LastKey(Table t) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[t]));
  it->SeekToLast();
  if (!it->Valid()) {
    absl::Status st = FromRocks(it->status(), absl::StrCat("scanning ", TableName(t)));
    if (!st.ok()) return st;
    return std::nullopt;
  }
  return it->key().ToString();
}

MemoryUsage DbCore::memory_usage() const {
  MemoryUsage m;
  m.block_cache_capacity_bytes = block_cache_->GetCapacity();
  m.block_cache_bytes = block_cache_->GetUsage();
  m.block_cache_pinned_bytes = block_cache_->GetPinnedUsage();
  m.memtable_bytes = write_buffers_->memory_usage();
  uint64_t readers = 0;
  if (db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem, &readers)) {
    m.table_readers_bytes = readers;
  }
  return m;
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
