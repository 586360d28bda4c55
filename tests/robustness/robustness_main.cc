// cairn_robustness: the robustness suite's driver (CTest label robustness).
// Each run starts a real cluster of cairn-node processes with mutual TLS on
// loopback, lets concurrent SDK clients append, read and list while the
// nemesis kills, pauses and partitions nodes, heals everything, reads the ledger back
// from every replica and checks the history (checker.h): linearizable per
// collection, every acknowledged append present exactly once at its txid,
// nothing refused written, nothing unsent present, and all replicas serving
// the same entries and checkpoint.
//
//   cairn_robustness --nodes 3 --duration-s 45 --seed 7        one run
//   cairn_robustness --soak 2h                                 runs until 2 h pass
//   cairn_robustness --inject-bug stale-idempotency-join --expect-anomaly --soak 10m
//
// A failing run prints its anomalies, the faults it injected, where its
// history and node logs are, and the command that replays its seed (the
// seed fixes the workload's choices and the fault schedule; the processes'
// own timing is not deterministic). The last line is "N passed, N failed".
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "robustness/checker.h"
#include "robustness/cluster_checks.h"
#include "robustness/nemesis.h"
#include "robustness/workload.h"
#include "testing/cluster.h"
#include "testing/process.h"

namespace cairn::robustness {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  size_t nodes = 3;
  int clients = 16;
  int hand_retry_clients = 8;
  int64_t hand_attempt_timeout_ms = 1000;
  int hand_attempts_per_node = 2;
  int64_t duration_s = 45;
  uint64_t seed = 1;
  std::string faults = "all";
  int64_t fault_gap_ms = 1000;
  int64_t hold_min_ms = 1000;
  int64_t hold_max_ms = 4000;
  std::string soak;  // e.g. "2h", "30m", "90s": run seeds until it passes
  std::string inject_bug;
  bool expect_anomaly = false;
  bool keep = false;
  std::string work_dir;
};

struct RunReport {
  bool passed = false;
  bool infrastructure_error = false;
  std::string text;
  double fault_seconds = 0;
};

absl::StatusOr<std::chrono::seconds> ParseDuration(const std::string& text) {
  int64_t n = 0;
  if (text.size() < 2 || !absl::SimpleAtoi(text.substr(0, text.size() - 1), &n) || n <= 0) {
    return absl::InvalidArgumentError("--soak: expected e.g. 90s, 30m or 2h, got '" + text + "'");
  }
  switch (text.back()) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::seconds(n * 60);
    case 'h':
      return std::chrono::seconds(n * 3600);
  }
  return absl::InvalidArgumentError("--soak: the unit is s, m or h, got '" + text + "'");
}

std::string ReplayCommand(const Options& o, uint64_t seed) {
  std::string cmd = absl::StrCat("cairn_robustness --nodes ", o.nodes, " --clients ", o.clients,
                                 " --hand-retry-clients ", o.hand_retry_clients,
                                 " --hand-attempt-timeout-ms ", o.hand_attempt_timeout_ms,
                                 " --hand-attempts-per-node ", o.hand_attempts_per_node,
                                 " --duration-s ", o.duration_s, " --faults ", o.faults);
  absl::StrAppend(&cmd, " --fault-gap-ms ", o.fault_gap_ms, " --hold-min-ms ", o.hold_min_ms,
                  " --hold-max-ms ", o.hold_max_ms, " --seed ", seed);
  if (!o.inject_bug.empty()) absl::StrAppend(&cmd, " --inject-bug ", o.inject_bug);
  return cmd;
}

