// The deployment of `cairn-drill --target local` (deployment.h): cairn-node
// processes on loopback with mutual TLS and the product's Raft timing, a
// file:// archive under the work dir. Every peer link of nodes 1-4 goes
// through a proxy (robustness/link_proxy.h), so a node can be cut off from
// its peers while clients still reach it. Faults are what an operator's
// world does to processes: SIGKILL, SIGSTOP, SIGTERM and restarts, links
// cut, the archive store unreachable (its root replaced by a file, so
// every read and write of it fails).
#pragma once

#include <string>
#include <vector>

#include "drill/deployment.h"
#include "robustness/nemesis.h"
#include "testing/cluster.h"

namespace cairn::drill {

class LocalDeployment : public Deployment {
 public:
  explicit LocalDeployment(std::string work_dir);

  std::string target() const override { return "local"; }
  absl::Status Start() override;
  const std::string& work_dir() const override { return work_dir_; }
  std::string ServiceCertFile() override { return cluster_.pki().service_cert(); }
  std::string ClientAddress(uint64_t id) override { return cluster_.node(id).client_address(); }

  client::ClientOptions ClientOptionsFor(const std::vector<uint64_t>& nodes) override {
    return view_.ClientOptionsFor(nodes);
  }
  double Metric(uint64_t id, const std::string& name) override { return view_.Metric(id, name); }
  std::string NodeLog(uint64_t id) override { return view_.NodeLog(id); }
  bool Running(uint64_t id) override { return view_.Running(id); }

  void Kill(uint64_t id) override { cluster_.node(id).Kill(); }
  absl::Status Restart(uint64_t id) override;
  void Pause(uint64_t id) override;
  void Resume(uint64_t id) override;
  absl::Status Stop(uint64_t id) override;
  absl::Status Isolate(uint64_t id) override;
  absl::Status HealLinks() override;
  std::string IsolationNote() const override { return "clients still reach it"; }
  absl::Status StoreDown() override;
  absl::Status StoreUp() override;
  void LoseRegion() override;
  absl::StatusOr<Recovery> RecoverInPairedRegion() override;

 protected:
  absl::StatusOr<std::string> Cairnctl(const std::vector<std::string>& args) override;
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> OpenArchive() override;
  std::vector<std::string> ArchiveFlags() override;
  absl::Status RemoveArchiveObject(const std::string& name) override;
  absl::Status StartJoiner(uint64_t id) override;
  std::pair<std::string, std::string> MemberAddresses(uint64_t id) override;
  std::string NodeCertFile(uint64_t id) override { return cluster_.pki().Node(id).cert; }

 private:
  std::string archive_url() const { return "file://" + archive_dir_; }
  testing::NodeProcess& AddNode(uint64_t id);

  const std::string work_dir_;
  const std::string archive_dir_;
  testing::TestCluster cluster_;
  robustness::TestClusterView view_{&cluster_};
  robustness::PeerLinks links_;
};

}  // namespace cairn::drill
