// The simulator's fault schedule and client workload: appends (with
// idempotency keys, retried until answered), reads, crashes and restarts,
// pauses, partitions, network chaos, membership changes, leadership
// transfers, compaction and forced elections (see world.h). Client calls go
// to a node's Raft loop as a client's RPC does, and are answered by it.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/v1/log.pb.h"
#include "world.h"

namespace cairn::sim {

using consensus::ConfChange;
using consensus::NodeStatus;
using consensus::Role;

// How long a client waits for an answer (virtual time).
constexpr uint64_t kCallDeadlineMs = 3000;

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

void World::NewAppend(SimNode& target, const std::string& contents, bool keyed) {
  v1::LogCommand command;
  v1::UserTransaction* tx = command.mutable_user();
  tx->set_collection_id("sim");
  tx->set_contents(contents);
  tx->set_user_id("client");
  if (keyed) tx->set_idempotency_key(absl::StrCat("key-", appends_.size()));
  ClientAppend a;
  a.command = command.SerializeAsString();
  a.identity = node::IdentityOfEntry(a.command);
  a.first_node = target.id;
  appends_.push_back(std::move(a));
  unacked_.push_back(appends_.size() - 1);
  Propose(target, appends_.size() - 1);
}

void World::Propose(SimNode& n, size_t append) {
  if (!n.up) return;  // it crashed (a burst's earlier append drove it): no connection
  const uint64_t incarnation = n.incarnation;
  const NodeId id = n.id;
  n.loop->Propose(appends_[append].command, appends_[append].identity, /*wait_commit=*/true,
                  TimeAt(now_ + kCallDeadlineMs),
                  [this, id, incarnation, append](absl::StatusOr<node::CommitResult> r) {
                    OnAppendAnswer(id, incarnation, append, r);
                  });
  Trace(absl::StrCat("append ", append, " to node ", n.id));
  // A leader that dies right after appending leaves entries of its term on
  // a minority: the raw material of the paper's Figure 8.
  if (faults_ && storm_ && rng_.Chance(0.05)) {
    Event crash;
    crash.kind = Event::Kind::kCrash;
    crash.node = n.id;
    crash.incarnation = n.incarnation;
    Schedule(crash, rng_.Range(0, 3));
  }
  Drive(n, /*tick=*/false);
}

void World::OnAppendAnswer(NodeId id, uint64_t incarnation, size_t append,
                           const absl::StatusOr<node::CommitResult>& r) {
  SimNode& n = nodes_.at(id);
  // Answers of a crashed incarnation, or given after power failed, never
  // left the node.
  if (n.incarnation != incarnation || n.doomed) return;
  ClientAppend& a = appends_[append];
  if (!r.ok()) {
    if (absl::IsResourceExhausted(r.status())) {
      ++stats_.backpressure;
    } else if (absl::IsInvalidArgument(r.status())) {
      // Every key here is sent with one contents only.
      checker_.Fail(absl::StrCat("append ", append, " refused: ", r.status().ToString()));
    }
    return;  // not leader, lost to a leader change, deadline: the client retries
  }
  const node::CommitResult& c = *r;
  if (c.status != v1::TRANSACTION_STATUS_COMMITTED) return;
  // What the answer points at must be this append, committed: an entry
  // holding its key and contents (or, without a key, exactly its command).
  auto it = applied_data_.find(c.txid.index);
  const bool holds = it != applied_data_.end() && it->second.first == c.txid.term &&
                     (a.identity.has_key() ? node::IdentityOfEntry(it->second.second) == a.identity
                                           : it->second.second == a.command);
  if (!holds) {
    checker_.Fail(absl::StrCat("lost acknowledged write: append ", append, " sent to node ",
                               a.first_node, " was answered by node ", id, " as committed at ",
                               c.txid.ToString(), ", which holds another entry"));
    return;
  }
  checker_.OnAck(c.txid.index, c.txid.term, n.loop->core().Status().term);
  if (c.duplicate_of) ++stats_.retries_joined;
  if (!a.acked) {
    a.acked = true;
    unacked_.erase(std::find(unacked_.begin(), unacked_.end(), append));
  }
  if (live_append_ == append) {
    live_acked_ = true;
    live_index_ = c.txid.index;
  }
}

void World::RetryAppend(const std::vector<SimNode*>& live) {
  if (unacked_.empty()) return;
  // One of the most recent unanswered appends: to the node it was first
  // sent to (the client still thinks it leads) or to another one.
  const size_t recent = std::min<size_t>(unacked_.size(), 8);
  const size_t append = unacked_[unacked_.size() - 1 - rng_.Range(0, recent - 1)];
  SimNode& first = nodes_.at(appends_[append].first_node);
  SimNode& target = first.up && rng_.Chance(0.7) ? first : *rng_.Pick(live);
  ++stats_.retries;
  if (unacked_.size() > 1 && batch_rng_.Chance(0.3)) {
    // Batched with up to three other unanswered appends, in a random order.
    std::vector<size_t> batch{append};
    for (int k = 0; k < 3; ++k) {
      const size_t other = unacked_[batch_rng_.Range(0, unacked_.size() - 1)];
      if (std::find(batch.begin(), batch.end(), other) == batch.end()) batch.push_back(other);
    }
    ProposeBatch(target, batch);
    return;
  }
  Propose(target, append);
}

void World::ProposeBatch(SimNode& n, const std::vector<size_t>& appends) {
  if (!n.up) return;
  const uint64_t incarnation = n.incarnation;
  const NodeId id = n.id;
  std::vector<std::string> commands;
  std::vector<node::AppendIdentity> identities;
  for (size_t a : appends) {
    commands.push_back(appends_[a].command);
    identities.push_back(appends_[a].identity);
  }
  n.loop->ProposeBatch(
      std::move(commands), std::move(identities), /*wait_commit=*/true,
      TimeAt(now_ + kCallDeadlineMs),
      [this, id, incarnation,
       appends](absl::StatusOr<std::vector<absl::StatusOr<node::CommitResult>>> r) {
        for (size_t j = 0; j < appends.size(); ++j) {
          OnAppendAnswer(id, incarnation, appends[j],
                         r.ok() ? (*r)[j] : absl::StatusOr<node::CommitResult>(r.status()));
        }
      });
  ++stats_.batches;
  Trace(absl::StrCat("batch of ", appends.size(), " appends to node ", n.id));
  Drive(n, /*tick=*/false);
}

void World::ReadIndex(SimNode& n) {
  // The read starts now: its answer must cover everything committed so far.
  const std::string context = absl::StrCat("read-", n.id, "-", ++read_count_);
  checker_.OnReadIssued(context);
  const uint64_t incarnation = n.incarnation;
  const NodeId id = n.id;
  n.loop->ReadIndex(TimeAt(now_ + kCallDeadlineMs),
                    [this, id, incarnation, context](absl::StatusOr<uint64_t> index) {
                      SimNode& n = nodes_.at(id);
                      if (n.incarnation != incarnation || n.doomed || !index.ok()) return;
                      checker_.OnReadState(id, consensus::ReadState{*index, context});
                      ++stats_.reads_answered;
                    });
  Drive(n, /*tick=*/false);
}

void World::ChangeMembership(SimNode& leader) {
  const NodeStatus s = leader.loop->core().Status();
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
    if (members.empty()) return;
    cc.kind = ConfChange::Kind::kRemoveNode;
    cc.node_id = rng_.Pick(members);
  }
  Trace(absl::StrCat("node ", leader.id, " gets conf change ", static_cast<int>(cc.kind), " of ",
                     cc.node_id));
  leader.loop->ProposeConfChange(cc, absl::StrCat("conf-", conf_count_++),
                                 TimeAt(now_ + kCallDeadlineMs),
                                 [](absl::StatusOr<node::CommitResult>) {});
  // A new server starts with empty storage; messages reach it later.
  if (fresh) AddNode(next_id_++, consensus::ConfState{});
  Drive(leader, /*tick=*/false);
}

