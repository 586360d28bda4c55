// The simulator's world: nodes, the simulated network and disk, the event
// loop, and the liveness phase (see world.h).
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
using consensus::Ready;
using consensus::Role;

World::World(const SimOptions& options) : options_(options), rng_(options.seed) {
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
  n.config = base_config_;
  n.config.id = id;
  n.config.random_seed = options_.seed * 1000003 + id;
  n.disk = std::make_unique<consensus::MemoryStorage>(bootstrap);
  n.synced_conf = bootstrap;
  Boot(n);
  Event tick;
  tick.kind = Event::Kind::kTick;
  tick.node = id;
  Schedule(tick, rng_.Range(1, kTickMs));
  return n;
}

void World::Boot(SimNode& n) {
  n.config.applied = n.applied;
  auto raw = consensus::RawNode::Create(n.config, n.disk.get());
  if (!raw.ok()) {
    // A node must always be able to restart from what it made durable.
    checker_.Fail(absl::StrCat("node ", n.id, " cannot restart: ", raw.status().ToString()));
    return;
  }
  n.raw = *std::move(raw);
  n.up = true;
  n.seen_commit = 0;
  Trace(absl::StrCat("node ", n.id, " boots: term ", n.raw->Status().term, " commit ",
                     n.raw->Status().commit));
  AfterInput(n);
  Drive(n);
}

void World::Crash(SimNode& n) {
  Trace(absl::StrCat("node ", n.id, " crashes", n.in_flight ? " (losing a write)" : ""));
  n.up = false;
  n.raw.reset();
  n.in_flight.reset();
  n.inbox.clear();
  LoseUnsyncedWrites(n);
  ++n.incarnation;
  ++stats_.crashes;
}

void World::LoseUnsyncedWrites(SimNode& n) {
  // Writes reach the disk in order, so what survives is a prefix; most often
  // nothing unsynced survives.
  const size_t kept = rng_.Chance(0.5) ? 0 : rng_.Range(0, n.unsynced.size());
  for (size_t k = 0; k < kept; ++k) {
    if (n.unsynced[k].first) n.synced_hard = *n.unsynced[k].first;
    if (n.unsynced[k].second) n.synced_conf = *n.unsynced[k].second;
  }
  if (kept < n.unsynced.size()) {
    Trace(absl::StrCat("node ", n.id, " loses ", n.unsynced.size() - kept,
                       " unsynced writes (commit ", n.disk->hard_state().commit, " -> ",
                       n.synced_hard.commit, ")"));
  }
  n.unsynced.clear();
  n.disk->SetHardState(n.synced_hard);
  n.disk->SetConfState(n.synced_conf);
}

void World::Bounce(SimNode& n) {
  Crash(n);
  Event restart;
  restart.kind = Event::Kind::kRestart;
  restart.node = n.id;
  restart.incarnation = n.incarnation;
  Schedule(restart, rng_.Range(0, 3));
}

void World::Send(SimNode& from, Message m) {
  if (m.type == MessageType::kVoteResponse && !m.reject) {
    checker_.OnVoteGranted(m.from, m.term, m.to);
  }
  if (options_.trace && !m.reject &&
      (m.type == MessageType::kVoteResponse || m.type == MessageType::kPreVoteResponse)) {
    const NodeStatus s = from.raw->Status();
    Trace(absl::StrCat("node ", m.from, " sends ", m.to, " a granted ",
                       m.type == MessageType::kVoteResponse ? "vote" : "pre-vote", " for term ",
                       m.term, " (own log ", s.last_index, "@",
                       from.raw->TermAt(s.last_index).value_or(0), ")"));
  }
  Event e;
  e.kind = Event::Kind::kDeliver;
  e.node = m.to;
  // The node streams the payload of its current snapshot; if it compacted
  // again since the core chose that snapshot, the stream fails.
  const bool stale_snapshot =
      m.type == MessageType::kSnapshot && from.snap_index != m.snapshot.index;
  if (m.type == MessageType::kSnapshot) e.payload = from.snap_digest;
  const bool lost = stale_snapshot || Cut(m.from, m.to) || rng_.Chance(loss_);
  if (lost) {
    if (m.type == MessageType::kSnapshot) {
      Event report;
      report.kind = Event::Kind::kSnapshotReport;
      report.node = m.from;
      report.incarnation = from.incarnation;
      report.message = m;
      report.ok = false;
      Schedule(report, rng_.Range(1, 5 * kTickMs));
    }
    return;
  }
  const bool duplicate = rng_.Chance(duplicate_);
  e.message = std::move(m);
  if (duplicate) Schedule(e, rng_.Range(1, delay_max_ms_));
  Schedule(std::move(e), rng_.Range(1, delay_max_ms_));
}

