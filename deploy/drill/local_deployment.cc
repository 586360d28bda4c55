// The local deployment of a drill (see local_deployment.h).
#include "drill/local_deployment.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "testing/process.h"

namespace cairn::drill {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::PollUntil;

LocalDeployment::LocalDeployment(std::string work_dir)
    : work_dir_(std::move(work_dir)),
      archive_dir_(work_dir_ + "/paired-archive"),
      cluster_(work_dir_, kVoters) {
  AddNode(kGeoReplica);
}

testing::NodeProcess& LocalDeployment::AddNode(uint64_t id) {
  while (cluster_.size() < id) cluster_.AddNodeObject().set_product_timing(true);
  return cluster_.node(id);
}

absl::Status LocalDeployment::Start() {
  for (uint64_t id = 1; id <= kVoters; ++id) cluster_.node(id).set_product_timing(true);
  // Every peer link of nodes 1-4 through a proxy.
  if (absl::Status st = links_.Wire(&cluster_); !st.ok()) return st;
  for (uint64_t id = 1; id <= kVoters; ++id) cluster_.AddNodeArgs(id, {"--region", "primary"});
  cluster_.AddNodeArgs(kGeoReplica, {"--join", "--role", "geo-replica", "--region", "paired",
                                     "--archive-url", archive_url()});
  for (uint64_t id = 1; id <= kVoters; ++id) {
    if (absl::Status st = cluster_.StartNode(id); !st.ok()) return st;
  }
  for (uint64_t id = 1; id <= kVoters; ++id) {
    if (absl::Status st = cluster_.node(id).WaitReady(std::chrono::seconds(60)); !st.ok()) {
      return st;
    }
  }
  if (absl::Status st = WaitForLeader().status(); !st.ok()) return st;
  absl::StatusOr<std::string> r =
      Cairnctl({"residency", "set", "--allowed-regions", "primary,paired"});
  if (!r.ok()) return r.status();
  testing::NodeProcess& geo = cluster_.node(kGeoReplica);
  const auto [peer, client] = MemberAddresses(kGeoReplica);
  r = Cairnctl({"nodes", "add-learner", "--node-id", std::to_string(kGeoReplica), "--peer-address",
                peer, "--client-address", client, "--cert-file", NodeCertFile(kGeoReplica),
                "--region", "paired"});
  if (!r.ok()) return r.status();
  if (absl::Status st = cluster_.StartNode(kGeoReplica); !st.ok()) return st;
  geo_running_ = true;
  if (absl::Status st = geo.WaitReady(std::chrono::seconds(60)); !st.ok()) return st;
  return PollUntil([&] { return ArchivedIndex() > 0; }, std::chrono::seconds(60),
                   "the geo-replica to archive the genesis");
}

absl::StatusOr<std::string> LocalDeployment::Cairnctl(const std::vector<std::string>& args) {
  // Any running serving node: a follower forwards what only the leader can do.
  for (uint64_t id : serving_) {
    if (!cluster_.node(id).Running()) continue;
    CommandResult r = cluster_.node(id).Cairnctl(args);
    if (r.exit_code != 0) {
      return absl::InternalError(absl::StrCat("cairnctl ", absl::StrJoin(args, " "), ": ", r.err));
    }
    return r.out;
  }
  return absl::UnavailableError("no serving node runs");
}

std::pair<std::string, std::string> LocalDeployment::MemberAddresses(uint64_t id) {
  testing::NodeProcess& node = AddNode(id);
  return {node.peer_address(), node.client_address()};
}

absl::Status LocalDeployment::Restart(uint64_t id) {
  if (absl::Status st = cluster_.StartNode(id); !st.ok()) return st;
  if (id == kGeoReplica) geo_running_ = true;
  return cluster_.node(id).WaitReady(std::chrono::seconds(60));
}

void LocalDeployment::Pause(uint64_t id) { cluster_.node(id).Signal(SIGSTOP); }
void LocalDeployment::Resume(uint64_t id) { cluster_.node(id).Signal(SIGCONT); }

absl::Status LocalDeployment::Stop(uint64_t id) {
  const int code = cluster_.node(id).Terminate(std::chrono::seconds(30));
  if (code != 0) {
    return absl::InternalError(absl::StrCat("node ", id, " exited with ", code, " on SIGTERM"));
  }
  return absl::OkStatus();
}

absl::Status LocalDeployment::Isolate(uint64_t id) {
  for (uint64_t other = 1; other <= kGeoReplica; ++other) {
    if (other == id) continue;
    links_.Cut(id, other, true);
    links_.Cut(other, id, true);
  }
  return absl::OkStatus();
}

absl::Status LocalDeployment::HealLinks() {
  links_.HealAll();
  return absl::OkStatus();
}

absl::Status LocalDeployment::StoreDown() {
  std::error_code ec;
  fs::rename(archive_dir_, archive_dir_ + ".unreachable", ec);
  if (ec) return absl::InternalError("moving the archive away: " + ec.message());
  std::ofstream(archive_dir_) << "the archive store is unreachable (a drill)\n";
  return absl::OkStatus();
}

absl::Status LocalDeployment::StoreUp() {
  std::error_code ec;
  fs::remove(archive_dir_, ec);
  fs::rename(archive_dir_ + ".unreachable", archive_dir_, ec);
  if (ec) return absl::InternalError("bringing the archive back: " + ec.message());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> LocalDeployment::OpenArchive() {
  return storage::OpenArchiveStore(archive_url());
}

std::vector<std::string> LocalDeployment::ArchiveFlags() {
  return {"--archive-url", archive_url()};
}

absl::Status LocalDeployment::RemoveArchiveObject(const std::string& name) {
  // The object and the digest file beside it (file_store.cc).
  std::error_code ec;
  fs::remove(archive_dir_ + "/" + name, ec);
  if (!ec) fs::remove(archive_dir_ + "/" + name + ".sha256", ec);
  if (ec) return absl::InternalError("removing " + name + ": " + ec.message());
  return absl::OkStatus();
}

void LocalDeployment::LoseRegion() {
  for (uint64_t id = 1; id <= kGeoReplica; ++id) cluster_.node(id).Signal(SIGKILL);
  for (uint64_t id = 1; id <= kGeoReplica; ++id) cluster_.node(id).Kill();  // reaps
  geo_running_ = false;
}

absl::StatusOr<Recovery> LocalDeployment::RecoverInPairedRegion() {
  testing::NodeProcess& spare = AddNode(kSpare);
  spare.set_data_dir(work_dir_ + "/recovered");
  const auto started = std::chrono::steady_clock::now();
  CommandResult r = testing::RunCommand(
      {testing::BinaryPath("node/cairn-node"), "recover", "--archive-url", archive_url(),
       "--data-dir", spare.data_dir(), "--node-id", std::to_string(kSpare), "--peer-address",
       spare.peer_address(), "--client-address", spare.client_address(), "--region", "paired",
       "--service-cert-file", cluster_.pki().service_cert(), "--tls-cert-file",
       NodeCertFile(kSpare)},
      "", std::chrono::seconds(600));
  Recovery recovery;
  recovery.output = r.out + r.err;
  if (r.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("cairn-node recover exited with ", r.exit_code, ": ", recovery.output));
  }
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex(R"(last txid (\d+)\.(\d+))"))) {
    return absl::InternalError("cairn-node recover did not print the last txid: " + r.out);
  }
  recovery.last_txid = m[1].str() + "." + m[2].str();
  recovery.last_index = std::stoull(m[2].str());
  spare.set_initial_cluster(spare.MemberSpec());
  if (absl::Status st = spare.Start({"--region", "paired"}); !st.ok()) return st;
  serving_ = {kSpare};
  if (absl::Status st = spare.WaitReady(std::chrono::seconds(60)); !st.ok()) return st;
  recovery.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return recovery;
}

absl::Status LocalDeployment::StartJoiner(uint64_t id) {
  testing::NodeProcess& node = AddNode(id);
  node.set_initial_cluster(cluster_.node(kSpare).MemberSpec());
  if (absl::Status st = node.Start({"--join", "--region", "paired"}); !st.ok()) return st;
  return node.WaitReady(std::chrono::seconds(60));
}

}  // namespace cairn::drill
