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

std::vector<SimNode*> World::Live() {
  std::vector<SimNode*> out;
  for (auto& [id, n] : nodes_) {
    if (n.up) out.push_back(&n);
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

void World::Call(SimNode& n, std::function<void(SimNode&)> call) {
  Input in;
  in.kind = Input::Kind::kCall;
  in.call = std::move(call);
  Feed(n, std::move(in));
}

void World::Propose(SimNode& n, const std::string& data) {
  Call(n, [this, data](SimNode& n) {
    absl::StatusOr<consensus::ProposalPosition> pos = n.raw->Propose(data);
    if (pos.ok()) {
      proposals_[{n.id, pos->last_index}] = Proposal{n.id, n.incarnation, pos->term, data};
      Trace(
          absl::StrCat("node ", n.id, " proposes ", data, " at ", pos->term, ".", pos->last_index));
      // A leader that dies right after appending leaves entries of its term
      // on a minority: the raw material of the paper's Figure 8.
      if (faults_ && storm_ && rng_.Chance(0.05)) {
        Event crash;
        crash.kind = Event::Kind::kCrash;
        crash.node = n.id;
        crash.incarnation = n.incarnation;
        Schedule(crash, rng_.Range(0, 3));
      }
    } else if (absl::IsResourceExhausted(pos.status())) {
      ++stats_.backpressure;
    } else if (!absl::IsUnavailable(pos.status())) {
      checker_.Fail(absl::StrCat("propose: unexpected ", pos.status().ToString()));
    }
  });
}

void World::ReadIndex(SimNode& n) {
  Call(n, [this](SimNode& n) {
    // The read starts now: its answer must cover everything committed so far.
    const std::string context = absl::StrCat("read-", n.id, "-", ++read_count_);
    checker_.OnReadIssued(context);
    Trace(absl::StrCat("read ", context, " at node ", n.id, " (",
                       consensus::RoleName(n.raw->Status().role), " of term ", n.raw->Status().term,
                       ")"));
    absl::Status s = n.raw->ReadIndex(context);
    if (!s.ok() && !absl::IsUnavailable(s)) {
      checker_.Fail(absl::StrCat("read index: unexpected ", s.ToString()));
    }
  });
}

void World::ChangeMembership(SimNode& leader) {
  Call(leader, [this](SimNode& leader) {
    const NodeStatus s = leader.raw->Status();
    const auto& voters = s.conf_state.voters;
    const auto& learners = s.conf_state.learners;
    ConfChange cc;
    bool fresh = false;
    if (!learners.empty() && rng_.Chance(0.6)) {
      cc.kind = ConfChange::Kind::kPromoteLearner;
      cc.node_id = rng_.Pick(learners);
    } else if (rng_.Chance(0.5) && static_cast<int>(nodes_.size()) < nodes_max_ &&
               voters.size() + learners.size() < 7) {
      cc.kind = ConfChange::Kind::kAddLearner;
      cc.node_id = next_id_;
      fresh = true;
    } else {
      std::vector<NodeId> members = voters;
      members.insert(members.end(), learners.begin(), learners.end());
      cc.kind = ConfChange::Kind::kRemoveNode;
      cc.node_id = rng_.Pick(members);
    }
    auto pos = leader.raw->ProposeConfChange(cc, absl::StrCat("conf-", proposal_count_++));
    if (!pos.ok()) return;
    Trace(absl::StrCat("node ", leader.id, " proposes conf change ", static_cast<int>(cc.kind),
                       " of ", cc.node_id, " at ", pos->last_index));
    // A new server starts with empty storage; messages reach it later.
    if (fresh) AddNode(next_id_++, consensus::ConfState{});
  });
}

void World::Transfer(SimNode& leader) {
  Call(leader, [this](SimNode& n) {
    const auto& voters = n.raw->Status().conf_state.voters;
    if (voters.empty()) return;
    if (n.raw->TransferLeadership(rng_.Pick(voters)).ok()) ++stats_.transfers;
  });
}

void World::Compact(SimNode& n) {
  Call(n, [this](SimNode& n) {
    if (n.applied <= n.snap_index) return;
    CAIRN_CHECK(n.raw->Status().applied == n.applied) << "state machine and core disagree";
    CAIRN_CHECK_OK(n.disk->Compact(n.applied, n.raw->AppliedConfState()));
    n.snap_index = n.applied;
    n.snap_digest = n.digest;
    ++stats_.compactions;
    Trace(absl::StrCat("node ", n.id, " compacts to ", n.applied));
  });
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

void World::ClientAction(SimNode* leader, const std::vector<SimNode*>& live,
                         const std::vector<SimNode*>& leaders) {
  const uint64_t r = rng_.Range(0, 99);
  if (r < 55) {
    SimNode* target = leader != nullptr && rng_.Chance(0.9) ? leader : rng_.Pick(live);
    // Sometimes a burst: backpressure must hold the uncommitted bytes down.
    for (uint64_t k = rng_.Chance(0.1) ? rng_.Range(5, 30) : 1; k > 0; --k) {
      std::string data = absl::StrCat("p", proposal_count_++, "-");
      data.append(rng_.Range(0, 48), 'x');
      Propose(*target, data);
    }
  } else if (r < 75) {
    // Reads go to any node that believes it leads (perhaps a stale leader
    // behind a partition) or to a random node, which forwards them.
    ReadIndex(!leaders.empty() && rng_.Chance(0.7) ? *rng_.Pick(leaders) : *rng_.Pick(live));
  } else if (r < 85) {
    if (leader != nullptr) ChangeMembership(*leader);
  } else if (r < 90) {
    if (leader != nullptr) Transfer(*leader);
  } else {
    Compact(*rng_.Pick(live));
  }
}

void World::RandomAction() {
  std::vector<SimNode*> live = Live();
  std::vector<SimNode*> down = Down();
  if (live.empty()) {
    if (!down.empty()) Boot(*rng_.Pick(down));
    return;
  }
  std::vector<SimNode*> leaders;
  for (SimNode* n : live) {
    if (n->raw->Status().role == Role::kLeader) leaders.push_back(n);
  }
  SimNode* leader = Leader();
  const uint64_t r = rng_.Range(0, 99);
  if (!storm_) {
    if (r < 10) {
      Heal();
    } else if (r < 20) {
      if (!down.empty()) Boot(*rng_.Pick(down));
    } else {
      ClientAction(leader, live, leaders);
    }
    return;
  }
  if (r < 45) {
    ClientAction(leader, live, leaders);
  } else if (r < 50) {
    Crash(*rng_.Pick(live));  // possibly in the middle of a disk write
  } else if (r < 55) {
    // A quick restart (kill -9, then the supervisor restarts the process):
    // messages already on their way still arrive.
    Bounce(*rng_.Pick(live));
  } else if (r < 63) {
    if (!down.empty()) Boot(*rng_.Pick(down));
  } else if (r < 70) {
    PartitionRandomly(true);
  } else if (r < 75) {
    PartitionRandomly(false);
  } else if (r < 82) {
    Heal();
  } else if (r < 87) {
    loss_ = rng_.Pick(std::vector<double>{0, 0, 0.02, 0.1, 0.3});
    duplicate_ = rng_.Pick(std::vector<double>{0, 0, 0.05, 0.2});
    delay_max_ms_ = rng_.Pick(std::vector<uint64_t>{5, 10, 30, 100});
    Trace(absl::StrCat("network: loss ", loss_, " duplicate ", duplicate_,
                       " delay <= ", delay_max_ms_, " ms"));
  } else if (r < 92) {
    // Election timers of two nodes fire at once: a likely split vote.
    SimNode* a = rng_.Pick(live);
    SimNode* b = rng_.Pick(live);
    for (SimNode* n : {a, b}) {
      Call(*n, [](SimNode& n) { (void)n.raw->Campaign(); });
      if (a == b) break;
    }
  }
}

}  // namespace cairn::sim
