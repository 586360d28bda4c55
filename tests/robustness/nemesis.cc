// Fault injection on a real cluster (see nemesis.h).
#include "robustness/nemesis.h"

#include <signal.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace cairn::robustness {
namespace {

constexpr Fault kAllFaults[] = {
    Fault::kKillLeader,      Fault::kKillMinority,         Fault::kKillMajority,
    Fault::kKillAll,         Fault::kPauseLeader,          Fault::kPauseMinority,
    Fault::kPauseAll,        Fault::kKillLeaderPauseOther, Fault::kPartitionMinority,
    Fault::kPartitionOneWay, Fault::kIsolateLeader,        Fault::kDelayLinks};

}  // namespace

std::string FaultName(Fault fault) {
  switch (fault) {
    case Fault::kKillLeader:
      return "kill-leader";
    case Fault::kKillMinority:
      return "kill-minority";
    case Fault::kKillMajority:
      return "kill-majority";
    case Fault::kKillAll:
      return "kill-all";
    case Fault::kPauseLeader:
      return "pause-leader";
    case Fault::kPauseMinority:
      return "pause-minority";
    case Fault::kPauseAll:
      return "pause-all";
    case Fault::kKillLeaderPauseOther:
      return "kill-leader-pause-other";
    case Fault::kPartitionMinority:
      return "partition-minority";
    case Fault::kPartitionOneWay:
      return "partition-one-way";
    case Fault::kIsolateLeader:
      return "isolate-leader";
    case Fault::kDelayLinks:
      return "delay-links";
  }
  return "?";
}

absl::StatusOr<std::vector<Fault>> ParseFaults(const std::string& text) {
  if (text == "all") return std::vector<Fault>(std::begin(kAllFaults), std::end(kAllFaults));
  std::vector<Fault> faults;
  for (absl::string_view name : absl::StrSplit(text, ',')) {
    auto it = std::find_if(std::begin(kAllFaults), std::end(kAllFaults),
                           [&](Fault f) { return FaultName(f) == name; });
    if (it == std::end(kAllFaults)) {
      std::vector<std::string> names;
      for (Fault f : kAllFaults) names.push_back(FaultName(f));
      return absl::InvalidArgumentError(absl::StrCat(
          "--faults: unknown fault '", name, "'; known: all, ", absl::StrJoin(names, ", ")));
    }
    faults.push_back(*it);
  }
  if (faults.empty()) return absl::InvalidArgumentError("--faults is empty");
  return faults;
}

absl::Status PeerLinks::Wire(testing::TestCluster* cluster) {
  for (uint64_t from = 1; from <= cluster->size(); ++from) {
    std::vector<std::string> routes;
    for (uint64_t to = 1; to <= cluster->size(); ++to) {
      if (to == from) continue;
      const std::string& peer = cluster->node(to).peer_address();
      auto proxy = LinkProxy::Start(std::stoi(peer.substr(peer.rfind(':') + 1)));
      if (!proxy.ok()) return proxy.status();
      routes.push_back(absl::StrCat("--peer-route=", to, "=127.0.0.1:", (*proxy)->port()));
      links_[{from, to}] = *std::move(proxy);
    }
    cluster->SetNodeArgs(from, routes);
  }
  return absl::OkStatus();
}

void PeerLinks::Cut(uint64_t from, uint64_t to, bool cut) { links_.at({from, to})->SetCut(cut); }

void PeerLinks::DelayAll(std::chrono::milliseconds delay) {
  for (auto& [link, proxy] : links_) proxy->SetDelay(delay);
}

void PeerLinks::HealAll() {
  for (auto& [link, proxy] : links_) {
    proxy->SetCut(false);
    proxy->SetDelay(std::chrono::milliseconds(0));
  }
}

Nemesis::Nemesis(testing::TestCluster* cluster, PeerLinks* links, std::vector<Fault> faults,
                 uint64_t seed, std::chrono::milliseconds hold_min,
                 std::chrono::milliseconds hold_max)
    : cluster_(cluster),
      links_(links),
      faults_(std::move(faults)),
      rng_(seed),
      hold_min_(hold_min),
      hold_max_(hold_max),
      started_(std::chrono::steady_clock::now()) {}

int64_t Nemesis::ElapsedMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started_)
      .count();
}

uint64_t Nemesis::LeaderOrRandom() {
  for (uint64_t id = 1; id <= cluster_->size(); ++id) {
    if (cluster_->node(id).Running() && cluster_->node(id).Metric("cairn_raft_is_leader") == 1) {
      return id;
    }
  }
  return 1 + rng_() % cluster_->size();
}

// `count` distinct nodes chosen by the seed, `include` (when not 0) first.
std::vector<uint64_t> Nemesis::Pick(size_t count, uint64_t include) {
  std::vector<uint64_t> ids;
  for (uint64_t id = 1; id <= cluster_->size(); ++id) {
    if (id != include) ids.push_back(id);
  }
  std::shuffle(ids.begin(), ids.end(), rng_);
  if (include != 0) ids.insert(ids.begin(), include);
  ids.resize(std::min(count, ids.size()));
  return ids;
}

