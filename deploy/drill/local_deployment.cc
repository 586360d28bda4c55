// The local deployment of a drill (see local_deployment.h).
#include "drill/local_deployment.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/segment.h"
#include "cairn/storage/archive_layout.h"
#include "cairn/storage/archive_store.h"
#include "testing/process.h"

namespace cairn::drill {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::PollUntil;

LocalDeployment::LocalDeployment(std::string work_dir)
    : work_dir_(std::move(work_dir)),
      archive_dir_(work_dir_ + "/paired-archive"),
      cluster_(work_dir_, kVoters) {
  cluster_.AddNodeObject();  // node 4, the geo-replica
}

std::vector<std::string> LocalDeployment::GeoReplicaArgs() const {
  return {"--join", "--role",        "geo-replica",           "--region",
          "paired", "--archive-url", "file://" + archive_dir_};
}

absl::Status LocalDeployment::Start() {
  for (uint64_t id = 1; id <= kGeoReplica; ++id) cluster_.node(id).set_product_timing(true);
  // Every peer link of nodes 1-4 through a proxy.
  if (absl::Status st = links_.Wire(&cluster_); !st.ok()) return st;
  for (uint64_t id = 1; id <= kVoters; ++id) cluster_.AddNodeArgs(id, {"--region", "primary"});
  cluster_.AddNodeArgs(kGeoReplica, GeoReplicaArgs());
  for (uint64_t id = 1; id <= kVoters; ++id) {
    if (absl::Status st = cluster_.StartNode(id); !st.ok()) return st;
  }
  for (uint64_t id = 1; id <= kVoters; ++id) {
    if (absl::Status st = cluster_.node(id).WaitReady(std::chrono::seconds(60)); !st.ok()) {
      return st;
    }
  }
  if (absl::Status st = WaitForLeader().status(); !st.ok()) return st;
  CommandResult r = Cairnctl({"residency", "set", "--allowed-regions", "primary,paired"});
  if (r.exit_code != 0) return absl::InternalError("residency set: " + r.err);
  testing::NodeProcess& geo = cluster_.node(kGeoReplica);
  r = Cairnctl({"nodes", "add-learner", "--node-id", std::to_string(kGeoReplica), "--peer-address",
                geo.peer_address(), "--client-address", geo.client_address(), "--cert-file",
                cluster_.pki().Node(kGeoReplica).cert, "--region", "paired"});
  if (r.exit_code != 0) return absl::InternalError("nodes add-learner: " + r.err);
  if (absl::Status st = cluster_.StartNode(kGeoReplica); !st.ok()) return st;
  geo_running_ = true;
  if (absl::Status st = geo.WaitReady(std::chrono::seconds(60)); !st.ok()) return st;
  return PollUntil([&] { return ArchivedIndex() > 0; }, std::chrono::seconds(60),
                   "the geo-replica to archive the genesis");
}

testing::CommandResult LocalDeployment::Cairnctl(const std::vector<std::string>& args) {
  // A follower forwards what only the leader can do.
  for (uint64_t id : ServingNodes()) {
    if (cluster_.node(id).Running()) return cluster_.node(id).Cairnctl(args);
  }
  return {.exit_code = 3, .out = "", .err = "no serving node runs"};
}

std::string LocalDeployment::ServiceCertPem() const {
  return testing::ReadFileOrEmpty(const_cast<testing::TestCluster&>(cluster_).pki().service_cert());
}

client::ClientOptions LocalDeployment::ClientOptionsFor(const std::vector<uint64_t>& nodes) {
  client::ClientOptions o;
  for (uint64_t id : nodes) o.endpoints.push_back(cluster_.node(id).client_address());
  const testing::CertFiles admin = cluster_.pki().User("admin");
  o.credentials.cert_file = admin.cert;
  o.credentials.key_file = admin.key;
  o.credentials.service_cert_file = cluster_.pki().service_cert();
  o.verified_state.enabled = false;
  return o;
}

std::vector<uint64_t> LocalDeployment::ServingNodes() const { return serving_; }

std::vector<uint64_t> LocalDeployment::Replicas() const {
  std::vector<uint64_t> ids = ServingNodes();
  if (geo_running_) ids.push_back(kGeoReplica);
  return ids;
}

absl::StatusOr<uint64_t> LocalDeployment::Leader() {
  for (uint64_t id : ServingNodes()) {
    if (cluster_.node(id).Running() && cluster_.node(id).Metric("cairn_raft_is_leader") == 1) {
      return id;
    }
  }
  return absl::UnavailableError("no serving node reports itself leader");
}

absl::StatusOr<uint64_t> LocalDeployment::WaitForLeader(uint64_t not_id) {
  return cluster_.WaitForLeader(std::chrono::seconds(60), not_id);
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

void LocalDeployment::Isolate(uint64_t id) {
  for (uint64_t other = 1; other <= kGeoReplica; ++other) {
    if (other == id) continue;
    links_.Cut(id, other, true);
    links_.Cut(other, id, true);
  }
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

double LocalDeployment::ArchivedIndex() {
  if (!geo_running_) return -1;
  return cluster_.node(kGeoReplica).Metric("cairn_archive_archived_index");
}

double LocalDeployment::ArchiveLag() {
  absl::StatusOr<uint64_t> leader = Leader();
  if (!leader.ok() || !geo_running_) return -1;
  const double committed = cluster_.node(*leader).Metric("cairn_raft_commit_index");
  const double archived = ArchivedIndex();
  if (committed < 0 || archived < 0) return -1;
  return std::max(0.0, committed - archived);
}

absl::Status LocalDeployment::WaitArchiveCaughtUp(std::chrono::seconds timeout) {
  // The last entries are archived once a signature covers them (the
  // archive ends on one); a signature comes within the signature interval.
  return PollUntil(
      [&] {
        double applied = -1;
        for (uint64_t id : ServingNodes()) {
          applied = std::max(applied, cluster_.node(id).Metric("cairn_raft_applied_index"));
        }
        const double archived = ArchivedIndex();
        return applied > 0 && archived >= applied - 1;
      },
      timeout, "the archive to hold what the service applied");
}

void LocalDeployment::LoseRegion() {
  for (uint64_t id = 1; id <= kGeoReplica; ++id) cluster_.node(id).Signal(SIGKILL);
  for (uint64_t id = 1; id <= kGeoReplica; ++id) cluster_.node(id).Kill();  // reaps
  geo_running_ = false;
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> LocalDeployment::LastArchivedSegment() {
  absl::StatusOr<storage::ArchiveLatest> latest = storage::DecodeArchiveLatest(
      testing::ReadFileOrEmpty(archive_dir_ + "/" + std::string(storage::kArchiveLatestName)));
  if (!latest.ok()) return latest.status();
  return ledger::ReadSegmentRange(archive_dir_ + "/" +
                                  storage::ArchiveSegmentName(latest->segments));
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> LocalDeployment::DropLastArchivedSegment() {
  const std::string latest_path = archive_dir_ + "/" + std::string(storage::kArchiveLatestName);
  absl::StatusOr<storage::ArchiveLatest> latest =
      storage::DecodeArchiveLatest(testing::ReadFileOrEmpty(latest_path));
  if (!latest.ok()) return latest.status();
  if (latest->segments < 2) {
    return absl::FailedPreconditionError("the archive holds fewer than two segments");
  }
  const std::string last = archive_dir_ + "/" + storage::ArchiveSegmentName(latest->segments);
  absl::StatusOr<ledger::Segment> dropped = ledger::ReadSegmentFile(last);
  if (!dropped.ok()) return dropped.status();
  absl::StatusOr<ledger::Segment> before = ledger::ReadSegmentFile(
      archive_dir_ + "/" + storage::ArchiveSegmentName(latest->segments - 1));
  if (!before.ok()) return before.status();
  absl::StatusOr<storage::ArchiveLatest> rewound =
      storage::LatestAfter(*before, latest->segments - 1);
  if (!rewound.ok()) return rewound.status();
  rewound->region = latest->region;
  rewound->written_unix_ms = latest->written_unix_ms;
  if (latest->snapshot_index != 0 && latest->snapshot_next_segment <= latest->segments - 1) {
    rewound->snapshot_index = latest->snapshot_index;
    rewound->snapshot_next_segment = latest->snapshot_next_segment;
  }
  // The object and its digest file (file_store.cc) go; latest.json is
  // replaced through the store, which writes its digest too.
  std::error_code ec;
  fs::remove(last, ec);
  if (ec) return absl::InternalError("removing " + last + ": " + ec.message());
  fs::remove(last + ".sha256", ec);
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store =
      storage::OpenArchiveStore(archive_url());
  if (!store.ok()) return store.status();
  if (absl::Status st =
          (*store)->Replace(storage::kArchiveLatestName, storage::EncodeArchiveLatest(*rewound));
      !st.ok()) {
    return st;
  }
  return std::make_pair(dropped->first_index, dropped->last_index);
}

absl::StatusOr<Recovery> LocalDeployment::RecoverInPairedRegion() {
  while (cluster_.size() < kSpare) cluster_.AddNodeObject();
  testing::NodeProcess& spare = cluster_.node(kSpare);
  spare.set_product_timing(true);
  spare.set_data_dir(work_dir_ + "/recovered");
  const auto started = std::chrono::steady_clock::now();
  CommandResult r = testing::RunCommand(
      {testing::BinaryPath("node/cairn-node"), "recover", "--archive-url", archive_url(),
       "--data-dir", spare.data_dir(), "--node-id", std::to_string(kSpare), "--peer-address",
       spare.peer_address(), "--client-address", spare.client_address(), "--region", "paired",
       "--service-cert-file", cluster_.pki().service_cert(), "--tls-cert-file",
       cluster_.pki().Node(kSpare).cert},
      "", std::chrono::seconds(600));
  Recovery recovery;
  recovery.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
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
  recovered_ = true;
  serving_ = {kSpare};
  if (absl::Status st = spare.WaitReady(std::chrono::seconds(60)); !st.ok()) return st;
  return recovery;
}

absl::Status LocalDeployment::AddRecoveredVoter(uint64_t id) {
  while (cluster_.size() < id) cluster_.AddNodeObject();
  testing::NodeProcess& node = cluster_.node(id);
  node.set_product_timing(true);
  CommandResult r =
      Cairnctl({"nodes", "add-learner", "--node-id", std::to_string(id), "--peer-address",
                node.peer_address(), "--client-address", node.client_address(), "--cert-file",
                cluster_.pki().Node(id).cert, "--region", "paired"});
  if (r.exit_code != 0) return absl::InternalError("nodes add-learner: " + r.err);
  node.set_initial_cluster(cluster_.node(kSpare).MemberSpec());
  if (absl::Status st = node.Start({"--join", "--region", "paired"}); !st.ok()) return st;
  if (absl::Status st = node.WaitReady(std::chrono::seconds(60)); !st.ok()) return st;
  absl::StatusOr<uint64_t> leader = Leader();
  if (!leader.ok()) return leader.status();
  const double target = cluster_.node(*leader).Metric("cairn_raft_commit_index");
  absl::Status caught_up =
      PollUntil([&] { return node.Metric("cairn_raft_applied_index") >= target; },
                std::chrono::seconds(60), absl::StrCat("node ", id, " to catch up"));
  if (!caught_up.ok()) return caught_up;
  r = Cairnctl({"nodes", "promote", std::to_string(id)});
  if (r.exit_code != 0) return absl::InternalError("nodes promote: " + r.err);
  serving_.push_back(id);
  return absl::OkStatus();
}

absl::Status LocalDeployment::VerifyArchive() {
  CommandResult r =
      testing::RunCommand({testing::BinaryPath("client/cairnctl"), "dr", "verify", "--archive-url",
                           archive_url(), "--service-cert", cluster_.pki().service_cert()},
                          "", std::chrono::seconds(600));
  if (r.exit_code != 0) {
    return absl::DataLossError(absl::StrCat("cairnctl dr verify exited with ", r.exit_code, ": ",
                                            r.err.empty() ? r.out : r.err));
  }
  return absl::OkStatus();
}

absl::Status LocalDeployment::CheckResidency() {
  auto c = client::Client::Create(ClientOptionsFor(ServingNodes()));
  if (!c.ok()) return c.status();
  absl::StatusOr<v1::DrStatus> dr = (*c)->GetDrStatus();
  if (!dr.ok()) return dr.status();
  const std::set<std::string> allowed(dr->allowed_regions().begin(), dr->allowed_regions().end());
  if (allowed.empty()) return absl::FailedPreconditionError("no residency policy is set");
  absl::StatusOr<v1::ClusterStatus> status = (*c)->GetClusterStatus();
  if (!status.ok()) return status.status();
  for (const v1::NodeStatus& n : status->nodes()) {
    if (!allowed.count(n.node().region())) {
      return absl::FailedPreconditionError(absl::StrCat("node ", n.node().node_id(),
                                                        " is in region '", n.node().region(),
                                                        "', outside the policy"));
    }
  }
  absl::StatusOr<storage::ArchiveLatest> latest = storage::DecodeArchiveLatest(
      testing::ReadFileOrEmpty(archive_dir_ + "/" + std::string(storage::kArchiveLatestName)));
  if (latest.ok() && !allowed.count(latest->region)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the archive is in region '", latest->region, "', outside the policy"));
  }
  return absl::OkStatus();
}

}  // namespace cairn::drill
