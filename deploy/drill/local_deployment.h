// The deployment a drill runs against with --target local: cairn-node
// processes on loopback with mutual TLS and the product's Raft timing, laid
// out as the two-region service of docs/operations.md:
//
//   primary region   nodes 1-3, voters (--region primary)
//   paired region    node 4, the geo-replica (a learner, --role geo-replica)
//                    archiving to a file:// archive under the work dir;
//                    node 5 is the spare that `cairn-node recover` rebuilds
//                    the service on when the primary region is lost
//
// with the residency policy set to the two regions. Every peer link goes
// through a proxy (robustness/link_proxy.h), so a node can be cut off from
// its peers while clients still reach it. Faults are what an operator's
// world does to processes: SIGKILL, SIGSTOP, SIGTERM and restarts, links
// cut, the archive store unreachable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cairn/client/client.h"
#include "robustness/nemesis.h"
#include "testing/cluster.h"

namespace cairn::drill {

// What `cairn-node recover` reported.
struct Recovery {
  std::string last_txid;    // the last recovered entry (a signature transaction)
  uint64_t last_index = 0;  // its log index: everything above is lost
  double seconds = 0;       // how long recover took
  std::string output;       // what it printed
};

class LocalDeployment {
 public:
  static constexpr uint64_t kVoters = 3;
  static constexpr uint64_t kGeoReplica = 4;
  static constexpr uint64_t kSpare = 5;

  explicit LocalDeployment(std::string work_dir);

  // Starts the primary region, sets the residency policy, adds and starts
  // the geo-replica, and waits until it archives.
  absl::Status Start();

  testing::TestCluster& cluster() { return cluster_; }
  const std::string& work_dir() const { return work_dir_; }
  std::string archive_url() const { return "file://" + archive_dir_; }
  std::string ServiceCertPem() const;
  // Options for the admin user against `nodes` (verified state off).
  client::ClientOptions ClientOptionsFor(const std::vector<uint64_t>& nodes);
  // The nodes that serve the service now: 1-3, or 5 (and the nodes that
  // joined it) after a recovery.
  std::vector<uint64_t> ServingNodes() const;
  // The serving nodes plus the geo-replica while it runs.
  std::vector<uint64_t> Replicas() const;

  absl::StatusOr<uint64_t> Leader();
  // Polls until a leader other than `not_id` (0: any) is elected.
  absl::StatusOr<uint64_t> WaitForLeader(uint64_t not_id = 0);

  void Kill(uint64_t id) { cluster_.node(id).Kill(); }
  absl::Status Restart(uint64_t id);
  void Pause(uint64_t id);
  void Resume(uint64_t id);
  // SIGTERM (a leader hands off first) and waits for the exit.
  absl::Status Stop(uint64_t id);
  // Cuts every peer link to and from `id`, both ways; HealLinks undoes it.
  void Isolate(uint64_t id);
  void HealLinks() { links_.HealAll(); }

  // The archive store becomes unreachable (its root is replaced by a file,
  // so every read and write of it fails) and comes back.
  absl::Status StoreDown();
  absl::Status StoreUp();

  // Entries the leader committed that the archive does not hold yet (-1
  // when either side does not answer).
  double ArchiveLag();
  // Waits until the archive holds everything the serving nodes applied.
  absl::Status WaitArchiveCaughtUp(std::chrono::seconds timeout);
  // Log index the geo-replica reports archived (-1: unknown).
  double ArchivedIndex();

  // The primary region is lost: nodes 1-3 and the geo-replica get SIGKILL
  // at once (the runbook's step 0 stops the old geo-replica too).
  void LoseRegion();
  // The log indexes the archive's last segment holds.
  absl::StatusOr<std::pair<uint64_t, uint64_t>> LastArchivedSegment();
  // Test-only: drops the archive's last segment and points latest.json at
  // the one before, as if the geo-replica had never uploaded it. Returns
  // the log indexes that segment held [first, last].
  absl::StatusOr<std::pair<uint64_t, uint64_t>> DropLastArchivedSegment();
  // The runbook's recovery: `cairn-node recover` from the archive onto node
  // 5 in the paired region, then starts it as the one voter.
  absl::StatusOr<Recovery> RecoverInPairedRegion();
  bool recovered() const { return recovered_; }
  // Runbook step 4: node `id` of the paired region joins the recovered
  // service as a learner, catches up and is promoted to voter.
  absl::Status AddRecoveredVoter(uint64_t id);

  // `cairnctl dr verify` of the archive: OK, or the error it printed.
  absl::Status VerifyArchive();
  // The residency policy's regions hold every member's region and the
  // archive's: OK, or which does not.
  absl::Status CheckResidency();

 private:
  testing::CommandResult Cairnctl(const std::vector<std::string>& args);
  std::vector<std::string> GeoReplicaArgs() const;

  const std::string work_dir_;
  const std::string archive_dir_;
  testing::TestCluster cluster_;
  robustness::PeerLinks links_;
  // The nodes that serve the service: 1-3, after a recovery 5 and those
  // that joined it.
  std::vector<uint64_t> serving_ = {1, 2, 3};
  bool geo_running_ = false;
  bool recovered_ = false;
};

}  // namespace cairn::drill
