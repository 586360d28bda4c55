// Scenario-test cluster: synchronous Ready handling and a manual network.
#include "cluster.h"

#include <algorithm>

#include "cairn/base/check.h"

namespace cairn::consensus::testing {

Cluster::Cluster(const Config& base, std::vector<NodeId> voters, std::vector<NodeId> learners,
                 std::vector<NodeId> spares)
    : base_(base) {
  std::sort(voters.begin(), voters.end());
  std::sort(learners.begin(), learners.end());
  ConfState bootstrap{voters, learners};
  auto add = [&](NodeId id, const ConfState& conf) {
    TestNode& n = nodes_[id];
    n.id = id;
    n.config = base_;
    n.config.id = id;
    n.config.random_seed = id;
    n.storage = std::make_unique<MemoryStorage>(conf);
    Restart(id);
  };
  for (NodeId id : voters) add(id, bootstrap);
  for (NodeId id : learners) add(id, bootstrap);
  for (NodeId id : spares) add(id, ConfState{});
}

TestNode& Cluster::node(NodeId id) {
  auto it = nodes_.find(id);
  CAIRN_CHECK(it != nodes_.end()) << "no node " << id;
  return it->second;
}

RawNode& Cluster::raw(NodeId id) {
  TestNode& n = node(id);
  CAIRN_CHECK(n.raw != nullptr) << "node " << id << " is crashed";
  return *n.raw;
}

std::vector<NodeId> Cluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

void Cluster::HandleReady(TestNode& n, Ready rd) {
  // The ordering rule of Ready, synchronously: send-now, persist, send-after,
  // apply, advance.
  for (Message& m : rd.messages_now) queue_.push_back(std::move(m));
  if (rd.snapshot) {
    CAIRN_CHECK(n.incoming_snapshot.size() == rd.snapshot->index) << "snapshot payload mismatch";
    CAIRN_CHECK_OK(n.storage->ApplySnapshot(*rd.snapshot));
    n.applied = n.incoming_snapshot;
  }
  CAIRN_CHECK_OK(n.storage->Append(rd.entries));
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
  if (rd.conf_state) n.storage->SetConfState(*rd.conf_state);
  for (Message& m : rd.messages_after_persist) queue_.push_back(std::move(m));
  for (Entry& e : rd.committed_entries) n.applied.push_back(std::move(e));
  for (ReadState& r : rd.read_states) n.read_states.push_back(std::move(r));
  if (rd.soft_state) n.soft_states.push_back(*rd.soft_state);
  n.raw->Advance();
}

void Cluster::Process(NodeId id) {
  TestNode& n = node(id);
  while (n.raw != nullptr && !n.held && n.raw->HasReady()) HandleReady(n, n.raw->GetReady());
}

void Cluster::Release(NodeId id) {
  node(id).held = false;
  Process(id);
}

void Cluster::ProcessAll() {
  for (auto& [id, n] : nodes_) Process(id);
}

void Cluster::DeliverOne(Message m) {
  TestNode& from = node(m.from);
  const bool cut = cut_.count({m.from, m.to}) > 0;
  TestNode& to = node(m.to);
  if (m.type == MessageType::kSnapshot) {
    // The node streams the payload out of band; the leader learns the outcome.
    const bool ok = !cut && to.raw != nullptr;
    if (from.raw != nullptr) {
      from.raw->ReportSnapshot(m.to, ok);
      Process(m.from);
    }
    if (!ok) return;
  }
  if (cut || to.raw == nullptr) return;
  if (m.type == MessageType::kSnapshot) to.incoming_snapshot = from.snapshot_payload;
  CAIRN_CHECK_OK(to.raw->Step(m));
  Process(m.to);
}

size_t Cluster::Deliver(const std::function<bool(const Message&)>& filter, size_t max_messages) {
  ProcessAll();
  size_t delivered = 0;
  while (delivered < max_messages) {
    auto it = std::find_if(queue_.begin(), queue_.end(), filter);
    if (it == queue_.end()) break;
    Message m = std::move(*it);
    queue_.erase(it);
    DeliverOne(std::move(m));
    ++delivered;
  }
  return delivered;
}

size_t Cluster::Drop(const std::function<bool(const Message&)>& filter) {
  const size_t before = queue_.size();
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(), filter), queue_.end());
  return before - queue_.size();
}

void Cluster::Partition(const std::vector<std::vector<NodeId>>& groups) {
  cut_.clear();
  std::map<NodeId, size_t> group_of;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (NodeId id : groups[g]) group_of[id] = g;
  }
  for (NodeId a : ids()) {
    for (NodeId b : ids()) {
      if (a == b) continue;
      auto ga = group_of.find(a), gb = group_of.find(b);
      // Nodes not named in any group are reachable from everyone.
      if (ga != group_of.end() && gb != group_of.end() && ga->second != gb->second) Cut(a, b);
    }
  }
}

void Cluster::Tick(NodeId id) {
  if (!alive(id)) return;
  raw(id).Tick();
  Process(id);
}

void Cluster::Crash(NodeId id) {
  TestNode& n = node(id);
  n.raw.reset();
  n.held = false;
  n.read_states.clear();
  // Messages to a crashed node are lost; its own queued messages already left.
  queue_.erase(
      std::remove_if(queue_.begin(), queue_.end(), [id](const Message& m) { return m.to == id; }),
      queue_.end());
}

void Cluster::Restart(NodeId id) {
  TestNode& n = node(id);
  // The applied entries model a durable state machine: it survives restarts.
  n.config.applied = n.applied.size();
  absl::StatusOr<std::unique_ptr<RawNode>> raw = RawNode::Create(n.config, n.storage.get());
  CAIRN_CHECK_OK(raw.status()) << "restarting node " << id;
  n.raw = *std::move(raw);
}

void Cluster::Compact(NodeId id, Index index) {
  TestNode& n = node(id);
  // Only a snapshot at the applied index knows its membership exactly.
  CAIRN_CHECK(index == n.applied.size() && index == raw(id).Status().applied)
      << "compact only at the applied index (" << n.applied.size() << ")";
  CAIRN_CHECK_OK(n.storage->Compact(index, raw(id).AppliedConfState()));
  n.snapshot_payload = n.applied;
}

}  // namespace cairn::consensus::testing