void World::Deliver(Event& e) {
  SimNode& to = nodes_.at(e.node);
  Message& m = e.message;
  const bool ok = to.up && !Cut(m.from, m.to);
  if (m.type == MessageType::kSnapshot) {
    // The sender's stream finishes (or fails); it reports the outcome.
    Event report;
    report.kind = Event::Kind::kSnapshotReport;
    report.node = m.from;
    report.incarnation = nodes_.at(m.from).incarnation;
    report.message = m;
    report.ok = ok;
    Schedule(report, rng_.Range(1, delay_max_ms_));
    if (ok) to.received_snapshots[m.snapshot.index] = e.payload;
  }
  if (!ok) {
    // The transport sometimes notices that a peer is unreachable.
    if (m.type == MessageType::kAppend && rng_.Chance(0.2)) {
      Message peer;
      peer.to = m.to;
      Feed(nodes_.at(m.from), Input{Input::Kind::kUnreachable, std::move(peer), false, {}});
    }
    return;
  }
  if (options_.trace &&
      (m.type == MessageType::kVoteResponse || m.type == MessageType::kPreVoteResponse) &&
      !m.reject) {
    Trace(absl::StrCat("node ", m.from, " grants ", m.to, " its ",
                       m.type == MessageType::kVoteResponse ? "vote" : "pre-vote", " in term ",
                       m.term));
  }
  Feed(to, Input{Input::Kind::kMessage, std::move(m), false, {}});
}

void World::Feed(SimNode& n, Input in) {
  if (!n.up) return;
  n.inbox.push_back(std::move(in));
  // A node waiting for its disk takes the input when the write completes.
  if (!n.in_flight) Drive(n);
}

