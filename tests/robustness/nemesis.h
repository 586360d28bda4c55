// The nemesis of a robustness run: injects one fault at a time into a real
// cluster (tests/testing/cluster.h), holds it, heals it, and records what it
// did and when, so a failing run's report says which faults preceded an
// anomaly. Faults: SIGKILL of the leader, of a minority, of a majority, of
// every node (each restarted after the hold), SIGSTOP/SIGCONT pauses of the
// leader, of a minority, of every node, and a combined kill of the leader
// with a pause of another node; and, through a proxy on every directed peer
// link (link_proxy.h), network partitions (a minority cut off, symmetric; a
// node that can send but not receive, asymmetric; the leader cut off from its
// followers but not from clients) and added latency. Which fault, which nodes
// and how long come from the run's seed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "robustness/link_proxy.h"
#include "testing/cluster.h"

namespace cairn::robustness {

enum class Fault {
  kKillLeader,
  kKillMinority,
  kKillMajority,
  kKillAll,
  kPauseLeader,
  kPauseMinority,
  kPauseAll,
  kKillLeaderPauseOther,
  kPartitionMinority,
  kPartitionOneWay,
  kIsolateLeader,
  kDelayLinks,
};

// A proxy on every directed peer link of a cluster: node i reaches node j
// through links[(i, j)] (each node is started with --peer-route).
class PeerLinks {
 public:
  // Starts the proxies and sets every node's --peer-route arguments; call
  // before the cluster starts.
  absl::Status Wire(testing::TestCluster* cluster);
  void Cut(uint64_t from, uint64_t to, bool cut);
  void DelayAll(std::chrono::milliseconds delay);
  void HealAll();

 private:
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<LinkProxy>> links_;
};

std::string FaultName(Fault fault);
// "all" or a comma-separated list of fault names; InvalidArgument otherwise.
absl::StatusOr<std::vector<Fault>> ParseFaults(const std::string& text);

struct NemesisEvent {
  int64_t start_ms = 0;  // since the nemesis started
  int64_t end_ms = 0;
  Fault fault;
  std::vector<uint64_t> nodes;
};

class Nemesis {
 public:
  // `links` may be null: then only process faults can be injected.
  Nemesis(testing::TestCluster* cluster, PeerLinks* links, std::vector<Fault> faults, uint64_t seed,
          std::chrono::milliseconds hold_min, std::chrono::milliseconds hold_max);

  // Injects one fault chosen by the seed, holds it, heals it. Errors only
  // when a node cannot be restarted.
  absl::Status Strike();
  // Resumes paused nodes and restarts killed ones; waits until all serve.
  absl::Status HealAll();

  const std::vector<NemesisEvent>& events() const { return events_; }
  std::string Describe() const;

 private:
  uint64_t LeaderOrRandom();
  std::vector<uint64_t> Pick(size_t count, uint64_t include = 0);
  void KillNodes(const std::vector<uint64_t>& nodes);
  void PauseNodes(const std::vector<uint64_t>& nodes);
  // Cuts every link between `group` and the other nodes; `both_ways` false
  // cuts only the links into `group`.
  void CutOff(const std::vector<uint64_t>& group, bool both_ways);
  // Injects `fault` when it is a network fault (and there are links).
  bool StrikeNetwork(Fault fault, NemesisEvent* event);
  void StrikeProcess(Fault fault, NemesisEvent* event);
  int64_t ElapsedMs() const;

  testing::TestCluster* const cluster_;
  PeerLinks* const links_;
  const std::vector<Fault> faults_;
  std::mt19937_64 rng_;
  const std::chrono::milliseconds hold_min_, hold_max_;
  const std::chrono::steady_clock::time_point started_;
  std::set<uint64_t> killed_, paused_;
  std::vector<NemesisEvent> events_;
};

}  // namespace cairn::robustness
