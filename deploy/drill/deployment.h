// What a drill runs against: a two-region Cairn service and the faults an
// operator's world can do to it. Two targets implement it:
// LocalDeployment (cairn-node processes on loopback) and ComposeDeployment
// (containers of deploy/compose/two-region.yml). Both lay the service out
// the same way:
//
//   primary region   nodes 1-3, the voters
//   paired region    node 4, the geo-replica (a learner) archiving to the
//                    archive store there; node 5, the spare that
//                    `cairn-node recover` rebuilds the service on when the
//                    primary region is lost, and nodes 6 and 7, which join it
//
// with the residency policy set to the two regions. The generic parts
// (leaders, archive lag, archive objects, residency, `cairnctl dr verify`)
// are written here once, over what each target provides.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cairn/storage/archive_store.h"
#include "robustness/cluster_checks.h"

namespace cairn::drill {

// What `cairn-node recover` reported.
struct Recovery {
  std::string last_txid;    // the last recovered entry (a signature transaction)
  uint64_t last_index = 0;  // its log index: everything above is lost
  double seconds = 0;       // from the recovery's start until its node served
  std::string output;       // what recover printed
};

class Deployment : public robustness::ClusterView {
 public:
  static constexpr uint64_t kVoters = 3;
  static constexpr uint64_t kGeoReplica = 4;
  static constexpr uint64_t kSpare = 5;

  // "local" or "compose".
  virtual std::string target() const = 0;
  // Starts the primary region, sets the residency policy, adds and starts
  // the geo-replica, and waits until it archives.
  virtual absl::Status Start() = 0;
  // Where data, logs and certificates are kept.
  virtual const std::string& work_dir() const = 0;
  // The service certificate's file, readable from this machine.
  virtual std::string ServiceCertFile() = 0;
  std::string ServiceCertPem();
  // host:port a client on this machine reaches node `id` at.
  virtual std::string ClientAddress(uint64_t id) = 0;

  // The nodes that serve the service: 1-3, after a recovery 5 and those
  // that joined it.
  const std::vector<uint64_t>& ServingNodes() const { return serving_; }
  // The serving nodes plus the geo-replica while it runs.
  std::vector<uint64_t> Replicas() const;

  absl::StatusOr<uint64_t> Leader();
  // Polls until one serving node (other than `not_id`) reports itself leader.
  absl::StatusOr<uint64_t> WaitForLeader(uint64_t not_id = 0);

  // SIGKILL; start again (and wait until it serves); SIGSTOP and SIGCONT;
  // SIGTERM (a leader hands off first) and wait for the exit.
  virtual void Kill(uint64_t id) = 0;
  virtual absl::Status Restart(uint64_t id) = 0;
  virtual void Pause(uint64_t id) = 0;
  virtual void Resume(uint64_t id) = 0;
  virtual absl::Status Stop(uint64_t id) = 0;
  // Cuts node `id` off from every peer, both ways; HealLinks undoes it.
  // What clients still reach is the target's to say (IsolationNote).
  virtual absl::Status Isolate(uint64_t id) = 0;
  virtual absl::Status HealLinks() = 0;
  virtual std::string IsolationNote() const = 0;
  // The archive store becomes unreachable, and comes back.
  virtual absl::Status StoreDown() = 0;
  virtual absl::Status StoreUp() = 0;

  // Log index the geo-replica reports archived (-1: unknown).
  double ArchivedIndex();
  // Entries the leader committed that the archive does not hold yet (-1
  // when either does not answer).
  double ArchiveLag();
  // Waits until the archive holds everything the serving nodes applied.
  absl::Status WaitArchiveCaughtUp(std::chrono::seconds timeout);
  // The log indexes the archive's last segment holds.
  absl::StatusOr<std::pair<uint64_t, uint64_t>> LastArchivedSegment();
  // Test-only: drops the archive's last segment and points latest.json at
  // the one before, as if the geo-replica had never uploaded it. Returns
  // the log indexes that segment held.
  absl::StatusOr<std::pair<uint64_t, uint64_t>> DropLastArchivedSegment();

  // The primary region is lost: nodes 1-3 and the geo-replica get SIGKILL
  // at once (the runbook's step 0 stops the old geo-replica too).
  virtual void LoseRegion() = 0;
  // The runbook's recovery: `cairn-node recover` from the archive onto node
  // 5 in the paired region, which then starts as the one voter.
  virtual absl::StatusOr<Recovery> RecoverInPairedRegion() = 0;
  // Runbook step 4: node `id` of the paired region joins the recovered
  // service as a learner, catches up and is promoted to voter.
  absl::Status AddRecoveredVoter(uint64_t id);

  // `cairnctl dr verify` of the archive: OK, or what it printed.
  absl::Status VerifyArchive();
  // The residency policy's regions hold every member's region and the
  // archive's: OK, or which does not.
  absl::Status CheckResidency();

 protected:
  // Runs cairnctl as the admin user against the serving nodes.
  virtual absl::StatusOr<std::string> Cairnctl(const std::vector<std::string>& args) = 0;
  // The archive, opened from this machine.
  virtual absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> OpenArchive() = 0;
  // cairnctl's flags that name the archive (--archive-url and the store's).
  virtual std::vector<std::string> ArchiveFlags() = 0;
  // Removes an archive object behind the store's back (test-only).
  virtual absl::Status RemoveArchiveObject(const std::string& name) = 0;
  // Starts node `id` (6, 7) as a joining member of the recovered service.
  virtual absl::Status StartJoiner(uint64_t id) = 0;
  // The peer and client addresses node `id` is known to its peers by.
  virtual std::pair<std::string, std::string> MemberAddresses(uint64_t id) = 0;
  // The file of node `id`'s certificate.
  virtual std::string NodeCertFile(uint64_t id) = 0;

  std::vector<uint64_t> serving_ = {1, 2, 3};
  bool geo_running_ = false;
};

}  // namespace cairn::drill
