// raft_sim: runs the deterministic cluster simulator over a range of seeds.
//
//   raft_sim --seed-start S --seeds N [--steps M] [--nodes K]
//            [--inject-bug NAME [--expect-violation]] [--outcome-checks-only]
//            [--trace] [--verbose]
//
// Prints one line per failing seed with the command that replays it, and
// "N passed, F failed" last; exits non-zero if any seed failed. With
// --expect-violation (for the checker self-tests) it stops at the first
// violation and exits zero only if one was found.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

bool ParseBug(const std::string& name, InjectedBug* bug) {
  if (name == "none")
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
               "                              unsynced-hard-state|apply-unpersisted "
               "[--expect-violation]]\n"
               "                [--outcome-checks-only] [--trace] [--verbose]\n");
  return 2;
}

struct Args {
  uint64_t seed_start = 1;
  uint64_t seeds = 1;
  cairn::sim::SimOptions options;
  std::string bug_name = "none";
  bool expect_violation = false;
  bool verbose = false;
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
      ok = i + 1 < argc && ParseBug(args->bug_name = argv[++i], &args->options.bug);
    } else if (arg == "--expect-violation") {
      args->expect_violation = true;
    } else if (arg == "--outcome-checks-only") {
      args->options.check_lemmas = false;
    } else if (arg == "--trace") {
      args->options.trace = true;
    } else if (arg == "--verbose") {
      args->verbose = true;
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
      "crashes %d partitions %d snapshots %d conf %d transfers %d reads %d compactions %d "
      "backpressure %d removed_running %d (unaware %d) liveness %llu ms\n",
      static_cast<unsigned long long>(seed), r.ok ? "ok" : "VIOLATION", s.nodes, s.pre_vote,
      s.check_quorum, static_cast<unsigned long long>(s.max_term),
      static_cast<unsigned long long>(s.max_commit), s.acked, s.crashes, s.partitions,
      s.snapshots_installed, s.conf_changes_applied, s.transfers, s.reads_answered, s.compactions,
      s.backpressure, s.removed_running, s.removed_unaware,
      static_cast<unsigned long long>(s.liveness_ms));
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) return Usage();
  cairn::sim::SimOptions& options = args.options;
  const uint64_t seed_start = args.seed_start, seeds = args.seeds;
  const std::string& bug_name = args.bug_name;
  const bool expect_violation = args.expect_violation, verbose = args.verbose;
  std::signal(SIGABRT, OnAbort);
  uint64_t passed = 0, failed = 0;
  for (uint64_t seed = seed_start; seed < seed_start + seeds; ++seed) {
    options.seed = seed;
    const std::string replay = absl::StrCat(
        "replay: raft_sim --seed-start ", seed, " --seeds 1 --steps ", options.steps, " --nodes ",
        options.nodes, bug_name == "none" ? "" : " --inject-bug " + bug_name,
        options.check_lemmas ? "" : " --outcome-checks-only", "\n");
    std::snprintf(g_replay, sizeof(g_replay), "seed %llu aborted\n%s",
                  static_cast<unsigned long long>(seed), replay.c_str());
    const cairn::sim::SimResult r = cairn::sim::RunSimulation(options);
    if (verbose || !r.ok) PrintRun(seed, r);
    if (r.ok) {
      ++passed;
      continue;
    }
    ++failed;
    std::printf("  %s\n  %s", r.violation.c_str(), replay.c_str());
    if (expect_violation) {
      std::printf("caught %s at seed %llu after %llu seeds\n", bug_name.c_str(),
                  static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(seed - seed_start + 1));
      break;
    }
  }
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(failed));
  if (expect_violation) return failed > 0 ? 0 : 1;
  return failed > 0 ? 1 : 0;
}
