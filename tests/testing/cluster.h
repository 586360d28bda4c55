// A real Cairn cluster for integration tests: N cairn-node processes on
// loopback with mTLS, one service identity (TestPki), the user "admin" as the
// first Administrator, fast Raft timing (20 ms ticks, 200-400 ms elections).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "testing/node_process.h"
#include "testing/pki.h"

namespace cairn::testing {

class TestCluster {
 public:
  // Prepares `size` nodes (ids 1..size) under `work_dir`; `extra_args` go to every node.
  TestCluster(const std::string& work_dir, size_t size, std::vector<std::string> extra_args = {});

  // Starts every node and waits until a leader has applied the genesis.
  absl::Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Starts (or restarts) one node with the cluster's arguments, its own
  // (SetNodeArgs) and `extra`.
  absl::Status StartNode(uint64_t id, const std::vector<std::string>& extra = {});
  // Arguments node `id` gets on every start from now on (e.g. --peer-route).
  void SetNodeArgs(uint64_t id, std::vector<std::string> args) { node_args_[id] = std::move(args); }
  // Adds to those arguments.
  void AddNodeArgs(uint64_t id, const std::vector<std::string>& args) {
    node_args_[id].insert(node_args_[id].end(), args.begin(), args.end());
  }

  // Polls until exactly one running node reports itself leader; returns its id.
  absl::StatusOr<uint64_t> WaitForLeader(
      std::chrono::milliseconds timeout = std::chrono::seconds(20), uint64_t not_id = 0);
  // Polls until every running node has applied at least `index`.
  absl::Status WaitForApplied(double index,
                              std::chrono::milliseconds timeout = std::chrono::seconds(20));

  NodeProcess& node(uint64_t id) { return *nodes_.at(id - 1); }
  size_t size() const { return nodes_.size(); }
  TestPki& pki() { return pki_; }
  const std::string& initial_cluster() const { return initial_cluster_; }
  // Adds a node object (id size()+1) not yet in the cluster, for membership tests.
  NodeProcess& AddNodeObject();
  // "--endpoint=..." listing every node's client address.
  std::vector<std::string> Endpoints() const;

 private:
  std::string work_dir_;
  TestPki pki_;
  std::vector<std::string> extra_args_;
  std::map<uint64_t, std::vector<std::string>> node_args_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::string initial_cluster_;
};

}  // namespace cairn::testing
