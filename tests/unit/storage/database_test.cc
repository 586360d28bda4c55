// Opening the database: layout version, refusal of corruption and of
// inconsistent state (never repaired), the sticky write error after a failed
// fsync (WriteFailure::kLatchError; the default, which stops the process, is
// tested in write_failure_test.cc), and what a power loss leaves (simulated
// by cutting the WAL back to its synced length).
#include "cairn/storage/database.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cairn/storage/data_dir.h"
#include "cairn/storage/snapshot.h"
#include "fault_fs.h"
#include "rocksdb/db.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "test_util.h"

namespace cairn::storage {
namespace {

namespace fs = std::filesystem;
using test::LedgerEntry;
using test::RaftEntries;
using test::TestDb;

// The database opened directly with RocksDB, all column families included,
// to plant states our API never writes.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    CAIRN_CHECK(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &db_);
    CAIRN_CHECK(s.ok()) << s.ToString();
    for (size_t i = 0; i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }
  rocksdb::DB* db() { return db_; }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) { return by_name_.at(name); }
  void Put(const std::string& cf_name, const std::string& key, const std::string& value) {
    CAIRN_CHECK(db_->Put(rocksdb::WriteOptions(), cf(cf_name), key, value).ok());
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

std::string U64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

void FlipByteAt(const std::string& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  CAIRN_CHECK(f) << file;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

std::string FileWithSuffix(const std::string& dir, const std::string& suffix) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return e.path().string();
    }
  }
  return "";
}

TEST(DatabaseTest, UnderALockedDataDirectory) {
  cairn::testing::TempDir tmp;
  auto dir = DataDir::Open(tmp.path() + "/node", true);
  ASSERT_TRUE(dir.ok()) << dir.status();
  {
    auto db = Database::Open((*dir)->db_path());
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->raft_log().Save(std::nullopt, RaftEntries(1, 3, 1)).ok());
  }
  EXPECT_EQ(DataDir::Open(tmp.path() + "/node", true).status().code(),
            absl::StatusCode::kFailedPrecondition);
  dir->reset();
  dir = DataDir::Open(tmp.path() + "/node", false);
  ASSERT_TRUE(dir.ok());
  auto db = Database::Open((*dir)->db_path());
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->raft_log().LastIndex(), 3u);
}

TEST(DatabaseTest, UnknownLayoutVersionIsRefused) {
  TestDb t;
  t.Close();
  { RawDb(t.path()).Put("meta", "layout_version", std::string("\0\0\0\x63", 4)); }
  auto st = t.TryReopen();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("layout version 99"), std::string::npos) << st;
}

TEST(DatabaseTest, ForeignDataWithoutLayoutVersionIsRefused) {
  cairn::testing::TempDir tmp;
  const std::string path = tmp.path() + "/db";
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, path, &db).ok());
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "entries", &h).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h, "k", "v").ok());
    db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  auto db = Database::Open(path);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(db.status().message().find("no layout version"), std::string::npos) << db.status();
}

TEST(DatabaseTest, UnknownTableIsRefused) {
  TestDb t;
  t.Close();
  {
    RawDb raw(t.path());
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(
        raw.db()->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "from_the_future", &h).ok());
    raw.db()->DestroyColumnFamilyHandle(h);
  }
  auto st = t.TryReopen();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("from_the_future"), std::string::npos) << st;
}

TEST(DatabaseTest, CorruptWalIsDataLossNeverRepaired) {
  TestDb t;
  for (uint64_t i = 1; i <= 20; ++i) {
    ASSERT_TRUE(t.log().Save(std::nullopt, {test::RaftEntry(i, 1, std::string(2000, 'a'))}).ok());
  }
  t.Close();
  const std::string wal = FileWithSuffix(t.path(), ".log");
  ASSERT_FALSE(wal.empty());
  const uint64_t size = fs::file_size(wal);
  FlipByteAt(wal, size / 2);
  for (int attempt = 0; attempt < 2; ++attempt) {  // and again: nothing was "fixed"
    auto st = t.TryReopen();
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    EXPECT_NE(st.message().find("Corruption"), std::string::npos) << st;
  }
  EXPECT_EQ(fs::file_size(wal), size);
}

