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
    Fault::kKillLeader,  Fault::kKillMinority,  Fault::kKillMajority, Fault::kKillAll,
    Fault::kPauseLeader, Fault::kPauseMinority, Fault::kPauseAll,     Fault::kKillLeaderPauseOther};

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

Nemesis::Nemesis(testing::TestCluster* cluster, std::vector<Fault> faults, uint64_t seed,
                 std::chrono::milliseconds hold_min, std::chrono::milliseconds hold_max)
    : cluster_(cluster),
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

absl::Status Nemesis::Strike() {
  const size_t n = cluster_->size();
  const size_t minority = (n - 1) / 2;
  const Fault fault = faults_[rng_() % faults_.size()];
  NemesisEvent event{ElapsedMs(), 0, fault, {}};
  switch (fault) {
    case Fault::kKillLeader:
      event.nodes = {LeaderOrRandom()};
      KillNodes(event.nodes);
      break;
    case Fault::kKillMinority:
      event.nodes = Pick(minority);
      KillNodes(event.nodes);
      break;
    case Fault::kKillMajority:
      event.nodes = Pick(minority + 1);
      KillNodes(event.nodes);
      break;
    case Fault::kKillAll:
      event.nodes = Pick(n);
      KillNodes(event.nodes);
      break;
    case Fault::kPauseLeader:
      event.nodes = {LeaderOrRandom()};
      PauseNodes(event.nodes);
      break;
    case Fault::kPauseMinority:
      event.nodes = Pick(minority);
      PauseNodes(event.nodes);
      break;
    case Fault::kPauseAll:
      event.nodes = Pick(n);
      PauseNodes(event.nodes);
      break;
    case Fault::kKillLeaderPauseOther: {
      event.nodes = Pick(2, LeaderOrRandom());
      KillNodes({event.nodes[0]});
      PauseNodes({event.nodes[1]});
      break;
    }
  }
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