// Checks that can be made after any input to a node.
void World::AfterInput(SimNode& n) {
  const NodeStatus s = n.raw->Status();
  if (options_.trace && (s.role != n.seen_role || s.term != n.seen_term)) {
    Trace(absl::StrCat("node ", n.id, " is ", consensus::RoleName(s.role), " of term ", s.term,
                       " (log ", s.last_index, "@", n.raw->TermAt(s.last_index).value_or(0),
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
  if (s.role == Role::kLeader && n.disk->hard_state().term == s.term) {
    checker_.OnLeader(n.id, s.term, *n.raw);
  }
  if (s.commit < n.seen_commit) {
    checker_.Fail(
        absl::StrCat("node ", n.id, " commit went back from ", n.seen_commit, " to ", s.commit));
  } else if (s.commit > n.seen_commit) {
    checker_.OnCommit(n.id, s.term, n.seen_commit, s.commit, *n.raw);
    n.seen_commit = s.commit;
  }
  if (s.applied > s.commit) {
    checker_.Fail(absl::StrCat("node ", n.id, " applied ", s.applied, " > commit ", s.commit));
  }
  stats_.max_commit = std::max(stats_.max_commit, s.commit);
}

void World::Drive(SimNode& n) {
  while (n.up && !n.in_flight && !checker_.failed()) {
    while (!n.inbox.empty()) {
      Input in = std::move(n.inbox.front());
      n.inbox.pop_front();
      switch (in.kind) {
        case Input::Kind::kTick:
          n.raw->Tick();
          break;
        case Input::Kind::kMessage:
          CAIRN_CHECK_OK(n.raw->Step(in.message)) << "stepping a message the simulator built";
          break;
        case Input::Kind::kSnapshotReport:
          n.raw->ReportSnapshot(in.message.to, in.ok);
          break;
        case Input::Kind::kUnreachable:
          n.raw->ReportUnreachable(in.message.to);
          break;
        case Input::Kind::kCall:
          in.call(n);
          break;
      }
      AfterInput(n);
      if (checker_.failed()) return;  // stop at the first violation
    }
    if (!n.raw->HasReady()) return;
    n.in_flight = n.raw->GetReady();
    Ready& rd = *n.in_flight;
    for (Message& m : rd.messages_now) Send(n, std::move(m));
    rd.messages_now.clear();
    // Committed entries are durable already, so the real node applies them
    // before this Ready's own write (after it only when a snapshot replaces
    // the state). Either order must be safe; the simulator takes both.
    if (!rd.snapshot && rng_.Chance(0.7)) ApplyReady(n, rd);
    const bool disk = rd.snapshot || !rd.entries.empty() || rd.hard_state || rd.conf_state;
    if (disk) {
      Event done;
      done.kind = Event::Kind::kDiskDone;
      done.node = n.id;
      done.incarnation = n.incarnation;
      Schedule(done, rng_.Range(0, 4));
      return;
    }
    Complete(n);
  }
}

void World::Persist(SimNode& n, Ready& rd) {
  // The Ready contract: entries, a snapshot, or a new term or vote are synced.
  const consensus::HardState& was = n.disk->hard_state();
  const bool needs_sync =
      rd.snapshot || !rd.entries.empty() ||
      (rd.hard_state && (rd.hard_state->term != was.term || rd.hard_state->vote != was.vote));
  if (options_.check_lemmas && needs_sync && !rd.must_sync) {
    checker_.Fail(
        absl::StrCat("node ", n.id, ": a Ready that must be synced says must_sync false"));
  }
  if (rd.snapshot) {
    const Index index = rd.snapshot->index;
    auto it = n.received_snapshots.find(index);
    CAIRN_CHECK(it != n.received_snapshots.end()) << "no payload for snapshot " << index;
    checker_.OnInstallSnapshot(n.id, index, it->second);
    CAIRN_CHECK_OK(n.disk->ApplySnapshot(*rd.snapshot));
    n.applied = index;
    n.digest = it->second;
    n.snap_index = index;
    n.snap_digest = it->second;
    n.received_snapshots.erase(n.received_snapshots.begin(),
                               n.received_snapshots.upper_bound(index));
    ++stats_.snapshots_installed;
  }
  if (!rd.entries.empty()) {
    absl::StatusOr<Term> prev = n.disk->TermAt(rd.entries.front().index - 1);
    checker_.OnPersist(n.id, prev.ok() ? *prev : 0, prev.ok(), rd.entries);
    CAIRN_CHECK_OK(n.disk->Append(rd.entries));
  }
  if (rd.hard_state) {
    // Term and vote are always synced, so the durable term never goes back,
    // even across crashes. The commit index is written without sync and a
    // crash may lose its latest value, but no write lowers what is on disk.
    const consensus::HardState& old = n.disk->hard_state();
    if (rd.hard_state->term < n.synced_hard.term || rd.hard_state->commit < old.commit) {
      checker_.Fail(absl::StrCat("node ", n.id, " durable term/commit went backwards"));
    }
    n.disk->SetHardState(*rd.hard_state);
  }
  if (rd.conf_state) n.disk->SetConfState(*rd.conf_state);
  if (rd.must_sync) {
    n.synced_hard = n.disk->hard_state();
    n.synced_conf = n.disk->LoadInitialState()->conf_state;
    n.unsynced.clear();
  } else if (rd.hard_state || rd.conf_state) {
    n.unsynced.emplace_back(rd.hard_state, rd.conf_state);
  }
}

void World::Complete(SimNode& n) {
  Ready rd = std::move(*n.in_flight);
  Persist(n, rd);
  for (Message& m : rd.messages_after_persist) Send(n, std::move(m));
  ApplyReady(n, rd);
  n.in_flight.reset();
  n.raw->Advance();
  AfterInput(n);
}

// Applies the Ready's committed entries and answers its reads (once).
void World::ApplyReady(SimNode& n, Ready& rd) {
  for (const Entry& e : rd.committed_entries) Apply(n, e);
  for (const consensus::ReadState& r : rd.read_states) {
    checker_.OnReadState(n.id, r);
    ++stats_.reads_answered;
  }
  rd.committed_entries.clear();
  rd.read_states.clear();
}

void World::Apply(SimNode& n, const Entry& e) {
  checker_.OnApply(n.id, n.applied, e);
  n.applied = e.index;
  n.digest = ChainDigest(n.digest, e);
  auto it = proposals_.find({n.id, e.index});
  if (it != proposals_.end()) {
    const Proposal& p = it->second;
    if (p.incarnation == n.incarnation && p.term == e.term && p.data == e.data) {
      checker_.OnAck(e.index, e.term, n.raw->Status().term);
      ++stats_.acked;
      if (p.data == live_data_) {
        live_acked_ = true;
        live_index_ = e.index;
      }
    }
    proposals_.erase(it);
  }
  if (e.conf_change) {
    ++stats_.conf_changes_applied;
    if (e.conf_change->kind == consensus::ConfChange::Kind::kRemoveNode) {
      // The operator shuts a removed server down once its removal commits,
      // or forgets to: left running (and restarted after crashes), it must
      // not keep the cluster from making progress.
      SimNode& removed = nodes_.at(e.conf_change->node_id);
      if (!removed.removed) {
        removed.removed = true;
        removed.removal_index = e.index;
        if (rng_.Chance(0.5)) {
          removed.decommissioned = true;
          Trace(absl::StrCat("node ", removed.id, " is decommissioned"));
          if (removed.up && removed.id != n.id) Crash(removed);
        } else {
          ++stats_.removed_running;
          Trace(absl::StrCat("node ", removed.id, " is removed and left running"));
        }
      }
    }
  }
}

std::string World::DumpState() {
  std::string out;
  for (auto& [id, n] : nodes_) {
    if (!n.up) {
      absl::StrAppend(&out, "    node ", id, n.decommissioned ? ": decommissioned\n" : ": down\n");
      continue;
    }
    const NodeStatus s = n.raw->Status();
    absl::StrAppend(
        &out, "    node ", id, ": ", consensus::RoleName(s.role), " term ", s.term, " lead ",
        s.leader, " commit ", s.commit, " applied ", s.applied, " log [", s.first_index, ",",
        s.last_index, "] voters ", absl::StrJoin(s.conf_state.voters, ","), " learners ",
        absl::StrJoin(s.conf_state.learners, ","), n.in_flight ? " (writing)" : "", "\n");
    for (const consensus::FollowerProgress& p : n.raw->Progress()) {
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
    const NodeStatus s = n.raw->Status();
    if (s.term > best_term) {
      best_term = s.term;
      best = nullptr;
    }
    if (s.term == best_term && s.role == Role::kLeader) best = &n;
  }
  return best;
}

void World::DiskDone(Event& e) {
  SimNode& n = nodes_.at(e.node);
  if (!n.up || n.incarnation != e.incarnation || !n.in_flight) return;
  const bool voted = n.in_flight->hard_state && n.in_flight->hard_state->vote != 0 &&
                     n.in_flight->hard_state->vote != n.disk->hard_state().vote;
  const bool appends = !n.in_flight->entries.empty();
  // Power fails before the write is synced: it is lost, and so are the
  // messages that had to wait for it.
  if (faults_ && storm_ && rng_.Chance(voted || appends ? 0.01 : 0.002)) {
    Bounce(n);
    return;
  }
  Complete(n);
  // Crash points right after a write became durable, most often after a
  // vote: the moments where forgetting durable state would hurt.
  if (faults_ && storm_ && rng_.Chance(voted ? 0.2 : 0.002)) {
    Bounce(n);
    return;
  }
  Drive(n);
}

void World::Dispatch(Event& e) {
  switch (e.kind) {
    case Event::Kind::kTick: {
      SimNode& n = nodes_.at(e.node);
      Feed(n, Input{Input::Kind::kTick, {}, false, {}});
      Schedule(e, kTickMs);
      break;
    }
    case Event::Kind::kDeliver:
      Deliver(e);
      break;
    case Event::Kind::kDiskDone:
      DiskDone(e);
      break;
    case Event::Kind::kSnapshotReport: {
      SimNode& n = nodes_.at(e.node);
      if (n.incarnation != e.incarnation) break;  // reported to a node that restarted
      Message peer;
      peer.to = e.message.to;
      Feed(n, Input{Input::Kind::kSnapshotReport, std::move(peer), e.ok, {}});
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
    if (n.up) last = std::max(last, n.raw->Status().last_index);
  }
  Index backlog = 0;
  for (auto& [id, n] : nodes_) {
    if (n.up && n.raw->Status().last_index < last) {
      backlog = std::max(backlog, last - n.raw->Status().last_index);
    }
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
    const NodeStatus r = n.raw->Status();
    const auto& voters = r.conf_state.voters;
    if (std::find(voters.begin(), voters.end(), id) != voters.end() && r.commit < n.removal_index) {
      ++unaware;
    }
  }
  return unaware;
}

// Heals every fault, then requires a leader to commit a new proposal, and
// every live member to apply it, within a bounded number of ticks.
bool World::Liveness() {
  faults_ = false;
  Heal();
  loss_ = 0;
  duplicate_ = 0;
  delay_max_ms_ = 10;
  for (auto& [id, n] : nodes_) {
    if (!n.up && !n.decommissioned) Boot(n);
  }
  Trace("faults healed");
  const uint64_t healed = now_;
  liveness_bound_ms_ = LivenessBoundMs();
  const uint64_t deadline = now_ + liveness_bound_ms_;
  live_data_ = absl::StrCat("live-", options_.seed);
  uint64_t next_try = now_;
  while (now_ < deadline && !checker_.failed() && !events_.empty()) {
    SimNode* leader = Leader();
    if (live_acked_ && leader != nullptr) {
      // Every member catches up to the probe.
      const NodeStatus s = leader->raw->Status();
      bool all = true;
      for (const auto* ids : {&s.conf_state.voters, &s.conf_state.learners}) {
        for (NodeId id : *ids) all = all && nodes_.at(id).applied >= live_index_;
      }
      if (all) {
        stats_.removed_unaware = CountRemovedUnaware();
        stats_.liveness_ms = now_ - healed;
        return true;
      }
    } else if (!live_acked_ && now_ >= next_try) {
      next_try = now_ + 5 * kTickMs;
      if (leader != nullptr) Propose(*leader, live_data_);
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