TEST(DatabaseTest, CorruptManifestIsDataLoss) {
  TestDb t;
  t.AppendAndApply(1, 5, 1);
  t.Close();
  std::string found;
  for (const auto& e : fs::directory_iterator(t.path())) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) found = e.path().string();
  }
  ASSERT_FALSE(found.empty());
  FlipByteAt(found, fs::file_size(found) / 2);
  auto st = t.TryReopen();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
}

TEST(DatabaseTest, AppliedIndexOutsideTheLogIsDataLoss) {
  TestDb t;
  t.AppendAndApply(1, 2, 1);
  t.Close();
  { RawDb(t.path()).Put("meta", "applied", U64(5) + U64(1)); }
  auto st = t.TryReopen();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("outside the raft log"), std::string::npos) << st;
}

TEST(DatabaseTest, FailedSyncStopsEveryWriterForGood) {
  cairn::testing::FaultEnv fault;
  DatabaseOptions options;
  options.env_for_testing = fault.env.get();
  options.on_write_failure = WriteFailure::kLatchError;  // the node's default stops the process
  TestDb t(options);
  t.AppendAndApply(1, 3, 1);
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(4, 5, 1)).ok());

  fault.fs->fail_sync = true;
  absl::Status st = t.log().Save(std::nullopt, RaftEntries(6, 6, 1));
  EXPECT_FALSE(st.ok());
  EXPECT_GT(fault.fs->failed_syncs.load(), 0);
  EXPECT_EQ(t.log().LastIndex(), 5u);  // not acknowledged, not visible to the core
  fault.fs->fail_sync = false;

  // The disk "works" again; the write path stays shut.
  EXPECT_FALSE(t.db().write_error().ok());
  EXPECT_NE(t.db().write_error().message().find("stopped"), std::string::npos)
      << t.db().write_error();
  EXPECT_FALSE(t.log().Save(std::nullopt, RaftEntries(6, 6, 1)).ok());
  EXPECT_FALSE(t.log().Save(consensus::HardState{2, 1, 1}, {}).ok());
  EXPECT_FALSE(t.log().Compact(2).ok());
  auto batch = t.ledger().NewBatch();
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(4, 1)).ok());
  EXPECT_FALSE(t.ledger().Commit(*batch).ok());
  EXPECT_FALSE(t.ledger().Commit(*batch, /*sync=*/true).ok());
  EXPECT_FALSE(t.db().Sync().ok());
  EXPECT_EQ(t.ledger().applied_index(), 3u);
  EXPECT_EQ(t.log().hard_state(), consensus::HardState{});
  // Reads keep working.
  EXPECT_EQ(t.log().Entries(1, 6, SIZE_MAX)->size(), 5u);
  EXPECT_EQ(t.ledger().Get(3)->index, 3u);

  // After a restart on a healthy disk, everything acknowledged is there.
  t.options().env_for_testing = nullptr;
  ASSERT_TRUE(t.TryReopen().ok());
  EXPECT_GE(t.log().LastIndex(), 5u);
  EXPECT_EQ(t.ledger().applied_index(), 3u);
  EXPECT_TRUE(t.log().Save(std::nullopt, RaftEntries(t.log().LastIndex() + 1, 7, 1)).ok());
}

TEST(DatabaseTest, FailedSyncDuringCompactionOrApplyIsStickyToo) {
  for (int which = 0; which < 2; ++which) {
    cairn::testing::FaultEnv fault;
    DatabaseOptions options;
    options.env_for_testing = fault.env.get();
    options.on_write_failure = WriteFailure::kLatchError;
    TestDb t(options);
    t.AppendAndApply(1, 4, 1);
    fault.fs->fail_sync = true;
    if (which == 0) {
      EXPECT_FALSE(t.log().Compact(3).ok());
      EXPECT_EQ(t.log().FirstIndex(), 1u);
    } else {
      auto batch = t.ledger().NewBatch();
      ASSERT_TRUE(batch->AddEntry(LedgerEntry(5, 1)).ok());
      EXPECT_FALSE(t.ledger().Commit(*batch, /*sync=*/true).ok());
    }
    fault.fs->fail_sync = false;
    EXPECT_FALSE(t.log().Save(std::nullopt, RaftEntries(5, 5, 1)).ok()) << "case " << which;
  }
}

