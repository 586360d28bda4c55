// raft_sim: runs the deterministic cluster simulator over a range of seeds.
//
//   raft_sim --seed-start S --seeds N [--steps M] [--nodes K]
//            [--inject-bug NAME [--expect-violation]] [--outcome-checks-only]
//            [--trace] [--verbose] [--no-fork] [--abort-at-seed S]
//
// Prints one line per failing seed with the command that replays it, and
// "N passed, F failed" last; exits non-zero if any seed failed. With
// --expect-violation (for the checker self-tests) it stops at the first
// violation and exits zero only if one was found.
//
// A failed CAIRN_CHECK (in the core or the simulator) aborts the process, so
// the seeds run in a child process: when it dies, the seed it was running
// counts as a violation (its check message and replay command are printed)
// and a new child carries on with the next seed. The output is the same as
// if each seed ran alone. --no-fork runs in-process (for a debugger).
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "world.h"

namespace {

using cairn::consensus::InjectedBug;

// Preformatted so the abort handler only has to write() it.
char g_replay[512];

void OnAbort(int) {
  ssize_t ignored = write(STDERR_FILENO, g_replay, strlen(g_replay));
  (void)ignored;
  signal(SIGABRT, SIG_DFL);
  raise(SIGABRT);
}

// Bugs of the core (consensus::InjectedBug), and one of the node's Raft loop.
bool ParseBug(const std::string& name, cairn::sim::SimOptions* options) {
  InjectedBug* bug = &options->bug;
  if (name == "stale-idempotency-join")
    options->inject_stale_idempotency_join = true;
  else if (name == "none")
    *bug = InjectedBug::kNone;
  else if (name == "commit-without-quorum")
    *bug = InjectedBug::kCommitWithoutQuorum;
  else if (name == "vote-twice-in-term")
    *bug = InjectedBug::kVoteTwiceInTerm;
  else if (name == "forget-persisted-vote")
    *bug = InjectedBug::kForgetPersistedVote;
  else if (name == "unsynced-hard-state")
    *bug = InjectedBug::kUnsyncedHardState;
  else if (name == "apply-unpersisted")
    *bug = InjectedBug::kApplyUnpersisted;
  else
    return false;
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: raft_sim --seed-start S --seeds N [--steps M] [--nodes K(3..7, 0=any)]\n"
               "                [--inject-bug commit-without-quorum|vote-twice-in-term|"
               "forget-persisted-vote|\n"
               "                              unsynced-hard-state|apply-unpersisted|"
               "stale-idempotency-join\n"
               "                              [--expect-violation]]\n"
               "                [--outcome-checks-only] [--trace] [--verbose] [--no-fork]\n"
               "                [--abort-at-seed S]\n");
  return 2;
}

