// The parts of a drill's deployment both targets share (see deployment.h).
#include "drill/deployment.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/segment.h"
#include "cairn/storage/archive_layout.h"
#include "testing/process.h"

namespace cairn::drill {

using testing::PollUntil;

namespace {

absl::StatusOr<storage::ArchiveLatest> ReadLatest(storage::ArchiveStore& store) {
  absl::StatusOr<std::string> bytes = store.Get(storage::kArchiveLatestName);
  if (!bytes.ok()) return bytes.status();
  return storage::DecodeArchiveLatest(*bytes);
}

absl::StatusOr<ledger::Segment> ReadSegment(storage::ArchiveStore& store, uint64_t seq) {
  absl::StatusOr<std::string> bytes = store.Get(storage::ArchiveSegmentName(seq));
  if (!bytes.ok()) return bytes.status();
  return ledger::DecodeSegment(*bytes);
}

}  // namespace

std::vector<uint64_t> Deployment::Replicas() const {
  std::vector<uint64_t> ids = serving_;
  if (geo_running_) ids.push_back(kGeoReplica);
  return ids;
}

absl::StatusOr<uint64_t> Deployment::Leader() {
  for (uint64_t id : serving_) {
    if (Running(id) && Metric(id, "cairn_raft_is_leader") == 1) return id;
  }
  return absl::UnavailableError("no serving node reports itself leader");
}

absl::StatusOr<uint64_t> Deployment::WaitForLeader(uint64_t not_id) {
  uint64_t leader = 0;
  absl::Status st = PollUntil(
      [&] {
        absl::StatusOr<uint64_t> l = Leader();
        if (!l.ok() || *l == not_id) return false;
        leader = *l;
        return true;
      },
      std::chrono::seconds(60),
      not_id == 0 ? "a leader" : absl::StrCat("a leader other than ", not_id));
  if (!st.ok()) return st;
  return leader;
}

double Deployment::ArchivedIndex() {
  if (!geo_running_) return -1;
  return Metric(kGeoReplica, "cairn_archive_archived_index");
}

double Deployment::ArchiveLag() {
  absl::StatusOr<uint64_t> leader = Leader();
  if (!leader.ok() || !geo_running_) return -1;
  const double committed = Metric(*leader, "cairn_raft_commit_index");
  const double archived = ArchivedIndex();
  if (committed < 0 || archived < 0) return -1;
  return std::max(0.0, committed - archived);
}

absl::Status Deployment::WaitArchiveCaughtUp(std::chrono::seconds timeout) {
  // The archive ends on a signature transaction; the last entries are
  // archived once one covers them (within the signature interval).
  return PollUntil(
      [&] {
        double applied = -1;
        for (uint64_t id : serving_) {
          applied = std::max(applied, Metric(id, "cairn_raft_applied_index"));
        }
        const double archived = ArchivedIndex();
        return applied > 0 && archived >= applied - 1;
      },
      timeout, "the archive to hold what the service applied");
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> Deployment::LastArchivedSegment() {
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store = OpenArchive();
  if (!store.ok()) return store.status();
  absl::StatusOr<storage::ArchiveLatest> latest = ReadLatest(**store);
  if (!latest.ok()) return latest.status();
  absl::StatusOr<ledger::Segment> segment = ReadSegment(**store, latest->segments);
  if (!segment.ok()) return segment.status();
  return std::make_pair(segment->first_index, segment->last_index);
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> Deployment::DropLastArchivedSegment() {
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store = OpenArchive();
  if (!store.ok()) return store.status();
  absl::StatusOr<storage::ArchiveLatest> latest = ReadLatest(**store);
  if (!latest.ok()) return latest.status();
  if (latest->segments < 2) {
    return absl::FailedPreconditionError("the archive holds fewer than two segments");
  }
  absl::StatusOr<ledger::Segment> dropped = ReadSegment(**store, latest->segments);
  if (!dropped.ok()) return dropped.status();
  absl::StatusOr<ledger::Segment> before = ReadSegment(**store, latest->segments - 1);
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
  if (absl::Status st = RemoveArchiveObject(storage::ArchiveSegmentName(latest->segments));
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          (*store)->Replace(storage::kArchiveLatestName, storage::EncodeArchiveLatest(*rewound));
      !st.ok()) {
    return st;
  }
  return std::make_pair(dropped->first_index, dropped->last_index);
}

absl::Status Deployment::AddRecoveredVoter(uint64_t id) {
  const auto [peer, client] = MemberAddresses(id);
  absl::StatusOr<std::string> r =
      Cairnctl({"nodes", "add-learner", "--node-id", std::to_string(id), "--peer-address", peer,
                "--client-address", client, "--cert-file", NodeCertFile(id), "--region", "paired"});
  if (!r.ok()) return r.status();
  if (absl::Status st = StartJoiner(id); !st.ok()) return st;
  absl::StatusOr<uint64_t> leader = Leader();
  if (!leader.ok()) return leader.status();
  const double target = Metric(*leader, "cairn_raft_commit_index");
  absl::Status caught_up =
      PollUntil([&] { return Metric(id, "cairn_raft_applied_index") >= target; },
                std::chrono::seconds(60), absl::StrCat("node ", id, " to catch up"));
  if (!caught_up.ok()) return caught_up;
  // Under load the leader commits more while the promote is on its way,
  // and refuses a learner one entry behind ("has not caught up"): an
  // operator tries again, and so does the drill, until the deadline.
  absl::Status promote_status;
  absl::Status promoted = PollUntil(
      [&] {
        r = Cairnctl({"nodes", "promote", std::to_string(id)});
        promote_status = r.status();
        return r.ok() ||
               std::string(r.status().message()).find("has not caught up") == std::string::npos;
      },
      std::chrono::seconds(60), absl::StrCat("node ", id, " to be promoted"));
  if (!promoted.ok()) return promoted;
  if (!promote_status.ok()) return promote_status;
  serving_.push_back(id);
  return absl::OkStatus();
}

std::string Deployment::ServiceCertPem() { return testing::ReadFileOrEmpty(ServiceCertFile()); }

absl::Status Deployment::VerifyArchive() {
  std::vector<std::string> argv = {testing::BinaryPath("client/cairnctl"), "dr", "verify",
                                   "--service-cert", ServiceCertFile()};
  const std::vector<std::string> flags = ArchiveFlags();
  argv.insert(argv.end(), flags.begin(), flags.end());
  testing::CommandResult r = testing::RunCommand(argv, "", std::chrono::seconds(600));
  if (r.exit_code != 0) {
    return absl::DataLossError(absl::StrCat("cairnctl dr verify exited with ", r.exit_code, ": ",
                                            r.err.empty() ? r.out : r.err));
  }
  return absl::OkStatus();
}

absl::Status Deployment::CheckResidency() {
  auto c = client::Client::Create(ClientOptionsFor(serving_));
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
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store = OpenArchive();
  if (!store.ok()) return store.status();
  absl::StatusOr<storage::ArchiveLatest> latest = ReadLatest(**store);
  if (!latest.ok()) return latest.status();
  if (!allowed.count(latest->region)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the archive is in region '", latest->region, "', outside the policy"));
  }
  return absl::OkStatus();
}

}  // namespace cairn::drill