TEST(DatabaseTest, SaveIsOneFsyncWhateverTheBatchSize) {
  cairn::testing::FaultEnv counting;
  DatabaseOptions options;
  options.env_for_testing = counting.env.get();
  TestDb t(options);
  uint64_t next = 1;
  for (uint64_t batch : {1, 16, 256, 1000}) {
    const int before = counting.fs->syncs.load();
    ASSERT_TRUE(
        t.log()
            .Save(consensus::HardState{1, 1, next - 1}, RaftEntries(next, next + batch - 1, 1))
            .ok());
    EXPECT_EQ(counting.fs->syncs.load() - before, 1) << "batch of " << batch;
    next += batch;
  }
  // A commit-only hard state change the core marks as not needing a sync,
  // and unsynced apply commits, cost no fsync at all.
  const int before = counting.fs->syncs.load();
  ASSERT_TRUE(t.log().Save({consensus::HardState{1, 1, next - 1}, {}, std::nullopt, false}).ok());
  auto batch = t.ledger().NewBatch();
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(1, 1)).ok());
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  EXPECT_EQ(counting.fs->syncs.load(), before);
}

// Reads must not grow costlier, or memory unbounded, as the ledger grows:
// one cache of a configured size holds index and filter blocks, and lookups
// of absent keys (every new idempotency key) are answered by bloom filters.
TEST(DatabaseTest, OneBoundedCacheHoldsIndexAndFilterBlocksAndBloomFiltersAnswerMisses) {
  DatabaseOptions options;
  options.block_cache_bytes = 8u << 20;
  TestDb t(options);
  t.log().Save(std::nullopt, RaftEntries(1, 2000, 1)).IgnoreError();
  std::vector<StoredEntry> entries;
  for (uint64_t i = 1; i <= 2000; ++i) {
    StoredEntry e = LedgerEntry(i, 1, absl::StrCat("col-", i % 50));
    e.idempotency_key = absl::StrCat("key-", i);
    entries.push_back(std::move(e));
  }
  ASSERT_TRUE(t.ledger().Apply(entries).ok());
  t.Reopen();  // recovery flushes the memtables: the tables are now in L0 files

  const MemoryUsage m = t.db().memory_usage();
  EXPECT_EQ(m.block_cache_capacity_bytes, 8u << 20);
  // Index and filter blocks of the L0 files are in the cache, pinned there,
  // before any read: outside the cache this would be zero.
  EXPECT_GT(m.block_cache_pinned_bytes, 0u);
  EXPECT_LE(m.block_cache_bytes, m.block_cache_capacity_bytes);

  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(
        t.ledger().LookupIdempotencyKey("alice", absl::StrCat("absent-", i), 1000).status().code(),
        absl::StatusCode::kNotFound);
    EXPECT_EQ(t.ledger().GetCollection(absl::StrCat("absent-", i)).status().code(),
              absl::StatusCode::kNotFound);
  }
  // About 1% false positives at 10 bits per key; without filters this is 0.
  EXPECT_GE(rocksdb::get_perf_context()->bloom_sst_miss_count, 380u);
  EXPECT_EQ(*t.ledger().LookupIdempotencyKey("alice", "key-7", 1000), (TxId{1, 7}));
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
}

TEST(DatabaseTest, MemtablesStayWithinTheirBound) {
  DatabaseOptions options;
  options.write_buffer_bytes_total = 4u << 20;
  TestDb t(options);
  uint64_t next = 1;
  size_t peak = 0;
  for (int round = 0; round < 24; ++round) {  // ~24 MiB, six times the bound
    auto batch = t.ledger().NewBatch();
    for (int i = 0; i < 256; ++i, ++next) {
      StoredEntry e = LedgerEntry(next, 1);
      e.data = std::string(4096, 'x');
      ASSERT_TRUE(batch->AddEntry(e).ok());
    }
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
    peak = std::max<size_t>(peak, t.db().memory_usage().memtable_bytes);
  }
  // Writers wait for a flush instead of passing the bound; one batch (1 MiB
  // here) and the memtables' arena blocks may be in flight above it.
  EXPECT_LE(peak, (4u << 20) + (2u << 20));
  EXPECT_EQ(t.ledger().Get(next - 1)->data.size(), 4096u);
}

