// The simulator's world: nodes, their loops and the events that drive them,
// the liveness phase (see world.h). What a loop does through its seams is in
// sim_node.cc; faults and clients in actions.cc.
#include "world.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/base/check.h"

namespace cairn::sim {

using consensus::ConfState;
using consensus::NodeStatus;
using consensus::Role;

World::World(const SimOptions& options)
    : options_(options), rng_(options.seed), batch_rng_(options.seed ^ 0x9e3779b97f4a7c15ULL) {
  checker_.set_check_votes(options.check_lemmas);
  const int nodes = options.nodes > 0 ? options.nodes : static_cast<int>(rng_.Range(3, 7));
  base_config_.election_tick = static_cast<int>(rng_.Range(5, 15));
  base_config_.heartbeat_tick = static_cast<int>(rng_.Range(1, 2));
  base_config_.pre_vote = rng_.Chance(0.7);
  base_config_.check_quorum = rng_.Chance(0.7);
  base_config_.inflight_messages_max = rng_.Chance(0.5) ? rng_.Range(1, 4) : 64;
  base_config_.message_bytes_max = rng_.Chance(0.5) ? rng_.Range(40, 400) : 64 * 1024;
  base_config_.uncommitted_bytes_max = rng_.Chance(0.5) ? rng_.Range(100, 2000) : 1 << 20;
  base_config_.committed_entries_bytes_max = rng_.Chance(0.5) ? rng_.Range(40, 400) : 1 << 20;
  base_config_.injected_bug = options.bug;
  signature_interval_txs_ = rng_.Range(3, 40);
  signature_interval_ms_ = rng_.Range(20, 200);
  snapshot_interval_entries_ = rng_.Chance(0.5) ? rng_.Range(10, 100) : 1'000'000;
  action_gap_ms_ = rng_.Range(5, 40);
  stats_.nodes = nodes;
  stats_.pre_vote = base_config_.pre_vote;
  stats_.check_quorum = base_config_.check_quorum;

  // Some nodes start as voters; the rest wait as spares to join as learners.
  const int voters = static_cast<int>(rng_.Range(std::max(1, nodes - 2), nodes));
  nodes_max_ = nodes + 4;
  ConfState bootstrap;
  for (int k = 1; k <= voters; ++k) bootstrap.voters.push_back(k);
  for (int k = 1; k <= nodes; ++k) {
    AddNode(next_id_++, k <= voters ? bootstrap : ConfState{});
  }
  Event action;
  action.kind = Event::Kind::kAction;
  Schedule(action, rng_.Range(1, action_gap_ms_));
  Event phase;
  phase.kind = Event::Kind::kPhase;
  Schedule(phase, rng_.Range(100, 800));
}

World::~World() {
  for (auto& [id, n] : nodes_) {
    ++n.incarnation;
    if (n.loop) n.loop->Stop();
    n.loop.reset();
  }
}

void World::Trace(const std::string& line) {
  if (options_.trace)
    std::printf("%8llu ms  %s\n", static_cast<unsigned long long>(now_), line.c_str());
}

void World::Schedule(Event e, uint64_t delay) {
  e.time = now_ + delay;
  e.seq = seq_++;
  events_.push(std::move(e));
}

SimNode& World::AddNode(NodeId id, const ConfState& bootstrap) {
  SimNode& n = nodes_[id];
  n.id = id;
  n.durable.disk = consensus::MemoryStorage(bootstrap);
  n.durable.synced_conf = bootstrap;
  Boot(n);
  Event tick;
  tick.kind = Event::Kind::kTick;
  tick.node = id;
  Schedule(tick, rng_.Range(1, kTickMs));
  return n;
}

void World::Boot(SimNode& n) {
  n.seams = std::make_unique<SimSeams>(this, &n);
  n.governance = std::make_unique<node::Governance>();
  n.applied_waiters = std::make_unique<node::IndexWaiters>(1 << 20);
  n.signed_waiters = std::make_unique<node::IndexWaiters>(1 << 20);
  node::RaftLoopOptions o;
  o.node_id = n.id;
  o.tick_ms = kTickMs;
  o.election_ticks = base_config_.election_tick;
  o.heartbeat_ticks = base_config_.heartbeat_tick;
  o.uncommitted_bytes_max = base_config_.uncommitted_bytes_max;
  o.signature_interval_txs = signature_interval_txs_;
  o.signature_interval_ms = static_cast<int64_t>(signature_interval_ms_);
  o.snapshot_interval_entries = snapshot_interval_entries_;
  o.snapshot_retain_entries = 0;
  o.random_seed = options_.seed * 1000003 + n.id;
  o.own_thread = false;
  o.inject_stale_idempotency_join = options_.inject_stale_idempotency_join;
  o.tune_core = [base = base_config_](consensus::Config* c) {
    c->pre_vote = base.pre_vote;
    c->check_quorum = base.check_quorum;
    c->inflight_messages_max = base.inflight_messages_max;
    c->message_bytes_max = base.message_bytes_max;
    c->committed_entries_bytes_max = base.committed_entries_bytes_max;
    c->injected_bug = base.injected_bug;
  };
  SimSeams* s = n.seams.get();
  n.loop =
      std::make_unique<node::RaftLoop>(std::move(o), s, s, s, s, n.governance.get(), s, &metrics_,
                                       n.applied_waiters.get(), n.signed_waiters.get());
  if (absl::Status st = n.loop->Start(); !st.ok()) {
    // A node must always be able to restart from what it made durable.
    checker_.Fail(absl::StrCat("node ", n.id, " cannot restart: ", st.ToString()));
    n.loop.reset();
    return;
  }
  n.up = true;
  n.seen_commit = 0;
  n.busy_until = n.paused_until = 0;
  n.tick_owed = n.drive_owed = false;
  const NodeStatus s0 = n.loop->core().Status();
  Trace(absl::StrCat("node ", n.id, " boots: term ", s0.term, " commit ", s0.commit));
  AfterDrive(n);
  Drive(n, /*tick=*/false);
}

void World::Crash(SimNode& n) {
  Trace(absl::StrCat("node ", n.id, " crashes", n.doomed ? " (losing a write)" : ""));
  n.up = false;
  ++n.incarnation;  // before Stop: what its loop answers now reaches nobody
  ++stats_.crashes;
  if (n.loop) n.loop->Stop();
  n.applied_waiters->FailAll(absl::UnavailableError("crashed"));
  n.signed_waiters->FailAll(absl::UnavailableError("crashed"));
  n.loop.reset();
  n.governance.reset();
  n.seams.reset();
  if (n.doomed) {
    n.durable = std::move(*n.doomed);
    n.doomed.reset();
  }
  LoseUnsyncedWrites(n);
}

void World::LoseUnsyncedWrites(SimNode& n) {
  DurableState& d = n.durable;
  // Writes reach the disk in order, so what survives is a prefix; most often
  // nothing unsynced survives.
  const size_t kept = rng_.Chance(0.5) ? 0 : rng_.Range(0, d.unsynced.size());
  for (size_t k = 0; k < kept; ++k) {
    if (d.unsynced[k].first) d.synced_hard = *d.unsynced[k].first;
    if (d.unsynced[k].second) d.synced_conf = *d.unsynced[k].second;
  }
  if (kept < d.unsynced.size()) {
    Trace(absl::StrCat("node ", n.id, " loses ", d.unsynced.size() - kept,
                       " unsynced writes (commit ", d.disk.hard_state().commit, " -> ",
                       d.synced_hard.commit, ")"));
  }
  d.unsynced.clear();
  d.disk.SetHardState(d.synced_hard);
  d.disk.SetConfState(d.synced_conf);
}

void World::Bounce(SimNode& n) {
  Crash(n);
  Event restart;
  restart.kind = Event::Kind::kRestart;
  restart.node = n.id;
  restart.incarnation = n.incarnation;
  Schedule(restart, rng_.Range(0, 3));
}

void World::Drive(SimNode& n, bool tick) {
  if (!n.up || checker_.failed()) return;
  if (tick) n.tick_owed = true;
  if (n.driving || now_ < n.busy_until || now_ < n.paused_until) {
    n.drive_owed = true;  // a Wake event comes
    return;
  }
  const bool tick_now = n.tick_owed;
  n.tick_owed = n.drive_owed = false;
  n.driving = true;
  n.write_delay = 0;
  n.wrote = n.voted = false;
  n.loop->DriveOnce(tick_now, TimeAt(now_));
  n.driving = false;
  if (n.doomed) {
    Bounce(n);
    return;
  }
  AfterDrive(n);
  if (checker_.failed()) return;
  Event wake;
  wake.kind = Event::Kind::kWake;
  wake.node = n.id;
  wake.incarnation = n.incarnation;
  wake.ok = n.voted;
  if (n.wrote) {
    // Busy until the iteration's writes complete; then what it queued meanwhile.
    n.busy_until = now_ + n.write_delay;
    Schedule(wake, n.write_delay);
  } else if (n.loop->queued_ops() > 0) {
    // Operations the iteration queued (the apply stage's report) run next.
    Schedule(wake, 0);
  }
}

void World::Wake(SimNode& n) {
  if (!n.up || n.driving || now_ < n.busy_until || now_ < n.paused_until) return;
  if (n.drive_owed || n.tick_owed || n.loop->queued_ops() > 0) Drive(n, /*tick=*/false);
}

// Checks that can be made after any iteration of a node's loop.
void World::AfterDrive(SimNode& n) {
  if (!n.up) return;
  consensus::RawNode& core = n.loop->core();
  const NodeStatus s = core.Status();
  if (options_.trace && (s.role != n.seen_role || s.term != n.seen_term)) {
    Trace(absl::StrCat("node ", n.id, " is ", consensus::RoleName(s.role), " of term ", s.term,
                       " (log ", s.last_index, "@", core.TermAt(s.last_index).value_or(0),
                       ", commit ", s.commit, ", voters ", absl::StrJoin(s.conf_state.voters, ","),
                       ")"));
  }
  n.seen_role = s.role;
  n.seen_term = s.term;
  stats_.max_term = std::max(stats_.max_term, s.term);
  // A node leads a term in the eyes of the world once that term is durable on
  // it: a single voter wins at once, in memory, and if it crashes before
  // persisting, nobody has seen that term (its messages wait for the write),
  // so another node may still lead it.
  if (s.role == Role::kLeader && n.durable.disk.hard_state().term == s.term) {
    checker_.OnLeader(n.id, s.term, core);
  }
  CheckCommit(n, s);
}

void World::CheckCommit(SimNode& n, const NodeStatus& s) {
  if (s.commit < n.seen_commit) {
    checker_.Fail(
        absl::StrCat("node ", n.id, " commit went back from ", n.seen_commit, " to ", s.commit));
  } else if (s.commit > n.seen_commit) {
    checker_.OnCommit(n.id, s.term, n.seen_commit, s.commit, n.loop->core());
    n.seen_commit = s.commit;
  }
  if (s.applied > s.commit) {
    checker_.Fail(absl::StrCat("node ", n.id, " applied ", s.applied, " > commit ", s.commit));
  }
  stats_.max_commit = std::max(stats_.max_commit, s.commit);
}

std::string World::DumpState() {
  std::string out;
  for (auto& [id, n] : nodes_) {
    if (!n.up) {
      absl::StrAppend(&out, "    node ", id, n.decommissioned ? ": decommissioned\n" : ": down\n");
      continue;
    }
    consensus::RawNode& core = n.loop->core();
    const NodeStatus s = core.Status();
    absl::StrAppend(
        &out, "    node ", id, ": ", consensus::RoleName(s.role), " term ", s.term, " lead ",
        s.leader, " commit ", s.commit, " applied ", s.applied, " log [", s.first_index, ",",
        s.last_index, "] voters ", absl::StrJoin(s.conf_state.voters, ","), " learners ",
        absl::StrJoin(s.conf_state.learners, ","), now_ < n.busy_until ? " (writing)" : "",
        now_ < n.paused_until ? " (paused)" : "", "\n");
    for (const consensus::FollowerProgress& p : core.Progress()) {
      absl::StrAppend(&out, "      progress of ", p.id, ": state ", static_cast<int>(p.state),
                      " match ", p.match, " next ", p.next, " inflight ", p.inflight_messages,
                      " active ", p.recent_active, "\n");
    }
  }
  return out;
}

SimNode* World::Leader() {
  // The leader of the highest term among live nodes, if any leads it.
  // Servers whose removal committed are no part of the cluster any more: left
  // running with stale memberships they may raise each other's terms without
  // bound, which says nothing about the cluster.
  SimNode* best = nullptr;
  Term best_term = 0;
  for (auto& [id, n] : nodes_) {
    if (!n.up || n.removed) continue;
    const NodeStatus s = n.loop->core().Status();
    if (s.term > best_term) {
      best_term = s.term;
      best = nullptr;
    }
    if (s.term == best_term && s.role == Role::kLeader) best = &n;
  }
  return best;
}

void World::Dispatch(Event& e) {
  switch (e.kind) {
    case Event::Kind::kTick: {
      Drive(nodes_.at(e.node), /*tick=*/true);
      Schedule(e, kTickMs);
      break;
    }
    case Event::Kind::kDeliver:
      Deliver(e);
      break;
    case Event::Kind::kWake: {
      SimNode& n = nodes_.at(e.node);
      if (!n.up || n.incarnation != e.incarnation) break;
      // Crash points right after a write became durable, most often after a
      // vote: the moments where forgetting durable state would hurt.
      if (now_ >= n.busy_until && faults_ && storm_ && rng_.Chance(e.ok ? 0.2 : 0.002)) {
        Bounce(n);
        break;
      }
      Wake(n);
      break;
    }
    case Event::Kind::kSnapshotReport:
    case Event::Kind::kUnreachable: {
      SimNode& n = nodes_.at(e.node);
      if (!n.up || n.incarnation != e.incarnation) break;  // reported to a node that restarted
      if (e.kind == Event::Kind::kSnapshotReport) {
        n.loop->ReportSnapshot(e.message.to, e.ok);
      } else {
        n.loop->ReportUnreachable(e.message.to);
      }
      Drive(n, /*tick=*/false);
      break;
    }
    case Event::Kind::kRestart: {
      SimNode& n = nodes_.at(e.node);
      if (!n.up && !n.decommissioned && n.incarnation == e.incarnation) Boot(n);
      break;
    }
    case Event::Kind::kCrash: {
      SimNode& n = nodes_.at(e.node);
      if (n.up && n.incarnation == e.incarnation) Bounce(n);
      break;
    }
    case Event::Kind::kRetry: {
      SimNode& n = nodes_.at(e.node);
      if (n.up && n.incarnation == e.incarnation && !appends_[e.append].acked) {
        ++stats_.retries;
        Propose(n, e.append);
      }
      break;
    }
    case Event::Kind::kPhase:
      storm_ = !storm_;
      Trace(storm_ ? "storm begins" : "calm begins");
      Schedule(e, storm_ ? rng_.Range(100, 800) : rng_.Range(100, 1500));
      break;
    case Event::Kind::kAction:
      if (faults_) {
        RandomAction();
        Schedule(e, rng_.Range(1, action_gap_ms_));
      }
      break;
  }
}

SimResult World::Run() {
  SimResult result;
  for (int step = 0; step < options_.steps && !checker_.failed(); ++step) {
    CAIRN_CHECK(!(options_.abort_midway && step == options_.steps / 2))
        << "deliberate failure (--abort-at-seed " << options_.seed << ")";
    Event e = events_.top();
    events_.pop();
    now_ = e.time;
    Dispatch(e);
  }
  if (!checker_.failed() && !Liveness() && !checker_.failed()) {
    checker_.Fail(absl::StrCat("liveness: no proposal committed within ",
                               liveness_bound_ms_ / kTickMs, " ticks after healing\n",
                               DumpState()));
  }
  result.ok = !checker_.failed();
  result.violation = checker_.violation();
  stats_.acked = checker_.acked();
  result.stats = stats_;
  return result;
}

// Enough election timeouts to elect a leader, plus the time the configured
// pipeline needs to bring the most lagging node up to date (at worst one
// entry per message, inflight_messages_max messages per round trip of at most
// 2 x 10 ms plus a disk write).
uint64_t World::LivenessBoundMs() {
  Index last = 0;
  for (auto& [id, n] : nodes_) {
    if (n.up) last = std::max(last, n.loop->core().Status().last_index);
  }
  Index backlog = 0;
  for (auto& [id, n] : nodes_) {
    const Index own = n.up ? n.loop->core().Status().last_index : last;
    if (own < last) backlog = std::max(backlog, last - own);
  }
  return 60 * base_config_.election_tick * kTickMs +
         backlog * 25 / base_config_.inflight_messages_max;
}

// Removed servers left running that still believe themselves voters. Not a
// violation (docs/consensus.md): no leader may ever hear of them.
int World::CountRemovedUnaware() {
  int unaware = 0;
  for (auto& [id, n] : nodes_) {
    if (!n.up || !n.removed || n.decommissioned) continue;
    const NodeStatus r = n.loop->core().Status();
    const auto& voters = r.conf_state.voters;
    if (std::find(voters.begin(), voters.end(), id) != voters.end() && r.commit < n.removal_index) {
      ++unaware;
    }
  }
  return unaware;
}

// Heals every fault, then requires a leader to commit a new append, and
// every live member to apply it, within a bounded number of ticks.
bool World::Liveness() {
  faults_ = false;
  Heal();
  loss_ = 0;
  duplicate_ = 0;
  delay_max_ms_ = 10;
  for (auto& [id, n] : nodes_) {
    n.paused_until = std::min(n.paused_until, now_);
    if (!n.up && !n.decommissioned) Boot(n);
    if (n.up) Wake(n);
  }
  Trace("faults healed");
  const uint64_t healed = now_;
  liveness_bound_ms_ = LivenessBoundMs();
  const uint64_t deadline = now_ + liveness_bound_ms_;
  uint64_t next_try = now_;
  while (now_ < deadline && !checker_.failed() && !events_.empty()) {
    SimNode* leader = Leader();
    if (live_acked_ && leader != nullptr) {
      // Every member catches up to the probe.
      const NodeStatus s = leader->loop->core().Status();
      bool all = true;
      for (const auto* ids : {&s.conf_state.voters, &s.conf_state.learners}) {
        for (NodeId id : *ids) all = all && nodes_.at(id).durable.machine.applied >= live_index_;
      }
      if (all) {
        stats_.removed_unaware = CountRemovedUnaware();
        stats_.liveness_ms = now_ - healed;
        return true;
      }
    } else if (!live_acked_ && now_ >= next_try) {
      next_try = now_ + 5 * kTickMs;
      if (leader != nullptr) {
        // One append, sent again with its key to whoever leads now.
        if (!live_append_) {
          NewAppend(*leader, absl::StrCat("live-", options_.seed), /*keyed=*/true);
          live_append_ = appends_.size() - 1;
        } else {
          Propose(*leader, *live_append_);
        }
      }
    }
    Event e = events_.top();
    events_.pop();
    now_ = e.time;
    Dispatch(e);
  }
  return false;
}

SimResult RunSimulation(const SimOptions& options) {
  World world(options);
  return world.Run();
}

}  // namespace cairn::sim