void World::Transfer(SimNode& leader) {
  const auto& voters = leader.loop->core().Status().conf_state.voters;
  if (voters.empty()) return;
  leader.loop->TransferLeadership(rng_.Pick(voters), TimeAt(now_ + kCallDeadlineMs),
                                  [this](absl::StatusOr<uint64_t> r) {
                                    if (r.ok()) ++stats_.transfers;
                                  });
  Drive(leader, /*tick=*/false);
}

void World::Compact(SimNode& n) {
  n.loop->Compact([](absl::StatusOr<uint64_t>) {});
  Drive(n, /*tick=*/false);
}

// The process stops (SIGSTOP, a long GC pause, a VM migration) and resumes
// later: meanwhile messages and client calls pile up in its inbox, and what
// it believed (that it leads) may no longer be true when it takes them.
void World::Pause(SimNode& n) {
  // Often long enough for the others to elect a new leader meanwhile.
  const uint64_t election_ms = base_config_.election_tick * kTickMs;
  const uint64_t length = rng_.Chance(0.3) ? rng_.Range(kTickMs, election_ms)
                                           : rng_.Range(election_ms, 4 * election_ms);
  n.paused_until = std::max(n.paused_until, now_ + length);
  ++stats_.pauses;
  Trace(absl::StrCat("node ", n.id, " pauses for ", length, " ms"));
  Event wake;
  wake.kind = Event::Kind::kWake;
  wake.node = n.id;
  wake.incarnation = n.incarnation;
  Schedule(wake, n.paused_until - now_);
  // Its clients time out and retry, to the node they think leads, late in
  // the pause: after whatever a new leader sent it meanwhile.
  int retries = 0;
  for (size_t append : unacked_) {
    if (appends_[append].first_node != n.id || !rng_.Chance(0.7) || ++retries > 3) continue;
    Event retry;
    retry.kind = Event::Kind::kRetry;
    retry.node = n.id;
    retry.incarnation = n.incarnation;
    retry.append = append;
    Schedule(retry, n.paused_until - now_ - rng_.Range(0, std::min<uint64_t>(length, 5)));
  }
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
  if (r < 50) {
    SimNode* target = leader != nullptr && rng_.Chance(0.9) ? leader : rng_.Pick(live);
    // Sometimes a burst: backpressure must hold the uncommitted bytes down.
    for (uint64_t k = rng_.Chance(0.1) ? rng_.Range(5, 30) : 1; k > 0; --k) {
      std::string contents = absl::StrCat("p", appends_.size(), "-");
      contents.append(rng_.Range(0, 48), 'x');
      NewAppend(*target, contents, /*keyed=*/rng_.Chance(0.8));
    }
  } else if (r < 58) {
    RetryAppend(live);
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
    if (n->loop->core().Status().role == Role::kLeader) leaders.push_back(n);
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
  if (r < 42) {
    ClientAction(leader, live, leaders);
  } else if (r < 47) {
    Crash(*rng_.Pick(live));
  } else if (r < 52) {
    // A quick restart (kill -9, then the supervisor restarts the process):
    // messages already on their way still arrive.
    Bounce(*rng_.Pick(live));
  } else if (r < 57) {
    // Most often the leader: the pause of the safety issue.
    Pause(leader != nullptr && rng_.Chance(0.7) ? *leader : *rng_.Pick(live));
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
    // Election timers of two nodes fire at once: a likely split vote. (A
    // node waiting for its disk or paused has no timer firing.)
    SimNode* a = rng_.Pick(live);
    SimNode* b = rng_.Pick(live);
    for (SimNode* n : {a, b}) {
      // (The first one's drive may have applied the second one's removal.)
      if (n->up && now_ >= n->busy_until && now_ >= n->paused_until) {
        (void)n->loop->core().Campaign();
        Drive(*n, /*tick=*/false);
      }
      if (a == b) break;
    }
  }
}

}  // namespace cairn::sim