void Nemesis::KillNodes(const std::vector<uint64_t>& nodes) {
  for (uint64_t id : nodes) {
    cluster_->node(id).Kill();
    killed_.insert(id);
  }
}

void Nemesis::PauseNodes(const std::vector<uint64_t>& nodes) {
  for (uint64_t id : nodes) {
    cluster_->node(id).Signal(SIGSTOP);
    paused_.insert(id);
  }
}

void Nemesis::CutOff(const std::vector<uint64_t>& group, bool both_ways) {
  const std::set<uint64_t> inside(group.begin(), group.end());
  for (uint64_t a : group) {
    for (uint64_t b = 1; b <= cluster_->size(); ++b) {
      if (inside.count(b)) continue;
      links_->Cut(b, a, true);
      if (both_ways) links_->Cut(a, b, true);
    }
  }
}

bool Nemesis::StrikeNetwork(Fault fault, NemesisEvent* event) {
  if (links_ == nullptr) return false;
  const size_t minority = (cluster_->size() - 1) / 2;
  switch (fault) {
    case Fault::kPartitionMinority:
      event->nodes = Pick(minority);
      CutOff(event->nodes, /*both_ways=*/true);
      return true;
    case Fault::kPartitionOneWay:  // it hears nothing, but is heard
      event->nodes = Pick(1);
      CutOff(event->nodes, /*both_ways=*/false);
      return true;
    case Fault::kIsolateLeader:  // from its followers; clients still reach it
      event->nodes = {LeaderOrRandom()};
      CutOff(event->nodes, /*both_ways=*/true);
      return true;
    case Fault::kDelayLinks:
      links_->DelayAll(std::chrono::milliseconds(20 + rng_() % 130));
      return true;
    default:
      return false;
  }
}

void Nemesis::StrikeProcess(Fault fault, NemesisEvent* event) {
  const size_t n = cluster_->size();
  const size_t minority = (n - 1) / 2;
  NemesisEvent& e = *event;
  switch (fault) {
    case Fault::kKillLeader:
      e.nodes = {LeaderOrRandom()};
      KillNodes(e.nodes);
      break;
    case Fault::kKillMinority:
      e.nodes = Pick(minority);
      KillNodes(e.nodes);
      break;
    case Fault::kKillMajority:
      e.nodes = Pick(minority + 1);
      KillNodes(e.nodes);
      break;
    case Fault::kKillAll:
      e.nodes = Pick(n);
      KillNodes(e.nodes);
      break;
    case Fault::kPauseLeader:
      e.nodes = {LeaderOrRandom()};
      PauseNodes(e.nodes);
      break;
    case Fault::kPauseMinority:
      e.nodes = Pick(minority);
      PauseNodes(e.nodes);
      break;
    case Fault::kPauseAll:
      e.nodes = Pick(n);
      PauseNodes(e.nodes);
      break;
    case Fault::kKillLeaderPauseOther: {
      e.nodes = Pick(2, LeaderOrRandom());
      KillNodes({e.nodes[0]});
      PauseNodes({e.nodes[1]});
      break;
    }
    default:  // a network fault: only with links (ParseFaults checks)
      break;
  }
}

absl::Status Nemesis::Strike() {
  const Fault fault = faults_[rng_() % faults_.size()];
  NemesisEvent event{ElapsedMs(), 0, fault, {}};
  if (!StrikeNetwork(fault, &event)) StrikeProcess(fault, &event);
  const int64_t span = (hold_max_ - hold_min_).count();
  const auto hold = hold_min_ + std::chrono::milliseconds(span > 0 ? rng_() % span : 0);
  // The hold is the fault's duration, not a wait for something to happen.
  std::this_thread::sleep_for(hold);
  absl::Status st = HealAll();
  event.end_ms = ElapsedMs();
  events_.push_back(std::move(event));
  return st;
}

absl::Status Nemesis::HealAll() {
  if (links_ != nullptr) links_->HealAll();
  for (uint64_t id : paused_) cluster_->node(id).Signal(SIGCONT);
  paused_.clear();
  for (uint64_t id : killed_) {
    if (absl::Status st = cluster_->StartNode(id); !st.ok()) return st;
  }
  for (uint64_t id : killed_) {
    if (absl::Status st = cluster_->node(id).WaitReady(); !st.ok()) return st;
  }
  killed_.clear();
  return absl::OkStatus();
}

std::string Nemesis::Describe() const {
  std::string out;
  for (const NemesisEvent& e : events_) {
    absl::StrAppend(&out, "  [", e.start_ms, " ms, ", e.end_ms, " ms] ", FaultName(e.fault),
                    " nodes ", absl::StrJoin(e.nodes, ","), "\n");
  }
  return out;
}

}  // namespace cairn::robustness
