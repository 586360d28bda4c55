// A small, fully controlled cluster of RawNodes for scenario tests.
//
// Unlike the simulator (tests/sim), nothing here is random: each node's Ready
// is handled synchronously (persist to MemoryStorage, queue messages, apply,
// Advance) whenever it has one, and messages wait in one FIFO queue until a
// test delivers or drops them, so a test can stage any interleaving it wants,
// such as the one in Figure 8 of the Raft paper.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cairn/consensus/memory_storage.h"
#include "cairn/consensus/raw_node.h"

namespace cairn::consensus::testing {

struct TestNode {
  NodeId id = kNoNode;
  Config config;
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> raw;  // null while crashed
  // The "state machine": every entry applied, in order, from index 1; it is
  // durable (survives crashes), like the ledger's tables.
  std::vector<Entry> applied;
  // The payload of this node's latest snapshot (its state machine then).
  std::vector<Entry> snapshot_payload;
  // The payload that arrived with the last kSnapshot message received.
  std::vector<Entry> incoming_snapshot;
  std::vector<ReadState> read_states;
  std::vector<SoftState> soft_states;
  // A held node's disk is stalled: its Readies wait until it is released.
  bool held = false;
};

class Cluster {
 public:
  // Nodes `voters` start as a cluster with that membership (and `learners`);
  // `spares` exist with empty storage, ready to be added as learners.
  Cluster(const Config& base, std::vector<NodeId> voters, std::vector<NodeId> learners,
          std::vector<NodeId> spares);

  TestNode& node(NodeId id);
  RawNode& raw(NodeId id);
  bool alive(NodeId id) { return node(id).raw != nullptr; }
  std::vector<NodeId> ids() const;

  // Handles every Ready of `id` until it has none.
  void Process(NodeId id);
  // Handles one Ready the test took from node `id` itself (and inspected).
  void Handle(NodeId id, Ready rd) { HandleReady(node(id), std::move(rd)); }
  void ProcessAll();

  // Delivers queued messages, each followed by the recipient's Readies, until
  // the queue is empty or `max_messages` were delivered. Messages that match
  // `filter` only are delivered; the others stay queued.
  size_t Deliver(const std::function<bool(const Message&)>& filter, size_t max_messages = 100000);
  size_t DeliverAll() {
    return Deliver([](const Message&) { return true; });
  }
  // Removes queued messages that match.
  size_t Drop(const std::function<bool(const Message&)>& filter);
  const std::deque<Message>& queue() const { return queue_; }

  // Network faults: a cut link drops messages at delivery time.
  void Cut(NodeId from, NodeId to) { cut_.insert({from, to}); }
  void Partition(const std::vector<std::vector<NodeId>>& groups);
  void Heal() { cut_.clear(); }

  void Tick(NodeId id);
  // Stalls node `id`'s I/O loop (it takes input but handles no Ready) until
  // Release, which handles everything that accumulated.
  void Hold(NodeId id) { node(id).held = true; }
  void Release(NodeId id);
  void Crash(NodeId id);
  void Restart(NodeId id);
  // Takes a snapshot at `index` (<= applied) and compacts the log to it.
  void Compact(NodeId id, Index index);

 private:
  void HandleReady(TestNode& n, Ready rd);
  void DeliverOne(Message m);

  Config base_;
  std::map<NodeId, TestNode> nodes_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;
};

}  // namespace cairn::consensus::testing
