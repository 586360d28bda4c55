// What a simulated node's loop does through its seams: its disk (persist,
// compact), its state machine (apply, sign state), its network (messages,
// snapshot streams) and its signer (see world.h).
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/v1/log.pb.h"
#include "world.h"

namespace cairn::sim {
namespace {

// The stand-in Merkle root of a state: its digest, widened.
ledger::Hash RootOf(uint64_t digest) {
  ledger::Hash root{};
  std::memcpy(root.data(), &digest, sizeof digest);
  return root;
}

// A snapshot stream that arrived whole: installing it replaces the node's
// log and state machine with the sender's at the snapshot index.
class SimSnapshot final : public node::IncomingSnapshot {
 public:
  SimSnapshot(std::function<void(const consensus::SnapshotMeta&)> install)
      : install_(std::move(install)) {}
  absl::Status Install(const consensus::SnapshotMeta& meta) override {
    install_(meta);
    return absl::OkStatus();
  }

 private:
  std::function<void(const consensus::SnapshotMeta&)> install_;
};

}  // namespace

consensus::LogStorage* SimSeams::reader() { return &node_->durable.disk; }
absl::Status SimSeams::Save(const node::DurableLog::Write& write) {
  return world_->Persist(*node_, write);
}
absl::Status SimSeams::Compact(Index index, std::optional<consensus::ConfState> conf_state) {
  return world_->CompactLog(*node_, index, std::move(conf_state));
}
std::vector<node::ApplyResult> SimSeams::Apply(const std::vector<Entry>& entries) {
  return world_->ApplyEntries(*node_, entries);
}
uint64_t SimSeams::applied_index() const { return node_->durable.machine.applied; }
uint64_t SimSeams::signed_tree_size() const { return node_->durable.machine.signed_size; }
node::SignState SimSeams::sign_state() const {
  const MachineState& m = node_->durable.machine;
  node::SignState s;
  s.applied_index = m.applied;
  s.applied_term = m.applied_term;
  s.root = RootOf(m.digest);
  s.signed_tree_size = m.signed_size;
  s.last_signable_index = m.last_signable;
  s.unsigned_since = TimeAt(m.unsigned_since_ms);
  return s;
}
void SimSeams::Send(std::vector<Message> messages) {
  for (Message& m : messages) world_->SendMessage(*node_, std::move(m));
}
void SimSeams::Send(Message message) { world_->SendSnapshot(*node_, std::move(message)); }
absl::StatusOr<std::string> SimSeams::SignatureCommand(uint64_t tree_size, const ledger::Hash& root,
                                                       uint64_t last_term) {
  v1::LogCommand command;
  v1::Checkpoint* c = command.mutable_signature()->mutable_checkpoint()->mutable_checkpoint();
  c->set_tree_size(tree_size);
  c->set_root_hash(root.data(), root.size());
  c->set_last_txid(ledger::TxId{last_term, tree_size}.ToString());
  return command.SerializeAsString();
}

absl::Status World::Persist(SimNode& n, const node::DurableLog::Write& w) {
  DurableState& d = n.durable;
  consensus::MemoryStorage& disk = d.disk;
  // The Ready contract: entries, or a new term or vote, are synced.
  const consensus::HardState& was = disk.hard_state();
  const bool needs_sync =
      !w.entries.empty() ||
      (w.hard_state && (w.hard_state->term != was.term || w.hard_state->vote != was.vote));
  if (options_.check_lemmas && needs_sync && !w.must_sync) {
    checker_.Fail(
        absl::StrCat("node ", n.id, ": a write that must be synced says must_sync false"));
  }
  // Power fails in the middle of this write: it, and all the node does after
  // it in this drive, never happened (World::Drive crashes the node then).
  const bool voted = w.hard_state && w.hard_state->vote != 0 && w.hard_state->vote != was.vote;
  if (!n.doomed && faults_ && storm_ && rng_.Chance(voted || !w.entries.empty() ? 0.01 : 0.002)) {
    Trace(absl::StrCat("node ", n.id, ": power fails during a write"));
    n.doomed = d;
  }
  n.write_delay += rng_.Range(0, 4);
  n.wrote = true;
  n.voted |= voted;
  if (!w.entries.empty()) {
    absl::StatusOr<Term> prev = disk.TermAt(w.entries.front().index - 1);
    const std::vector<Entry> entries(w.entries.begin(), w.entries.end());
    if (!n.doomed) checker_.OnPersist(n.id, prev.ok() ? *prev : 0, prev.ok(), entries);
    CAIRN_CHECK_OK(disk.Append(entries));
  }
  if (w.hard_state) {
    // Term and vote are always synced, so the durable term never goes back,
    // even across crashes. The commit index is written without sync and a
    // crash may lose its latest value, but no write lowers what is on disk.
    if (w.hard_state->term < d.synced_hard.term || w.hard_state->commit < was.commit) {
      checker_.Fail(absl::StrCat("node ", n.id, " durable term/commit went backwards"));
    }
    disk.SetHardState(*w.hard_state);
  }
  if (w.conf_state) disk.SetConfState(*w.conf_state);
  if (w.must_sync) {
    d.synced_hard = disk.hard_state();
    d.synced_conf = disk.LoadInitialState()->conf_state;
    d.unsynced.clear();
  } else if (w.hard_state || w.conf_state) {
    d.unsynced.emplace_back(w.hard_state, w.conf_state);
  }
  return absl::OkStatus();
}

absl::Status World::CompactLog(SimNode& n, Index index, std::optional<consensus::ConfState> conf) {
  DurableState& d = n.durable;
  // The simulator keeps no retained tail (snapshot_retain_entries 0), so
  // the loop compacts to its applied index and knows the membership there.
  CAIRN_CHECK(conf.has_value()) << "compaction below the applied index";
  CAIRN_CHECK(index == d.machine.applied)
      << "compaction to " << index << ", applied " << d.machine.applied;
  CAIRN_CHECK_OK(d.disk.Compact(index, *conf));
  d.snap_index = index;
  d.snap_state = d.machine;
  ++stats_.compactions;
  Trace(absl::StrCat("node ", n.id, " compacts to ", index));
  return absl::OkStatus();
}

std::vector<node::ApplyResult> World::ApplyEntries(SimNode& n, const std::vector<Entry>& entries) {
  // The core committed these during this drive: the checker hears of the
  // commit before the apply, as the order of events was.
  if (!n.doomed) CheckCommit(n, n.loop->core().Status());
  std::vector<node::ApplyResult> results(entries.size());
  for (size_t k = 0; k < entries.size(); ++k) ApplyOne(n, entries[k], &results[k]);
  return results;
}

void World::ApplyOne(SimNode& n, const Entry& e, node::ApplyResult* result) {
  MachineState& m = n.durable.machine;
  if (!n.doomed) checker_.OnApply(n.id, m.applied, e);
  m.applied = e.index;
  m.applied_term = e.term;
  m.digest = ChainDigest(m.digest, e);
  result->txid = ledger::TxId{e.term, e.index};
  // (An apply after power failed never happened: it records nothing.)
  const bool first =
      !n.doomed && applied_data_.emplace(e.index, std::make_pair(e.term, e.data)).second;
  v1::LogCommand command;
  const bool parsed = !e.conf_change && !e.data.empty() && command.ParseFromString(e.data);
  bool signable = e.conf_change.has_value();
  if (parsed && command.has_user()) {
    // The idempotency rule of the ledger (apply/idempotency.h).
    signable = true;
    const node::AppendIdentity id = node::IdentityOf(command.user());
    result->key = id.key;
    if (id.has_key()) {
      auto [held, added] = m.keys.try_emplace(id.key, result->txid, id.digest);
      if (!added) {
        if (held->second.second == id.digest) {
          result->duplicate_of = held->second.first;
        } else {
          result->key_held_by = held->second.first;
        }
      }
    }
  } else if (parsed && command.has_signature()) {
    // Followers check the leader's checkpoint against their own history:
    // it never shrinks, covers only entries before it, and its root is the
    // state every node reached at that size.
    const v1::Checkpoint& c = command.signature().checkpoint().checkpoint();
    if (n.doomed) {
      // Power failed earlier in this drive: this apply never happens.
    } else if (c.tree_size() < m.signed_size || c.tree_size() >= e.index) {
      checker_.Fail(absl::StrCat("node ", n.id, " applies a checkpoint of size ", c.tree_size(),
                                 " at index ", e.index, " after one of size ", m.signed_size));
    } else {
      const ledger::Hash expected = RootOf(checker_.DigestAt(c.tree_size()));
      if (c.root_hash() !=
          absl::string_view(reinterpret_cast<const char*>(expected.data()), expected.size())) {
        checker_.Fail(absl::StrCat("node ", n.id, " applies a checkpoint at ", e.index,
                                   " whose root is not the state at size ", c.tree_size()));
      }
    }
    m.signed_size = c.tree_size();
    if (m.last_signable > m.signed_size) m.unsigned_since_ms = now_;
    if (first) ++stats_.signatures;
  }
  if (signable) {
    if (m.last_signable <= m.signed_size) m.unsigned_since_ms = now_;
    m.last_signable = e.index;
  }
  if (e.conf_change && !n.doomed) {
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

void World::SendMessage(SimNode& from, Message m) {
  if (Silenced(from)) return;
  if (m.type == MessageType::kVoteResponse && !m.reject) {
    checker_.OnVoteGranted(m.from, m.term, m.to);
  }
  if (Cut(m.from, m.to) || rng_.Chance(loss_)) return;
  Event e;
  e.kind = Event::Kind::kDeliver;
  e.node = m.to;
  // Sent after a write of this drive: it leaves when that write completes.
  const uint64_t delay = from.write_delay + rng_.Range(1, delay_max_ms_);
  const bool duplicate = rng_.Chance(duplicate_);
  e.message = std::move(m);
  if (duplicate) Schedule(e, from.write_delay + rng_.Range(1, delay_max_ms_));
  Schedule(std::move(e), delay);
}

void World::SendSnapshot(SimNode& from, Message m) {
  if (Silenced(from)) return;
  Event e;
  e.kind = Event::Kind::kDeliver;
  e.node = m.to;
  // The node streams its current snapshot; if it compacted again since the
  // core chose that one, the stream fails.
  const bool stale = from.durable.snap_index != m.snapshot.index;
  if (stale || Cut(m.from, m.to) || rng_.Chance(loss_)) {
    Event report;
    report.kind = Event::Kind::kSnapshotReport;
    report.node = m.from;
    report.incarnation = from.incarnation;
    report.message = std::move(m);
    report.ok = false;
    Schedule(std::move(report), rng_.Range(1, 5 * kTickMs));
    return;
  }
  e.snapshot = std::make_shared<const MachineState>(from.durable.snap_state);
  e.message = std::move(m);
  Schedule(std::move(e), from.write_delay + rng_.Range(1, delay_max_ms_));
}

void World::InstallSnapshot(SimNode& n, const consensus::SnapshotMeta& meta,
                            const MachineState& payload) {
  CAIRN_CHECK(payload.applied == meta.index)
      << "snapshot payload at " << payload.applied << " for snapshot " << meta.index;
  if (!n.doomed) checker_.OnInstallSnapshot(n.id, meta.index, payload.digest);
  DurableState& d = n.durable;
  CAIRN_CHECK_OK(d.disk.ApplySnapshot(meta));
  // Installed in one durable step (storage::SnapshotSink::Install).
  d.synced_hard = d.disk.hard_state();
  d.synced_conf = d.disk.LoadInitialState()->conf_state;
  d.unsynced.clear();
  d.machine = payload;
  d.snap_index = meta.index;
  d.snap_state = payload;
  ++stats_.snapshots_installed;
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
  }
  if (!ok) {
    // The transport sometimes notices that a peer is unreachable.
    if (m.type == MessageType::kAppend && rng_.Chance(0.2)) {
      Event report;
      report.kind = Event::Kind::kUnreachable;
      report.node = m.from;
      report.incarnation = nodes_.at(m.from).incarnation;
      report.message.to = m.to;
      Schedule(std::move(report), 0);
    }
    return;
  }
  if (m.type == MessageType::kSnapshot) {
    std::shared_ptr<const MachineState> payload = e.snapshot;
    World* world = this;
    SimNode* node = &to;
    to.loop->ReceiveSnapshot(
        std::move(m),
        std::make_unique<SimSnapshot>([world, node, payload](const consensus::SnapshotMeta& meta) {
          world->InstallSnapshot(*node, meta, *payload);
        }));
  } else {
    to.loop->Step({std::move(m)});
  }
  Drive(to, /*tick=*/false);
}

}  // namespace cairn::sim
