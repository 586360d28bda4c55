// Crash test of snapshot install with real processes: a follower killed
// with SIGKILL anywhere in an install must reopen with either its old state
// or the snapshot's, whole, never a mix and never a database that refuses
// to open; and an interrupted install must be possible to redo.
//
// snapshot_install_crash_child installs a leader's snapshot payload into a
// copy of a follower's database. The parent kills it at each point the
// install exposes (after the first SST file, after a later one, just before
// and just after the ingestion) and at random moments, then reopens the
// database and compares its whole ledger state, byte for byte, with the
// follower's before and the leader's.
//
// Random cycles: 20 by default; more with CAIRN_SNAPSHOT_CRASH_CYCLES=N.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/storage/apply_batch.h"
#include "cairn/storage/database.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "cairn/storage/snapshot.h"
#include "crash/crash_workload.h"
#include "testing/temp_dir.h"

namespace cairn::storage::crash {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kLeaderEntries = 6000;
constexpr uint64_t kFollowerEntries = 100;
constexpr uint64_t kFileBytesMax = 64 << 10;  // many files, so a kill can land between them

// The ledger state a database holds, as the bytes of a snapshot of it.
std::string LedgerState(Database& db) {
  auto source = db.TakeSnapshot(1 << 20);
  CAIRN_CHECK(source.ok()) << source.status();
  std::string all;
  while (!(*source)->done()) all += *(*source)->NextChunk();
  return all;
}

void Fill(Database& db, uint64_t entries, uint64_t term, const std::string& tag) {
  CAIRN_CHECK_OK(db.raft_log().Bootstrap(consensus::ConfState{{1, 2, 3}, {}}));
  for (uint64_t first = 1; first <= entries; first += 500) {
    const uint64_t last = std::min(entries, first + 499);
    std::vector<consensus::Entry> log_entries;
    auto batch = db.ledger().NewBatch();
    for (uint64_t i = first; i <= last; ++i) {
      std::string data = absl::StrCat(tag, EntryData(i, term, last));
      log_entries.push_back(consensus::Entry{term, i, data, std::nullopt});
      StoredEntry e = LedgerEntryFor(i, term, data);
      e.collection_id = absl::StrCat(tag, e.collection_id);
      CAIRN_CHECK_OK(batch->AddEntry(e));
      batch->WriteNode(0, i - 1, ledger::Hash{static_cast<uint8_t>(i)});
      if (i % kCheckpointEvery == 0) {
        batch->AddCheckpoint(CheckpointRecord{TxId{term, i}, i - 1, "checkpoint"});
      }
    }
    CAIRN_CHECK_OK(db.raft_log().Save(consensus::HardState{term, 1, last}, log_entries));
    CAIRN_CHECK_OK(db.ledger().Commit(*batch));
  }
}

class SnapshotInstallCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      auto leader = Database::Open(tmp_.path() + "/leader");
      ASSERT_TRUE(leader.ok()) << leader.status();
      Fill(**leader, kLeaderEntries, 2, "");
      auto source = (*leader)->TakeSnapshot(1 << 20);
      ASSERT_TRUE(source.ok()) << source.status();
      meta_ = (*source)->meta();
      while (!(*source)->done()) payload_ += *(*source)->NextChunk();
      sha256_hex_ = base::HexEncode((*source)->payload_sha256());
      std::ofstream(payload_path(), std::ios::binary) << payload_;
    }
    {
      // "zz" sorts the follower's collections after the leader's: the
      // install must delete past the last key the payload carries.
      auto follower = Database::Open(template_path());
      ASSERT_TRUE(follower.ok()) << follower.status();
      Fill(**follower, kFollowerEntries, 1, "zz");
      before_ = LedgerState(**follower);
    }
    ASSERT_NE(before_, payload_);
  }

  std::string payload_path() const { return tmp_.path() + "/payload"; }
  std::string template_path() const { return tmp_.path() + "/follower-template"; }

  // A fresh copy of the follower, closed.
  std::string FreshFollower() {
    const std::string path = absl::StrCat(tmp_.path(), "/follower-", ++copies_);
    fs::copy(template_path(), path, fs::copy_options::recursive);
    return path;
  }

  struct Run {
    bool ready = false;
    bool installed = false;
    int wait_status = 0;
    double install_seconds = 0;  // from "ready" to "installed"
  };

  // Runs the child on `db_path`. With `kill_after` set, SIGKILLs it that
  // long after it reported ready (unless it finished first).
  Run RunChild(const std::string& db_path, const std::string& stage, int occurrence,
               std::optional<std::chrono::microseconds> kill_after = std::nullopt) {
    const std::string payload = payload_path(), bytes_arg = absl::StrCat(kFileBytesMax),
                      occ_arg = absl::StrCat(occurrence);
    int fds[2];
    CAIRN_CHECK(::pipe2(fds, O_CLOEXEC) == 0) << "pipe2";
    const pid_t pid = ::fork();
    CAIRN_CHECK(pid >= 0) << "fork";
    if (pid == 0) {
      ::dup2(fds[1], 3);
      const char* args[] = {
          CAIRN_SNAPSHOT_CRASH_CHILD, db_path.c_str(), payload.c_str(), sha256_hex_.c_str(),
          bytes_arg.c_str(),          stage.c_str(),   occ_arg.c_str(), nullptr};
      ::execv(CAIRN_SNAPSHOT_CRASH_CHILD, const_cast<char* const*>(args));
      ::_exit(127);
    }
    ::close(fds[1]);
    Run run;
    std::string out;
    enum Read { kData, kTimeout, kEof };
    auto read_some = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) == 0) return kTimeout;
      char buf[256];
      const ssize_t n = ::read(fds[0], buf, sizeof(buf));
      if (n <= 0) return kEof;
      out.append(buf, static_cast<size_t>(n));
      return kData;
    };
    while (out.find("ready\n") == std::string::npos && read_some(-1) == kData) {
    }
    run.ready = out.find("ready\n") != std::string::npos;
    const Clock::time_point ready_at = Clock::now();
    if (run.ready && kill_after.has_value()) {
      const auto kill_at = ready_at + *kill_after;
      for (Clock::time_point now = Clock::now(); now < kill_at; now = Clock::now()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - now);
        if (read_some(static_cast<int>(left.count())) == kEof) break;  // it finished
      }
      ::kill(pid, SIGKILL);  // harmless if it already exited: not reaped yet
    }
    while (read_some(-1) == kData) {
      if (!run.installed && out.find("installed\n") != std::string::npos) {
        run.installed = true;
        run.install_seconds = std::chrono::duration<double>(Clock::now() - ready_at).count();
      }
    }
    run.installed = out.find("installed\n") != std::string::npos;
    ::close(fds[0]);
    CAIRN_CHECK(::waitpid(pid, &run.wait_status, 0) == pid) << "waitpid";
    return run;
  }

  // kBroken: the follower does not reopen, or holds a mix of the two.
  enum class Outcome { kOld, kNew, kBroken };

  // Reopens the follower and checks that it holds one whole state.
  Outcome Verify(const std::string& db_path, const std::string& context) {
    auto db = Database::Open(db_path);
    if (!db.ok()) {
      ADD_FAILURE() << context << ": the follower does not reopen: " << db.status();
      return Outcome::kBroken;
    }
    EXPECT_FALSE(fs::exists(db_path + ".incoming-snapshot")) << context;
    EXPECT_FALSE(fs::exists(db_path + ".incoming-snapshot.sst")) << context;
    const std::string state = LedgerState(**db);
    RaftLogStore& log = (*db)->raft_log();
    if (state == payload_) {
      EXPECT_EQ((*db)->ledger().applied_index(), meta_.index) << context;
      EXPECT_EQ(log.Snapshot(), meta_) << context;
      EXPECT_EQ(log.LastIndex(), meta_.index) << context;
      EXPECT_GE(log.hard_state().commit, meta_.index) << context;
      return Outcome::kNew;
    }
    if (state != before_) {
      ADD_FAILURE() << context << ": ledger state is neither the old nor the new one";
      return Outcome::kBroken;
    }
    EXPECT_EQ((*db)->ledger().applied_index(), kFollowerEntries) << context;
    EXPECT_EQ(log.LastIndex(), kFollowerEntries) << context;
    EXPECT_EQ(log.Snapshot().index, 0u) << context;
    return Outcome::kOld;
  }

  cairn::testing::TempDir tmp_;
  consensus::SnapshotMeta meta_;
  std::string payload_, sha256_hex_, before_;
  int copies_ = 0;
};

