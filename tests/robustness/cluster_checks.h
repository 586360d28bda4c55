// Checks of a real cluster after a run, shared by the robustness suite and
// cairn-drill: every replica lists the same entries and serves the same
// checkpoint, no node died on its own, and every node has applied the same
// index. They see the cluster through ClusterView (processes of a
// TestCluster, or containers), and each takes the ids of the nodes to look
// at, so a caller can leave out nodes it killed on purpose (a lost region).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cairn/client/client.h"
#include "robustness/checker.h"
#include "robustness/history.h"
#include "testing/cluster.h"

namespace cairn::robustness {

// What the checks need of a cluster's nodes.
class ClusterView {
 public:
  virtual ~ClusterView() = default;
  // Client options for the admin user against `nodes` (verified state off:
  // the checks compare what each node serves).
  virtual client::ClientOptions ClientOptionsFor(const std::vector<uint64_t>& nodes) = 0;
  // A gauge from node `id`'s /metrics; -1 if unreadable.
  virtual double Metric(uint64_t id, const std::string& name) = 0;
  // Everything node `id` logged, across restarts.
  virtual std::string NodeLog(uint64_t id) = 0;
  virtual bool Running(uint64_t id) = 0;
};

// A TestCluster's processes.
class TestClusterView : public ClusterView {
 public:
  explicit TestClusterView(testing::TestCluster* cluster) : cluster_(cluster) {}
  client::ClientOptions ClientOptionsFor(const std::vector<uint64_t>& nodes) override;
  double Metric(uint64_t id, const std::string& name) override {
    return cluster_->node(id).Metric(name);
  }
  std::string NodeLog(uint64_t id) override { return cluster_->node(id).Log(); }
  bool Running(uint64_t id) override { return cluster_->node(id).Running(); }

 private:
  testing::TestCluster* const cluster_;
};

// Waits until every node of `nodes` has applied the same index, and it
// stays put for three polls.
absl::Status WaitConverged(ClusterView& cluster, const std::vector<uint64_t>& nodes);

// Every replica of `nodes` lists the same entries of `collections` as
// `reference`, and they all serve the same checkpoint.
std::vector<Anomaly> CheckReplicas(ClusterView& cluster, const std::vector<uint64_t>& nodes,
                                   const std::vector<std::string>& collections,
                                   const std::vector<LedgerEntry>& reference);

// Nodes of `nodes` that died on their own: a FATAL (broken invariant,
// failed disk) or HALT line in their log, which survives restarts, or not
// running although they should be. SIGKILL leaves no such line.
std::vector<Anomaly> CrashedNodes(ClusterView& cluster, const std::vector<uint64_t>& nodes);

}  // namespace cairn::robustness
