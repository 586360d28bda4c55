// kill -9 test of the storage layer with real processes.
//
// Each cycle starts storage_crash_child on one data directory, reads the
// batches it acknowledges through a pipe, kills it with SIGKILL at a random
// moment (after a random number of acknowledgements plus a random extra
// stretch, so the kill often lands inside a write), reads every
// acknowledgement that reached the pipe before the child died, and reopens
// the directory to check that:
//   - every acknowledged entry is present, with the term it was saved with;
//   - every entry in the log is well formed and the log ends on a batch
//     boundary (no batch is partially present);
//   - the applied state matches the log: applied index within the log,
//     applied entries equal to what was saved, collection counts summing to
//     the applied index, the Merkle leaf, idempotency key and checkpoint of
//     the last applied entry present and nothing beyond it.
//
// Cycles: 200 by default (CI); more with --cycles=N or CAIRN_CRASH_CYCLES.
//
// Why the sync-off variant uses a user-space WAL buffer: SIGKILL kills the
// process, not the kernel. A write() that reached the page cache survives
// SIGKILL whether or not it was fsynced, so merely skipping fsync would pass
// this test and prove nothing about the checker. With
// unsafe_disable_sync_for_testing the child also sets RocksDB's
// manual_wal_flush: acknowledged writes sit in RocksDB's in-process WAL buffer
// until it fills, exactly like a buggy implementation that acknowledges
// before its data leaves the process. SIGKILL then genuinely loses them, and
// the second test asserts that the checker notices.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cairn/storage/data_dir.h"
#include "cairn/storage/database.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "crash/crash_workload.h"
#include "testing/temp_dir.h"

