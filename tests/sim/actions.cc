// The simulator's fault schedule and client workload: proposals, reads,
// crashes and restarts, partitions, network chaos, membership changes,
// leadership transfers, compaction and forced elections (see world.h).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "world.h"

namespace cairn::sim {

using consensus::ConfChange;
using consensus::NodeStatus;
using consensus::Role;

std::vector<SimNode*> World::Up() {
  std::vector<SimNode*> out;
  for (auto& [id, n] : nodes_) {
    if (n.up && !n.in_flight) out.push_back(&n);
  }
  return out;
}

std::vector<SimNode*> World::Down() {
  std::vector<SimNode*> out;
  for (auto& [id, n] : nodes_) {
    if (!n.up && !n.decommissioned) out.push_back(&n);
  }
  return out;
}

void World::Propose(SimNode& n, const std::string& data) {
  if (!n.up || n.in_flight) return;
  absl::StatusOr<consensus::ProposalPosition> pos = n.raw->Propose(data);
  if (pos.ok()) {
    proposals_[{n.id, pos->last_index}] = Proposal{n.id, n.incarnation, pos->term, data};
    Trace(absl::StrCat("node ", n.id, " proposes ", data, " at ", pos->term, ".", pos->last_index));
  } else if (absl::IsResourceExhausted(pos.status())) {
    ++stats_.backpressure;
  } else if (!absl::IsUnavailable(pos.status())) {
    checker_.Fail(absl::StrCat("propose: unexpected ", pos.status().ToString()));
  }
  Drive(n);
}

void World::ReadIndex(SimNode& n) {
  const std::string context = absl::StrCat("read-", n.id, "-", ++read_count_);
  checker_.OnReadIssued(context);
  absl::Status s = n.raw->ReadIndex(context);
  if (!s.ok() && !absl::IsUnavailable(s)) {
    checker_.Fail(absl::StrCat("read index: unexpected ", s.ToString()));
  }
  Drive(n);
}

void World::PartitionRandomly(bool symmetric) {
  std::vector<NodeId> ids;
  for (auto& [id, n] : nodes_) {
    if (!n.decommissioned) ids.push_back(id);
  }
  if (ids.size() < 2) return;
  ++stats_.partitions;
  if (!symmetric) {
    // A few one-way links fail: a hears nothing from b, b still hears a.
    for (uint64_t k = rng_.Range(1, 3); k > 0; --k) {
      const NodeId a = rng_.Pick(ids), b = rng_.Pick(ids);
      if (a != b) cut_.insert({b, a});
    }
    Trace("asymmetric partition");
    return;
  }
  cut_.clear();
  for (size_t k = ids.size() - 1; k > 0; --k) std::swap(ids[k], ids[rng_.Next() % (k + 1)]);
  const size_t split = rng_.Range(1, ids.size() - 1);
  for (size_t i = 0; i < ids.size(); ++i) {
    for (size_t j = 0; j < ids.size(); ++j) {
      if ((i < split) != (j < split)) cut_.insert({ids[i], ids[j]});
    }
  }
  Trace(absl::StrCat("partition after ", split, " of ", ids.size()));
}

void World::Heal() {
  cut_.clear();
  Trace("network heals");
}

void World::ChangeMembership(SimNode& leader) {
  const NodeStatus s = leader.raw->Status();
  const auto& voters = s.conf_state.voters;
  const auto& learners = s.conf_state.learners;
  ConfChange cc;
  NodeId fresh = 0;
  if (!learners.empty() && rng_.Chance(0.6)) {
    cc.kind = ConfChange::Kind::kPromoteLearner;
    cc.node_id = rng_.Pick(learners);
  } else if (rng_.Chance(0.5) && static_cast<int>(nodes_.size()) < nodes_max_ &&
             voters.size() + learners.size() < 7) {
    cc.kind = ConfChange::Kind::kAddLearner;
    fresh = next_id_;
    cc.node_id = fresh;
  } else {
    std::vector<NodeId> members = voters;
    members.insert(members.end(), learners.begin(), learners.end());
    cc.kind = ConfChange::Kind::kRemoveNode;
    cc.node_id = rng_.Pick(members);
  }
  auto pos = leader.raw->ProposeConfChange(cc, absl::StrCat("conf-", proposal_count_++));
  if (pos.ok()) {
    Trace(absl::StrCat("node ", leader.id, " proposes conf change ", static_cast<int>(cc.kind),
                       " of ", cc.node_id, " at ", pos->last_index));
    if (fresh != 0) AddNode(next_id_++, consensus::ConfState{});
  }
  Drive(leader);
}

void World::Compact(SimNode& n) {
  if (n.applied <= n.snap_index) return;
  CAIRN_CHECK(n.raw->Status().applied == n.applied) << "state machine and core disagree";
  CAIRN_CHECK_OK(n.disk->Compact(n.applied, n.raw->AppliedConfState()));
  n.snap_index = n.applied;
  n.snap_digest = n.digest;
  ++stats_.compactions;
  Trace(absl::StrCat("node ", n.id, " compacts to ", n.applied));
}

void World::RandomAction() {
  std::vector<SimNode*> up = Up();
  SimNode* leader = Leader();
  if (leader != nullptr && leader->in_flight) leader = nullptr;
  const uint64_t r = rng_.Range(0, 99);
  if (r < 35) {
    SimNode* target = leader != nullptr && rng_.Chance(0.9) ? leader
                      : up.empty()                          ? nullptr
                                                            : rng_.Pick(up);
    std::string data = absl::StrCat("p", proposal_count_++, "-");
    data.append(rng_.Range(0, 48), 'x');
    if (target != nullptr) Propose(*target, data);
  } else if (r < 45) {
    if (!up.empty()) ReadIndex(*rng_.Pick(up));
  } else if (r < 48) {
    if (!up.empty()) Crash(*rng_.Pick(up));
  } else if (r < 51) {
    // A quick restart (kill -9, then the supervisor restarts the process):
    // messages already on their way still arrive.
    if (!up.empty()) Bounce(*rng_.Pick(up));
  } else if (r < 58) {
    std::vector<SimNode*> down = Down();
    if (!down.empty()) Boot(*rng_.Pick(down));
  } else if (r < 62) {
    PartitionRandomly(true);
  } else if (r < 65) {
    PartitionRandomly(false);
  } else if (r < 72) {
    Heal();
  } else if (r < 75) {
    loss_ = rng_.Pick(std::vector<double>{0, 0, 0.02, 0.1, 0.3});
    duplicate_ = rng_.Pick(std::vector<double>{0, 0, 0.05, 0.2});
    delay_max_ms_ = rng_.Pick(std::vector<uint64_t>{5, 10, 30, 100});
    Trace(absl::StrCat("network: loss ", loss_, " duplicate ", duplicate_, " delay <= ",
                       delay_max_ms_, " ms"));
  } else if (r < 82) {
    if (leader != nullptr) ChangeMembership(*leader);
  } else if (r < 86) {
    if (leader == nullptr) return;
    const auto& voters = leader->raw->Status().conf_state.voters;
    if (voters.empty()) return;
    if (leader->raw->TransferLeadership(rng_.Pick(voters)).ok()) ++stats_.transfers;
    Drive(*leader);
  } else if (r < 92) {
    if (!up.empty()) Compact(*rng_.Pick(up));
  } else if (r < 95) {
    // Election timers of two nodes fire at once: a likely split vote.
    if (up.empty()) return;
    SimNode& a = *rng_.Pick(up);
    SimNode& b = *rng_.Pick(up);
    (void)a.raw->Campaign();
    if (&b != &a) (void)b.raw->Campaign();
    Drive(a);
    Drive(b);
  }
}

}  // namespace cairn::sim
