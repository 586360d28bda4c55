// A failed write stops the process with Cairn's own message, the default
// (WriteFailure::kAbortProcess): a failed fsync during a Raft log Save, a
// failed WAL append during an unsynced ledger commit, and a failed fsync while
// a synced Save and unsynced commits run on two threads, the setting of the
// user's report (once the error came back into RocksDB with another writer
// inside it, the node died in a RocksDB assertion, writable_file_writer.h,
// instead of Cairn's message). Each death is checked against the whole
// message, so a RocksDB assertion, or a Cairn check elsewhere seeing a
// returned error, fails the test: with kLatchError the race test fails so.
// The latched error itself is tested in database_test.cc.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "cairn/storage/database.h"
#include "fault_fs.h"
#include "test_util.h"
#include "testing/temp_dir.h"

namespace cairn::storage {
namespace {

using test::LedgerEntry;
using test::RaftEntries;
using test::TestDb;

// The whole line, as docs/operations.md names it. `file` and `op` are
// regular expressions; `error` is the injected error's text.
std::string StopMessage(const std::string& file, const std::string& op, const std::string& error) {
  return "FATAL [^ ]+ invariant violated: s\\.ok\\(\\): storage: the disk failed while writing " +
         file + " \\(" + op + "\\): IO error: " + error +
         "\\. The node stops so that nothing is acknowledged after a failed write; check the "
         "disk, then restart the node\\.";
}

class WriteFailureDeathTest : public ::testing::Test {
 protected:
  WriteFailureDeathTest() {
    // RocksDB runs threads; re-executing the test binary is safe with them.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // A dying child never removes its temporary directories: make them in
    // this test's own, which the parent removes. (The child re-runs this
    // constructor and nests a directory of its own in the parent's.)
    const char* tmpdir = std::getenv("TMPDIR");
    if (tmpdir != nullptr) saved_tmpdir_ = tmpdir;
    scratch_.emplace();
    ::setenv("TMPDIR", scratch_->path().c_str(), /*overwrite=*/1);
  }
  ~WriteFailureDeathTest() override {
    if (saved_tmpdir_) {
      ::setenv("TMPDIR", saved_tmpdir_->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }

  std::optional<std::string> saved_tmpdir_;
  std::optional<cairn::testing::TempDir> scratch_;
};

// A database on a fault-injecting file system, with the default options
// apart from that.
struct FaultyDb {
  static DatabaseOptions Options(const cairn::testing::FaultEnv& fault) {
    DatabaseOptions options;
    options.env_for_testing = fault.env.get();
    return options;
  }
  cairn::testing::FaultEnv fault;
  TestDb t{Options(fault)};  // after `fault`, which it runs on
};

TEST(WriteFailureTest, TheDefaultStopsTheProcess) {
  // The node opens its database with default options (node/src/node.cc).
  EXPECT_EQ(DatabaseOptions{}.on_write_failure, WriteFailure::kAbortProcess);
}

TEST_F(WriteFailureDeathTest, FailedFsyncDuringARaftLogSaveStopsTheNode) {
  FaultyDb db;
  db.t.AppendAndApply(1, 3, 1);
  // The fault is set in the child only: the parent's database must close
  // on a healthy disk, or it would stop the test binary.
  EXPECT_DEATH(
      {
        db.fault.fs->fail_sync = true;
        (void)db.t.log().Save(consensus::HardState{1, 1, 3}, RaftEntries(4, 5, 1));
      },
      StopMessage("[^ ]+/db/[0-9]+\\.log", "Sync", "injected fsync failure"));
  // Nothing else changed in the parent, which goes on writing.
  EXPECT_TRUE(db.t.log().Save(std::nullopt, RaftEntries(4, 4, 1)).ok());
}

TEST_F(WriteFailureDeathTest, FailedAppendDuringAnUnsyncedCommitStopsTheNode) {
  FaultyDb db;
  db.t.AppendAndApply(1, 3, 1);
  ASSERT_TRUE(db.t.log().Save(std::nullopt, RaftEntries(4, 4, 1)).ok());
  EXPECT_DEATH(
      {
        db.fault.fs->fail_append = true;
        auto batch = db.t.ledger().NewBatch();
        CAIRN_CHECK_OK(batch->AddEntry(LedgerEntry(4, 1)));
        (void)db.t.ledger().Commit(*batch);  // unsynced: the WAL append is its only I/O
      },
      StopMessage("[^ ]+/db/[0-9]+\\.log", "Append", "injected write failure"));
}

// The Raft loop's synced Save on this thread, the apply stage's unsynced
// commits on another, and fsync failing from the `run`-th Save on. Any
// write returning (rather than the process stopping) is a failure too: it
// would print a check of its own, not the disk's message.
void RaceWritersIntoAFailingFsync(FaultyDb& db, int run) {
  std::thread apply([&db] {
    for (uint64_t i = db.t.ledger().applied_index() + 1;; ++i) {
      auto batch = db.t.ledger().NewBatch();
      CAIRN_CHECK_OK(batch->AddEntry(LedgerEntry(i, 1)));
      CAIRN_CHECK_OK(db.t.ledger().Commit(*batch)) << "an unsynced commit returned an error";
    }
  });
  apply.detach();  // runs until the process stops
  for (uint64_t i = db.t.log().LastIndex() + 1;; ++i) {
    if (i == static_cast<uint64_t>(2 + run)) db.fault.fs->fail_sync = true;
    CAIRN_CHECK_OK(db.t.log().Save(std::nullopt, RaftEntries(i, i, 1)))
        << "a synced Save returned an error";
  }
}

TEST_F(WriteFailureDeathTest, ConcurrentWritersStopWithCairnsMessageNotARocksDbAssertion) {
  // Each run is a new process racing the two writers; 20 of them make it
  // very likely that some failure lands while a commit is inside RocksDB.
  for (int run = 0; run < 20; ++run) {
    EXPECT_DEATH(
        {
          FaultyDb db;
          RaceWritersIntoAFailingFsync(db, run);
        },
        StopMessage("[^ ]+", "(Sync|Fsync)", "injected fsync failure"))
        << "run " << run;
  }
}

}  // namespace
}  // namespace cairn::storage