RunReport RunOnce(const Options& o, uint64_t seed, const std::string& dir) {
  RunReport report;
  auto fail_infra = [&](const absl::Status& st) {
    report.infrastructure_error = true;
    report.text = absl::StrCat("run with seed ", seed, " could not proceed: ", st.message(),
                               "\n  node logs: ", dir, "\n");
    return report;
  };
  auto faults = ParseFaults(o.faults);
  if (!faults.ok()) return fail_infra(faults.status());
  std::filesystem::create_directories(dir);
  std::vector<std::string> extra;
  if (!o.inject_bug.empty()) extra.push_back("--test-inject-bug=" + o.inject_bug);
  testing::TestCluster cluster(dir, o.nodes, extra);
  PeerLinks links;  // every peer link through a proxy the nemesis can cut or slow
  if (absl::Status st = links.Wire(&cluster); !st.ok()) return fail_infra(st);
  if (absl::Status st = cluster.Start(); !st.ok()) return fail_infra(st);

  std::vector<uint64_t> all;
  for (uint64_t id = 1; id <= o.nodes; ++id) all.push_back(id);
  WorkloadOptions wo;
  wo.clients = o.clients;
  wo.hand_retry_clients = o.hand_retry_clients;
  wo.hand_attempt_timeout_ms = o.hand_attempt_timeout_ms;
  wo.hand_attempts_per_node = o.hand_attempts_per_node;
  wo.seed = seed;
  TestClusterView view(&cluster);
  Workload workload(wo, view.ClientOptionsFor(all));
  if (absl::Status st = workload.Start(); !st.ok()) return fail_infra(st);
  Nemesis nemesis(&cluster, &links, *faults, seed, std::chrono::milliseconds(o.hold_min_ms),
                  std::chrono::milliseconds(o.hold_max_ms));
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(o.duration_s);
  absl::Status nemesis_status;
  while (Clock::now() < end && nemesis_status.ok()) {
    // Pacing between faults: the cluster runs healthy for this long.
    std::this_thread::sleep_for(std::chrono::milliseconds(o.fault_gap_ms));
    nemesis_status = nemesis.Strike();
  }
  workload.Stop();
  if (nemesis_status.ok()) nemesis_status = nemesis.HealAll();
  if (!nemesis_status.ok()) return fail_infra(nemesis_status);
  for (const NemesisEvent& e : nemesis.events()) {
    report.fault_seconds += static_cast<double>(e.end_ms - e.start_ms) / 1000;
  }
  // A node that exited on its own broke an invariant (or halted): that is
  // an anomaly, reported with the line it died with.
  std::vector<Anomaly> crashes = CrashedNodes(view, all);
  if (!crashes.empty()) {
    CheckResult crashed;
    crashed.anomalies = std::move(crashes);
    absl::StrAppend(&report.text, "seed ", seed, ": ANOMALIES\n", crashed.ToString(), "  faults:\n",
                    nemesis.Describe(), "  node logs: ", dir,
                    "\n  replay: ", ReplayCommand(o, seed), "\n");
    return report;
  }
  if (absl::Status st = cluster.WaitForLeader().status(); !st.ok()) return fail_infra(st);
  if (absl::Status st = WaitConverged(view, all); !st.ok()) return fail_infra(st);

  const History history = workload.TakeHistory();
  const std::vector<std::string> collections = WorkloadCollections(wo);
  auto reader = client::Client::Create(view.ClientOptionsFor(all));
  if (!reader.ok()) return fail_infra(reader.status());
  auto ledger = ReadLedger(reader->get(), collections);
  if (!ledger.ok()) return fail_infra(ledger.status());
  CheckResult check = Check(history, *ledger);
  for (Anomaly& a : CheckReplicas(view, all, collections, *ledger)) {
    check.anomalies.push_back(std::move(a));
  }
  report.passed = check.ok();
  absl::StrAppend(&report.text, "seed ", seed, ": ", o.nodes, " nodes, ", history.size(),
                  " operations (", workload.ok(), " ok, ", workload.refused(), " refused, ",
                  workload.unknown(), " unknown), ", ledger->size(), " entries, ",
                  nemesis.events().size(), " faults: ", report.passed ? "PASS" : "ANOMALIES", "\n");
  if (!report.passed) {
    (void)SaveHistory(dir + "/history.jsonl", history);
    (void)SaveLedger(dir + "/ledger.jsonl", *ledger);
    absl::StrAppend(&report.text, check.ToString(), "  faults:\n", nemesis.Describe(),
                    "  history, ledger and node logs: ", dir,
                    "\n  replay: ", ReplayCommand(o, seed), "\n");
  }
  return report;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"Cairn robustness suite: real clusters under faults, histories checked"};
  app.add_option("--nodes", o.nodes, "Cluster size")->check(CLI::Range(3, 7));
  app.add_option("--clients", o.clients, "Concurrent SDK clients")->check(CLI::Range(1, 256));
  app.add_option("--hand-retry-clients", o.hand_retry_clients,
                 "How many of the clients retry appends by hand across nodes")
      ->check(CLI::Range(0, 256));
  app.add_option("--hand-attempt-timeout-ms", o.hand_attempt_timeout_ms,
                 "How long a hand-retrying client waits for one attempt")
      ->check(CLI::Range(100, 60000));
  app.add_option("--hand-attempts-per-node", o.hand_attempts_per_node,
                 "Attempts a hand-retrying client makes on one node before the next")
      ->check(CLI::Range(1, 10));
  app.add_option("--duration-s", o.duration_s, "Length of one run under faults")
      ->check(CLI::Range(1, 86400));
  app.add_option("--seed", o.seed, "Seed of the first run (workload and fault schedule)");
  app.add_option("--faults", o.faults, "all, or a comma-separated list (e.g. pause-leader)");
  app.add_option("--fault-gap-ms", o.fault_gap_ms, "Healthy time between faults");
  app.add_option("--hold-min-ms", o.hold_min_ms, "Shortest fault");
  app.add_option("--hold-max-ms", o.hold_max_ms, "Longest fault");
  app.add_option("--soak", o.soak, "Run seeds one after another for this long (90s, 30m, 2h)");
  app.add_option("--inject-bug", o.inject_bug, "Start nodes with --test-inject-bug=NAME")
      ->check(CLI::IsMember({"", "stale-idempotency-join"}));
  app.add_flag("--expect-anomaly", o.expect_anomaly,
               "Succeed at the first run with an anomaly (to show a planted bug is caught)");
  app.add_flag("--keep", o.keep, "Keep every run's data and logs, not only a failing one's");
  app.add_option("--work-dir", o.work_dir, "Where runs keep data and logs (default: a temp dir)");
  CLI11_PARSE(app, argc, argv);
  auto soak = o.soak.empty() ? absl::StatusOr<std::chrono::seconds>(std::chrono::seconds(0))
                             : ParseDuration(o.soak);
  if (!soak.ok()) {
    std::cerr << soak.status().message() << "\n";
    return 2;
  }
  if (o.work_dir.empty()) {
    o.work_dir = absl::StrCat(std::filesystem::temp_directory_path().string(), "/cairn-robustness-",
                              getpid());
  }
  const auto deadline = Clock::now() + *soak;
  int passed = 0, failed = 0;
  double fault_seconds = 0;
  const auto started = Clock::now();
  for (uint64_t seed = o.seed;; ++seed) {
    const std::string dir = absl::StrCat(o.work_dir, "/seed-", seed);
    RunReport r = RunOnce(o, seed, dir);
    std::cout << r.text << std::flush;
    fault_seconds += r.fault_seconds;
    if (r.passed) {
      ++passed;
      if (!o.keep) std::filesystem::remove_all(dir);  // keep only what a failure needs
    } else {
      ++failed;
      if (o.expect_anomaly && !r.infrastructure_error) {
        std::cout << "caught " << (o.inject_bug.empty() ? "an anomaly" : o.inject_bug)
                  << " at seed " << seed << " after " << passed + failed << " runs\n";
        return 0;
      }
    }
    if (Clock::now() >= deadline || (!o.expect_anomaly && failed > 0)) break;
  }
  const double hours = std::chrono::duration<double>(Clock::now() - started).count() / 3600;
  std::cout << "robustness: " << passed + failed << " runs, " << hours << " hours, "
            << fault_seconds / 3600 << " fault-hours\n";
  if (o.expect_anomaly) {
    std::cout << "expected an anomaly and saw none\n";
    std::cout << "robustness: 0 passed, 1 failed\n";
    return 1;
  }
  std::cout << "robustness: " << passed << " passed, " << failed << " failed\n";
  if (failed == 0 && !o.keep) std::filesystem::remove_all(o.work_dir);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace cairn::robustness

int main(int argc, char** argv) { return cairn::robustness::Main(argc, argv); }
