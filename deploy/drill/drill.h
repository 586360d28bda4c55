// A failover drill: one scenario run end to end against a deployment. The
// drill starts the deployment, runs the recorded client workload
// (drill_workload.h), injects the scenario's fault, performs the recovery
// the runbook prescribes (docs/operations.md, "Drills"), measures what was
// lost (RPO) and how long until clients were served again (RTO), and checks
// the history and the copies (report.h lists the checks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drill/report.h"

namespace cairn::drill {

enum class Scenario {
  kLeaderLoss,      // SIGKILL of the leader; restarted after the hold
  kMinorityLoss,    // SIGKILL of a follower (a minority); restarted after the hold
  kPartition,       // the leader cut off from every peer; healed after the hold
  kPause,           // SIGSTOP of the leader; SIGCONT after the hold
  kRollingRestart,  // every node in turn, followers first: SIGTERM, restart, catch up
  kStoreOutage,     // the archive store unreachable for the hold
  kRegionLoss,      // every primary node and the geo-replica killed at once;
                    // the service recovered from the archive in the paired region
};

std::vector<Scenario> AllScenarios();
std::string ScenarioName(Scenario scenario);
absl::StatusOr<Scenario> ParseScenario(const std::string& name);

struct DrillOptions {
  Scenario scenario = Scenario::kLeaderLoss;
  // Split in three: before the fault, the fault held, after the recovery.
  int64_t duration_s = 30;
  uint64_t seed = 1;
  int clients = 6;
  std::optional<uint64_t> rpo_max_entries;
  std::optional<double> rto_max_s;
  std::string work_dir;
  // Test-only (region-loss): the archive's last segment is dropped before
  // the recovery, as if never uploaded; the drill must then report exactly
  // the writes it held as lost, and fail if any was GEO_DURABLE.
  bool test_drop_last_archived_segment = false;
};

class Deployment;
// Runs the drill against `deployment` (not started yet).
DrillReport RunDrill(const DrillOptions& options, Deployment* deployment);

}  // namespace cairn::drill