bool KilledBySigkill(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }

TEST_F(SnapshotInstallCrashTest, KilledAtEachStageLeavesTheOldStateOrTheNew) {
  struct Case {
    const char* stage;
    int occurrence;
    Outcome want;
  };
  for (const Case& c :
       {Case{"sst_file_written", 1, Outcome::kOld}, Case{"sst_file_written", 8, Outcome::kOld},
        Case{"before_ingest", 1, Outcome::kOld}, Case{"after_ingest", 1, Outcome::kNew}}) {
    const std::string context = absl::StrCat("killed at ", c.stage, " #", c.occurrence);
    const std::string path = FreshFollower();
    Run run = RunChild(path, c.stage, c.occurrence);
    ASSERT_TRUE(run.ready) << context;
    ASSERT_TRUE(KilledBySigkill(run.wait_status))
        << context << ": the child was not killed there (status " << run.wait_status << ")";
    EXPECT_FALSE(run.installed) << context;
    EXPECT_EQ(Verify(path, context), c.want) << context;
    if (c.want == Outcome::kOld) {
      // The interrupted install can be redone.
      Run again = RunChild(path, "none", 0);
      EXPECT_TRUE(again.installed)
          << context << ": redo failed (status " << again.wait_status << ")";
      EXPECT_EQ(Verify(path, context + ", redone"), Outcome::kNew) << context;
    }
  }
}