namespace cairn::storage::crash {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t g_cycles = 200;
uint64_t g_seed = 0;

struct ChildRun {
  std::vector<std::string> ack_lines;
  bool killed = false;  // false: it exited on its own (a failure)
  int wait_status = 0;
};

// Starts the child, lets it acknowledge `acks_min` batches, then keeps
// reading for `extra` more before SIGKILL. Returns every ack it sent.
ChildRun RunChildUntilKilled(const std::string& dir, uint64_t term, uint64_t seed, bool sync_off,
                             size_t acks_min, std::chrono::microseconds extra) {
  int fds[2];
  CAIRN_CHECK(::pipe2(fds, O_CLOEXEC) == 0) << "pipe2";
  const pid_t pid = ::fork();
  CAIRN_CHECK(pid >= 0) << "fork";
  if (pid == 0) {
    ::dup2(fds[1], 3);  // the ack fd, without O_CLOEXEC
    const std::string term_arg = absl::StrCat(term), seed_arg = absl::StrCat(seed);
    std::vector<const char*> args = {CAIRN_CRASH_CHILD, dir.c_str(), "3", term_arg.c_str(),
                                     seed_arg.c_str()};
    if (sync_off) args.push_back("--sync-off");
    args.push_back(nullptr);
    ::execv(CAIRN_CRASH_CHILD, const_cast<char* const*>(args.data()));
    ::_exit(127);
  }
  ::close(fds[1]);
  ChildRun run;
  std::string buffer;
  auto drain = [&](int timeout_ms) {  // returns false at EOF
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char chunk[4096];
    const ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  };
  auto acks = [&] { return static_cast<size_t>(std::count(buffer.begin(), buffer.end(), '\n')); };
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  bool open = true;
  while (open && acks() < acks_min && Clock::now() < deadline) open = drain(50);
  const auto kill_at = Clock::now() + extra;
  while (open && Clock::now() < kill_at) open = drain(0);
  run.killed = open && ::kill(pid, SIGKILL) == 0;
  CAIRN_CHECK(::waitpid(pid, &run.wait_status, 0) == pid) << "waitpid";
  // Acks written before the child died are still in the pipe: they count.
  while (drain(-1)) {
  }
  ::close(fds[0]);
  for (absl::string_view line : absl::StrSplit(buffer, '\n', absl::SkipEmpty())) {
    run.ack_lines.emplace_back(line);
  }
  return run;
}

// What the parent knows was acknowledged, and how far it has checked.
struct Model {
  std::map<uint64_t, uint64_t> acked_term;  // index -> term
  uint64_t max_acked = 0;
  uint64_t log_checked_to = 0;
};

// Every acknowledged entry is in the log with its term, every entry is well
// formed, and the log ends on a batch boundary.
void VerifyLog(const RaftLogStore& log, Model& m, std::vector<std::string>& bad) {
  const uint64_t first = log.FirstIndex(), last = log.LastIndex();
  if (last < m.max_acked) {
    bad.push_back(absl::StrCat("LOST: acknowledged index ", m.max_acked,
                               " is missing; the log ends at ", last));
    return;
  }
  // Every entry from a little before what was already checked to the end.
  const uint64_t from = std::max(first, m.log_checked_to > 64 ? m.log_checked_to - 64 : 1);
  std::vector<consensus::Entry> entries;
  if (from <= last) {
    auto read = log.Entries(from, last + 1, SIZE_MAX);
    if (!read.ok()) {
      bad.push_back(absl::StrCat("reading the log: ", read.status().ToString()));
      return;
    }
    entries = *std::move(read);
  }
  uint64_t batch_last = 0;
  for (const consensus::Entry& e : entries) {
    uint64_t index = 0, term = 0;
    if (!ParseEntryData(e.data, &index, &term, &batch_last) || index != e.index || term != e.term ||
        e.data != EntryData(index, term, batch_last) || batch_last < index) {
      bad.push_back(absl::StrCat("malformed entry at index ", e.index));
      return;
    }
    auto acked = m.acked_term.find(e.index);
    if (acked != m.acked_term.end() && acked->second != e.term) {
      bad.push_back(absl::StrCat("LOST: acknowledged entry ", e.index, " of term ", acked->second,
                                 " now has term ", e.term));
    }
  }
  if (!entries.empty() && batch_last != last) {
    bad.push_back(absl::StrCat("partial batch: the log ends at ", last,
                               " inside a batch ending at ", batch_last));
  }
  m.log_checked_to = last;
}

// Applied state matches the log: the applied index lies within it, applied
// entries are the saved ones, and everything the apply batches derived ends
// exactly at the applied index (each batch landed whole or not at all).
void VerifyApplied(const RaftLogStore& log, const LedgerStore& ledger, const Model& m,
                   std::vector<std::string>& bad) {
  const uint64_t first = log.FirstIndex(), last = log.LastIndex();
  const TxId applied = ledger.applied();
  if (applied.index + 1 < first || applied.index > last) {
    bad.push_back(absl::StrCat("applied index ", applied.index, " outside the log [", first, ", ",
                               last, "]"));
    return;
  }
  if (applied.index == 0) return;
  // The last few applied entries are the saved entries (the acknowledged ones
  // where acknowledged: an entry may have been durable without its ack).
  for (uint64_t i = applied.index > 8 ? applied.index - 8 : 1; i <= applied.index; ++i) {
    auto e = ledger.Get(i);
    uint64_t index = 0, term = 0, bl = 0;
    if (!e.ok() || !ParseEntryData(e->data, &index, &term, &bl) || index != i || term != e->term ||
        e->data != EntryData(i, term, bl) || !(*e == LedgerEntryFor(i, term, e->data))) {
      bad.push_back(absl::StrCat("applied entry ", i, " is not the entry that was saved"));
      continue;
    }
    auto acked = m.acked_term.find(i);
    if (acked != m.acked_term.end() && acked->second != term) {
      bad.push_back(absl::StrCat("LOST: applied entry ", i, " has term ", term,
                                 ", acknowledged with term ", acked->second));
    }
  }
  // Everything else the apply batch wrote is there exactly up to applied.
  uint64_t counted = 0;
  for (int c = 0; c < kCollections; ++c) {
    auto summary = ledger.GetCollection(absl::StrCat("c", c));
    if (summary.ok()) counted += summary->entry_count;
  }
  if (counted != applied.index) {
    bad.push_back(
        absl::StrCat("collections count ", counted, " entries, applied index is ", applied.index));
  }
  if (!ledger.ReadNode(0, applied.index - 1).ok() || ledger.ReadNode(0, applied.index).ok()) {
    bad.push_back(absl::StrCat("merkle leaves do not end at applied index ", applied.index));
  }
  auto idem = ledger.LookupIdempotencyKey("u", absl::StrCat("k", applied.index), 0);
  if (!idem.ok() || !(*idem == applied)) {
    bad.push_back(absl::StrCat("idempotency key of applied entry ", applied.index, " missing"));
  }
  auto checkpoint = ledger.LatestCheckpoint();
  const uint64_t want_cp = applied.index - applied.index % kCheckpointEvery;
  if (want_cp > 0 && (!checkpoint.ok() || checkpoint->signature.index != want_cp)) {
    bad.push_back(absl::StrCat("latest checkpoint is not at ", want_cp));
  }
}

// Reopens the directory and checks it against the model; returns the violations.
std::vector<std::string> Verify(const std::string& dir_path, Model& m) {
  auto dir = DataDir::Open(dir_path, /*create_if_missing=*/false);
  if (!dir.ok()) return {absl::StrCat("data directory does not reopen: ", dir.status().ToString())};
  auto db = Database::Open((*dir)->db_path());
  if (!db.ok()) return {absl::StrCat("database does not reopen: ", db.status().ToString())};
  std::vector<std::string> bad;
  VerifyLog((*db)->raft_log(), m, bad);
  if (bad.empty()) VerifyApplied((*db)->raft_log(), (*db)->ledger(), m, bad);
  return bad;
}

struct HarnessResult {
  uint64_t cycles = 0;
  uint64_t acked_batches = 0;
  uint64_t last_index = 0;
  std::vector<std::string> violations;  // prefixed with their cycle
};

HarnessResult RunHarness(uint64_t cycles, bool sync_off, bool stop_at_first_violation) {
  cairn::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/node";
  std::mt19937_64 rng(g_seed);
  Model model;
  HarnessResult result;
  for (uint64_t cycle = 1; cycle <= cycles; ++cycle) {
    const size_t acks_min = 1 + rng() % 40;
    const auto extra = std::chrono::microseconds(rng() % 3000);
    ChildRun run = RunChildUntilKilled(dir, /*term=*/cycle, g_seed, sync_off, acks_min, extra);
    result.cycles = cycle;
    if (!run.killed) {
      result.violations.push_back(
          absl::StrCat("cycle ", cycle, ": child exited on its own (", run.wait_status, ")"));
      return result;
    }
    for (const std::string& line : run.ack_lines) {
      std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
      uint64_t first = 0, last = 0, term = 0;
      CAIRN_CHECK(f.size() == 3 && absl::SimpleAtoi(f[0], &first) &&
                  absl::SimpleAtoi(f[1], &last) && absl::SimpleAtoi(f[2], &term))
          << "bad ack line: " << line;
      for (uint64_t i = first; i <= last; ++i) model.acked_term[i] = term;
      model.max_acked = std::max(model.max_acked, last);
      ++result.acked_batches;
    }
    for (const std::string& v : Verify(dir, model)) {
      result.violations.push_back(absl::StrCat("cycle ", cycle, ": ", v));
    }
    result.last_index = model.max_acked;
    if (stop_at_first_violation && !result.violations.empty()) break;
  }
  return result;
}

TEST(StorageCrashTest, SyncedBatchesSurviveKill9) {
  const auto start = Clock::now();
  HarnessResult r = RunHarness(g_cycles, /*sync_off=*/false, /*stop_at_first_violation=*/false);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "kill -9 cycles: %lu, acknowledged batches: %lu, last acknowledged index: %lu, "
      "%.1f s (seed %lu)\n",
      static_cast<unsigned long>(r.cycles), static_cast<unsigned long>(r.acked_batches),
      static_cast<unsigned long>(r.last_index), secs, static_cast<unsigned long>(g_seed));
  EXPECT_EQ(r.cycles, g_cycles);
  EXPECT_GE(r.acked_batches, r.cycles);
  for (const std::string& v : r.violations) ADD_FAILURE() << v << " (seed " << g_seed << ")";
}

