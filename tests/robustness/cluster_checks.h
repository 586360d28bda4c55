// Checks of a real cluster after a run, shared by the robustness suite and
// cairn-drill: every replica lists the same entries and serves the same
// checkpoint, no node died on its own, and every node has applied the same
// index. Each takes the ids of the nodes to look at, so a caller can leave
// out nodes it killed on purpose (a lost region) or a geo-replica.
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

// Client options for the admin user against `nodes` (verified state off:
// the checks compare what each node serves).
client::ClientOptions ClientFor(testing::TestCluster& cluster, const std::vector<uint64_t>& nodes);

// Waits until every node of `nodes` has applied the same index, and it
// stays put for three polls.
absl::Status WaitConverged(testing::TestCluster& cluster, const std::vector<uint64_t>& nodes);

// Every replica of `nodes` lists the same entries of `collections` as
// `reference`, and they all serve the same checkpoint.
std::vector<Anomaly> CheckReplicas(testing::TestCluster& cluster,
                                   const std::vector<uint64_t>& nodes,
                                   const std::vector<std::string>& collections,
                                   const std::vector<LedgerEntry>& reference);

// Nodes of `nodes` that died on their own: a FATAL (broken invariant,
// failed disk) or HALT line in their log, which survives restarts, or not
// running although they should be. SIGKILL leaves no such line.
std::vector<Anomaly> CrashedNodes(testing::TestCluster& cluster,
                                  const std::vector<uint64_t>& nodes);

}  // namespace cairn::robustness