TEST_F(SnapshotInstallCrashTest, KilledAtRandomMomentsLeavesTheOldStateOrTheNew) {
  uint64_t cycles = 20;
  if (const char* env = std::getenv("CAIRN_SNAPSHOT_CRASH_CYCLES")) {
    CAIRN_CHECK(absl::SimpleAtoi(env, &cycles)) << "CAIRN_SNAPSHOT_CRASH_CYCLES=" << env;
  }
  // How long an install takes here, so kills spread over all of it.
  const std::string timing = FreshFollower();
  Run full = RunChild(timing, "none", 0);
  ASSERT_TRUE(full.installed) << "status " << full.wait_status;
  const auto span =
      std::chrono::microseconds(static_cast<int64_t>(full.install_seconds * 1.2e6) + 1000);
  const uint64_t seed = std::random_device()();
  std::mt19937_64 rng(seed);
  int old_state = 0, new_state = 0;
  for (uint64_t cycle = 1; cycle <= cycles; ++cycle) {
    const std::string path = FreshFollower();
    const auto after = std::chrono::microseconds(rng() % span.count());
    Run run = RunChild(path, "none", 0, after);
    const std::string context =
        absl::StrCat("cycle ", cycle, ", killed ", after.count(), " us in (seed ", seed, ")");
    ASSERT_TRUE(run.ready) << context;
    const Outcome got = Verify(path, context);
    if (run.installed) {
      EXPECT_EQ(got, Outcome::kNew) << context << ": acknowledged install lost";
    }
    if (got == Outcome::kBroken) break;
    (got == Outcome::kNew ? new_state : old_state) += 1;
    fs::remove_all(path);
  }
  std::printf("snapshot install kills: %lu, old state %d, new state %d, install %.0f ms\n",
              static_cast<unsigned long>(cycles), old_state, new_state,
              full.install_seconds * 1000);
}

}  // namespace
}  // namespace cairn::storage::crash