// The checker must be able to fail: with syncing off (and the WAL kept in a
// user-space buffer), SIGKILL loses acknowledged batches and Verify says so.
TEST(StorageCrashTest, SyncOffLosesAcknowledgedBatches) {
  HarnessResult r = RunHarness(g_cycles, /*sync_off=*/true, /*stop_at_first_violation=*/true);
  ASSERT_FALSE(r.violations.empty())
      << "no loss detected in " << r.cycles << " cycles with syncing off (seed " << g_seed << ")";
  std::printf("sync off: loss detected at %s\n", r.violations.front().c_str());
  EXPECT_NE(r.violations.front().find("LOST"), std::string::npos) << r.violations.front();
}

}  // namespace
}  // namespace cairn::storage::crash

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  using cairn::storage::crash::g_cycles;
  using cairn::storage::crash::g_seed;
  if (const char* env = std::getenv("CAIRN_CRASH_CYCLES")) {
    CAIRN_CHECK(absl::SimpleAtoi(env, &g_cycles)) << "CAIRN_CRASH_CYCLES=" << env;
  }
  g_seed = std::random_device()();
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--cycles=")) {
      CAIRN_CHECK(absl::SimpleAtoi(arg, &g_cycles)) << argv[i];
    } else if (absl::ConsumePrefix(&arg, "--seed=")) {
      CAIRN_CHECK(absl::SimpleAtoi(arg, &g_seed)) << argv[i];
    } else {
      std::fprintf(stderr, "unknown flag %s (use --cycles=N, --seed=S)\n", argv[i]);
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