struct Args {
  uint64_t seed_start = 1;
  uint64_t seeds = 1;
  cairn::sim::SimOptions options;
  std::string bug_name = "none";
  bool expect_violation = false;
  bool verbose = false;
  bool fork = true;
  uint64_t abort_at_seed = 0;  // test hook for the abort handling
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](auto* out) { return i + 1 < argc && absl::SimpleAtoi(argv[++i], out); };
    bool ok = true;
    if (arg == "--seed-start") {
      ok = value(&args->seed_start);
    } else if (arg == "--seeds") {
      ok = value(&args->seeds);
    } else if (arg == "--steps") {
      ok = value(&args->options.steps);
    } else if (arg == "--nodes") {
      const int& n = args->options.nodes;
      ok = value(&args->options.nodes) && (n == 0 || (n >= 3 && n <= 7));
    } else if (arg == "--inject-bug") {
      ok = i + 1 < argc && ParseBug(args->bug_name = argv[++i], &args->options);
    } else if (arg == "--expect-violation") {
      args->expect_violation = true;
    } else if (arg == "--outcome-checks-only") {
      args->options.check_lemmas = false;
    } else if (arg == "--trace") {
      args->options.trace = true;
    } else if (arg == "--verbose") {
      args->verbose = true;
    } else if (arg == "--no-fork") {
      args->fork = false;
    } else if (arg == "--abort-at-seed") {
      ok = value(&args->abort_at_seed);
    } else {
      ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

void PrintRun(uint64_t seed, const cairn::sim::SimResult& r) {
  const cairn::sim::SimStats& s = r.stats;
  std::printf(
      "seed %llu: %s  nodes %d pre_vote %d check_quorum %d | term %llu commit %llu acked %zu "
      "crashes %d pauses %d partitions %d snapshots %d conf %d transfers %d reads %d "
      "compactions %d signatures %d retries %d (joined %d, batched %d) backpressure %d "
      "removed_running %d "
      "(unaware %d) liveness %llu ms\n",
      static_cast<unsigned long long>(seed), r.ok ? "ok" : "VIOLATION", s.nodes, s.pre_vote,
      s.check_quorum, static_cast<unsigned long long>(s.max_term),
      static_cast<unsigned long long>(s.max_commit), s.acked, s.crashes, s.pauses, s.partitions,
      s.snapshots_installed, s.conf_changes_applied, s.transfers, s.reads_answered, s.compactions,
      s.signatures, s.retries, s.retries_joined, s.batches, s.backpressure, s.removed_running,
      s.removed_unaware, static_cast<unsigned long long>(s.liveness_ms));
}

std::string Replay(const Args& args, uint64_t seed) {
  const cairn::sim::SimOptions& o = args.options;
  return absl::StrCat(
      "replay: raft_sim --seed-start ", seed, " --seeds 1 --steps ", o.steps, " --nodes ", o.nodes,
      args.bug_name == "none" ? "" : " --inject-bug " + args.bug_name,
      o.check_lemmas ? "" : " --outcome-checks-only",
      seed == args.abort_at_seed ? absl::StrCat(" --abort-at-seed ", seed) : "", "\n");
}

// What a child reports for each seed it finished.
struct SeedDone {
  uint64_t seed;
  bool ok;
};

struct Tally {
  uint64_t passed = 0, failed = 0;
  bool caught = false;
  uint64_t caught_seed = 0;
};

void Count(const Args& args, const SeedDone& d, Tally* t) {
  (d.ok ? t->passed : t->failed) += 1;
  if (!d.ok && args.expect_violation && !t->caught) {
    t->caught = true;
    t->caught_seed = d.seed;
  }
}

// Runs seeds [from, end) in this process, printing each failure, and hands a
// SeedDone for each to `report`. Stops after the first violation when
// expecting one.
void RunSeeds(Args args, uint64_t from, uint64_t end,
              const std::function<void(const SeedDone&)>& report) {
  for (uint64_t seed = from; seed < end; ++seed) {
    args.options.seed = seed;
    args.options.abort_midway = seed == args.abort_at_seed;
    const std::string replay = Replay(args, seed);
    std::snprintf(g_replay, sizeof(g_replay), "seed %llu aborted\n%s",
                  static_cast<unsigned long long>(seed), replay.c_str());
    const cairn::sim::SimResult r = cairn::sim::RunSimulation(args.options);
    if (args.verbose || !r.ok) PrintRun(seed, r);
    if (!r.ok) std::printf("  %s\n  %s", r.violation.c_str(), replay.c_str());
    // Flushed before the report, so the parent's own output follows it.
    std::fflush(stdout);
    report(SeedDone{seed, r.ok});
    if (!r.ok && args.expect_violation) return;
  }
}

// Reads a child's reports and its stderr until both close.
void Collect(int report_fd, int err_fd, std::vector<SeedDone>* done, std::string* err) {
  pollfd fds[2] = {{report_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open = 2;
  while (open > 0) {
    if (poll(fds, 2, -1) < 0) continue;  // EINTR
    for (pollfd& p : fds) {
      if (p.fd < 0 || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[4096];
      const ssize_t n = read(p.fd, buf, p.fd == report_fd ? sizeof(SeedDone) : sizeof(buf));
      if (n <= 0) {
        close(p.fd);
        p.fd = -1;
        --open;
      } else if (p.fd == report_fd) {
        // A pipe write of a few bytes is atomic, so reports arrive whole.
        SeedDone d;
        std::memcpy(&d, buf, sizeof(d));
        done->push_back(d);
      } else {
        err->append(buf, static_cast<size_t>(n));
      }
    }
  }
}

// Reports a seed whose run ended the child process, with what it wrote to
// stderr (the failed check), like any other violation.
void PrintAbort(const Args& args, uint64_t seed, int status, const std::string& err) {
  std::printf("seed %llu: VIOLATION  aborted (%s)\n", static_cast<unsigned long long>(seed),
              WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited non-zero");
  size_t start = 0;
  while (start < err.size()) {
    const size_t nl = err.find('\n', start);
    const size_t stop = nl == std::string::npos ? err.size() : nl;
    std::printf("  %s\n", err.substr(start, stop - start).c_str());
    start = stop + 1;
  }
  std::printf("  %s", Replay(args, seed).c_str());
}

// Runs seeds [from, end) in a child; returns the first seed not yet run.
uint64_t RunChild(const Args& args, uint64_t from, uint64_t end, Tally* t) {
  int report[2], err[2];
  if (pipe(report) != 0 || pipe(err) != 0) std::abort();
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    close(report[0]);
    close(err[0]);
    dup2(err[1], STDERR_FILENO);
    close(err[1]);
    std::signal(SIGABRT, SIG_DFL);  // the parent reports the abort
    const int fd = report[1];
    RunSeeds(args, from, end, [fd](const SeedDone& d) {
      if (write(fd, &d, sizeof(d)) != sizeof(d)) _exit(3);
    });
    std::fflush(stdout);
    _exit(0);
  }
  close(report[1]);
  close(err[1]);
  std::vector<SeedDone> done;
  std::string child_err;
  Collect(report[0], err[0], &done, &child_err);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  uint64_t next = from;
  for (const SeedDone& d : done) {
    Count(args, d, t);
    next = d.seed + 1;
  }
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (clean || t->caught) {
    std::fputs(child_err.c_str(), stderr);
    return clean ? end : next;
  }
  // The child died while running seed `next`.
  ++t->failed;
  PrintAbort(args, next, status, child_err);
  if (args.expect_violation) {
    t->caught = true;
    t->caught_seed = next;
  }
  return next + 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) return Usage();
  // The loops log leadership changes and compactions: thousands per seed.
  spdlog::set_level(args.options.trace ? spdlog::level::info : spdlog::level::err);
  spdlog::set_pattern("%v");  // no wall-clock time: a trace replays byte for byte
  const uint64_t end = args.seed_start + args.seeds;
  Tally t;
  if (args.fork) {
    for (uint64_t next = args.seed_start; next < end && !t.caught;) {
      next = RunChild(args, next, end, &t);
    }
  } else {
    std::signal(SIGABRT, OnAbort);  // an abort ends the run; say which seed
    RunSeeds(args, args.seed_start, end, [&](const SeedDone& d) { Count(args, d, &t); });
  }
  if (t.caught) {
    std::printf("caught %s at seed %llu after %llu seeds\n", args.bug_name.c_str(),
                static_cast<unsigned long long>(t.caught_seed),
                static_cast<unsigned long long>(t.caught_seed - args.seed_start + 1));
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(t.passed),
              static_cast<unsigned long long>(t.failed));
  if (args.expect_violation) return t.caught ? 0 : 1;
  return t.failed > 0 ? 1 : 0;
}
