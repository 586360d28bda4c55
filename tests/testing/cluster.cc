// Integration-test clusters (see cluster.h).
#include "testing/cluster.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cairn::testing {

TestCluster::TestCluster(const std::string& work_dir, size_t size,
                         std::vector<std::string> extra_args)
    : work_dir_(work_dir), pki_(work_dir), extra_args_(std::move(extra_args)) {
  std::vector<std::string> specs;
  for (size_t i = 1; i <= size; ++i) {
    nodes_.push_back(std::make_unique<NodeProcess>(&pki_, i, work_dir_));
    specs.push_back(nodes_.back()->MemberSpec());
  }
  initial_cluster_ = absl::StrJoin(specs, ",");
  for (auto& n : nodes_) n->set_initial_cluster(initial_cluster_);
}

NodeProcess& TestCluster::AddNodeObject() {
  nodes_.push_back(std::make_unique<NodeProcess>(&pki_, nodes_.size() + 1, work_dir_));
  nodes_.back()->set_initial_cluster(initial_cluster_);
  return *nodes_.back();
}

absl::Status TestCluster::StartNode(uint64_t id, const std::vector<std::string>& extra) {
  std::vector<std::string> args = extra_args_;
  if (auto it = node_args_.find(id); it != node_args_.end()) {
    args.insert(args.end(), it->second.begin(), it->second.end());
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return node(id).Start(args);
}

absl::Status TestCluster::Start(std::chrono::milliseconds timeout) {
  for (size_t i = 1; i <= nodes_.size(); ++i) {
    if (absl::Status st = StartNode(i); !st.ok()) return st;
  }
  for (auto& n : nodes_) {
    if (absl::Status st = n->WaitReady(timeout); !st.ok()) return st;
  }
  return WaitForLeader(timeout).status();
}

absl::StatusOr<uint64_t> TestCluster::WaitForLeader(std::chrono::milliseconds timeout,
                                                    uint64_t not_id) {
  uint64_t leader = 0;
  absl::Status st = PollUntil(
      [&] {
        leader = 0;
        int leaders = 0;
        for (auto& n : nodes_) {
          if (!n->Running() || n->Metric("cairn_raft_is_leader") != 1) continue;
          ++leaders;
          leader = n->node_id();
        }
        return leaders == 1 && leader != not_id;
      },
      timeout, "a single leader");
  if (!st.ok()) return st;
  return leader;
}

absl::Status TestCluster::WaitForApplied(double index, std::chrono::milliseconds timeout) {
  return PollUntil(
      [&] {
        for (auto& n : nodes_) {
          if (n->Running() && n->Metric("cairn_raft_applied_index") < index) return false;
        }
        return true;
      },
      timeout, absl::StrCat("every running node to apply index ", index));
}

std::vector<std::string> TestCluster::Endpoints() const {
  std::vector<std::string> addresses;
  for (const auto& n : nodes_) addresses.push_back(n->client_address());
  return {"--endpoint=" + absl::StrJoin(addresses, ",")};
}

}  // namespace cairn::testing
