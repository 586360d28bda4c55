// Checks of a real cluster after a run (see cluster_checks.h).
#include "robustness/cluster_checks.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "robustness/workload.h"
#include "testing/process.h"

namespace cairn::robustness {

client::ClientOptions TestClusterView::ClientOptionsFor(const std::vector<uint64_t>& nodes) {
  client::ClientOptions o;
  for (uint64_t id : nodes) o.endpoints.push_back(cluster_->node(id).client_address());
  const testing::CertFiles admin = cluster_->pki().User("admin");
  o.credentials.cert_file = admin.cert;
  o.credentials.key_file = admin.key;
  o.credentials.service_cert_file = cluster_->pki().service_cert();
  o.verified_state.enabled = false;
  return o;
}

absl::Status WaitConverged(ClusterView& cluster, const std::vector<uint64_t>& nodes) {
  double last = -1;
  int stable = 0;
  return testing::PollUntil(
      [&] {
        const double first = cluster.Metric(nodes.front(), "cairn_raft_applied_index");
        for (uint64_t id : nodes) {
          if (cluster.Metric(id, "cairn_raft_applied_index") != first) return false;
        }
        stable = (first == last && first > 0) ? stable + 1 : 0;
        last = first;
        return stable >= 3;
      },
      std::chrono::seconds(60), "every replica to apply the same index");
}

std::vector<Anomaly> CheckReplicas(ClusterView& cluster, const std::vector<uint64_t>& nodes,
                                   const std::vector<std::string>& collections,
                                   const std::vector<LedgerEntry>& reference) {
  std::vector<Anomaly> out;
  std::string first_root;
  for (uint64_t id : nodes) {
    auto c = client::Client::Create(cluster.ClientOptionsFor({id}));
    if (!c.ok()) {
      out.push_back({AnomalyKind::kReplicaDivergence, std::string(c.status().message())});
      continue;
    }
    auto entries = ReadLedger(c->get(), collections);
    if (!entries.ok() || entries->size() != reference.size() ||
        !std::equal(entries->begin(), entries->end(), reference.begin(),
                    [](const LedgerEntry& a, const LedgerEntry& b) {
                      return a.index == b.index && a.term == b.term && a.contents == b.contents;
                    })) {
      out.push_back({AnomalyKind::kReplicaDivergence,
                     absl::StrCat("replica ", id, " lists other entries than the leader (",
                                  entries.ok() ? absl::StrCat(entries->size(), " entries")
                                               : std::string(entries.status().message()),
                                  ", expected ", reference.size(), ")")});
    }
    auto cp = (*c)->GetLatestCheckpoint();
    if (!cp.ok()) {
      out.push_back(
          {AnomalyKind::kMalformedInput,
           absl::StrCat("replica ", id, " serves no checkpoint: ", cp.status().message())});
      continue;
    }
    const std::string root = cp->checkpoint().SerializeAsString();
    if (id == nodes.front()) first_root = root;
    if (root != first_root) {
      out.push_back({AnomalyKind::kReplicaDivergence,
                     absl::StrCat("replica ", id, " serves another checkpoint than replica ",
                                  nodes.front())});
    }
  }
  return out;
}

std::vector<Anomaly> CrashedNodes(ClusterView& cluster, const std::vector<uint64_t>& nodes) {
  std::vector<Anomaly> out;
  for (uint64_t id : nodes) {
    const std::string log = cluster.NodeLog(id);
    size_t at = log.find("FATAL");
    if (at == std::string::npos) at = log.find("HALT");
    if (at != std::string::npos) {
      out.push_back({AnomalyKind::kNodeCrashed,
                     absl::StrCat("node ", id, ": ", log.substr(at, log.find('\n', at) - at))});
    } else if (!cluster.Running(id)) {
      out.push_back({AnomalyKind::kNodeCrashed,
                     absl::StrCat("node ", id, " exited with no FATAL line in its log")});
    }
  }
  return out;
}

}  // namespace cairn::robustness