TEST(DatabaseTest, ZeroMemoryBoundsAreRefused) {
  DatabaseOptions options;
  options.block_cache_bytes = 0;
  cairn::testing::TempDir dir;
  EXPECT_EQ(Database::Open(dir.path() + "/db", options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Power loss, simulated by dropping WAL bytes that were never synced.

class PowerLossTest : public ::testing::Test {
 protected:
  PowerLossTest() {
    options_.env_for_testing = fault_.env.get();
    t_ = std::make_unique<TestDb>(options_);
  }
  void PowerLossAndRestart() {
    t_->Close();
    fault_.fs->DropUnsyncedWalData();
    ASSERT_TRUE(t_->TryReopen().ok());
  }

  cairn::testing::FaultEnv fault_;
  DatabaseOptions options_;
  std::unique_ptr<TestDb> t_;
};

TEST_F(PowerLossTest, AcknowledgedSavesSurvive) {
  for (uint64_t i = 1; i <= 10; ++i) {
    ASSERT_TRUE(t_->log().Save(consensus::HardState{1, 1, i - 1}, RaftEntries(i, i, 1)).ok());
  }
  PowerLossAndRestart();
  EXPECT_EQ(t_->log().LastIndex(), 10u);
  EXPECT_EQ(t_->log().hard_state().commit, 9u);
}

TEST_F(PowerLossTest, UnsyncedApplyIsLostButReplayableFromTheLog) {
  ASSERT_TRUE(t_->log().Save(std::nullopt, RaftEntries(1, 5, 1)).ok());
  auto batch = t_->ledger().NewBatch();
  for (uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE(batch->AddEntry(LedgerEntry(i, 1)).ok());
  ASSERT_TRUE(t_->ledger().Commit(*batch).ok());  // not synced
  PowerLossAndRestart();
  // This is the simulation having teeth: the unsynced apply is gone...
  EXPECT_EQ(t_->ledger().applied_index(), 0u);
  // ...and the log still holds every entry needed to redo it.
  EXPECT_EQ(t_->log().LastIndex(), 5u);
}

TEST_F(PowerLossTest, ALaterSyncedLogWriteMakesEarlierApplyDurable) {
  ASSERT_TRUE(t_->log().Save(std::nullopt, RaftEntries(1, 5, 1)).ok());
  auto batch = t_->ledger().NewBatch();
  for (uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE(batch->AddEntry(LedgerEntry(i, 1)).ok());
  ASSERT_TRUE(t_->ledger().Commit(*batch).ok());
  ASSERT_TRUE(t_->log().Save(std::nullopt, RaftEntries(6, 6, 1)).ok());  // one WAL, synced
  PowerLossAndRestart();
  EXPECT_EQ(t_->ledger().applied_index(), 5u);
}

TEST_F(PowerLossTest, CompactionNeverOutrunsTheDurableAppliedIndex) {
  ASSERT_TRUE(t_->log().Save(std::nullopt, RaftEntries(1, 8, 1)).ok());
  auto batch = t_->ledger().NewBatch();
  for (uint64_t i = 1; i <= 8; ++i) ASSERT_TRUE(batch->AddEntry(LedgerEntry(i, 1)).ok());
  ASSERT_TRUE(t_->ledger().Commit(*batch).ok());  // unsynced
  ASSERT_TRUE(t_->log().Compact(6).ok());
  PowerLossAndRestart();  // Open would refuse applied < snapshot index
  EXPECT_EQ(t_->log().FirstIndex(), 7u);
  EXPECT_GE(t_->ledger().applied_index(), 6u);
}

TEST_F(PowerLossTest, WithSyncDisabledAcknowledgedWritesAreLost) {
  t_->Close();
  options_.unsafe_disable_sync_for_testing = true;
  t_ = std::make_unique<TestDb>(options_);
  ASSERT_TRUE(t_->log().Save(std::nullopt, RaftEntries(1, 5, 1)).ok());
  t_->Close();
  fault_.fs->DropUnsyncedWalData();
  options_.unsafe_disable_sync_for_testing = false;
  t_->options() = options_;
  ASSERT_TRUE(t_->TryReopen().ok());
  EXPECT_LT(t_->log().LastIndex(), 5u);
}

}  // namespace
}  // namespace cairn::storage
