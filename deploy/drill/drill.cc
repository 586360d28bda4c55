// Failover drills against a local deployment (see drill.h).
#include "drill/drill.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "cairn/client/verify.h"
#include "drill/deployment.h"
#include "drill/drill_workload.h"
#include "drill/judge.h"
#include "robustness/checker.h"
#include "robustness/cluster_checks.h"
#include "robustness/workload.h"
#include "testing/process.h"

namespace cairn::drill {

using robustness::History;
using robustness::LedgerEntry;
using robustness::OpKind;
using robustness::Outcome;

namespace {

const std::map<Scenario, std::string>& Names() {
  static const auto* names =
      new std::map<Scenario, std::string>{{Scenario::kLeaderLoss, "leader-loss"},
                                          {Scenario::kMinorityLoss, "minority-loss"},
                                          {Scenario::kPartition, "partition"},
                                          {Scenario::kPause, "pause"},
                                          {Scenario::kRollingRestart, "rolling-restart"},
                                          {Scenario::kStoreOutage, "store-outage"},
                                          {Scenario::kRegionLoss, "region-loss"}};
  return *names;
}

double ToSeconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

// The drill in progress: the deployment, the workload and the report.
class Drill {
 public:
  Drill(const DrillOptions& options, Deployment* deployment, DrillReport* report)
      : o_(options), report_(report), deployment_(*deployment) {}
  ~Drill() { StopProbe(); }

  // Runs every phase; an infrastructure failure ends it with report->error.
  void Run();

 private:
  absl::Status Phases();
  absl::Status InjectAndRecover();
  // Lets the workload run for `seconds`, sampling the archive lag.
  void RunFor(double seconds);
  void Event(const std::string& what);
  // The fault is in effect (a process dead, a link cut, every container of
  // a region stopped): the fault's time, from which RTO is measured and
  // before which the old service may have acknowledged writes, is now
  // (injecting can take seconds: docker kill of four containers); and the
  // probe starts.
  void FaultInEffect();
  absl::Status RollingRestart();
  absl::Status RecoverRegion();
  // The RTO probe: from the fault on, a fresh client appends to the
  // collection drill-probe until one append is acknowledged, then fetches
  // that entry's receipt and verifies it against the service certificate.
  void RunProbe(client::ClientOptions o, const std::string& service_cert);
  void SetProbeEndpoints(const std::vector<uint64_t>& nodes);
  // Waits (bounded) until the probe has measured both, and joins it.
  void FinishProbe(double seconds_max);
  void StopProbe();
  // Runbook step 4 after a recovery: nodes 6 and 7 join the recovered
  // node as learners, catch up and are promoted.
  absl::Status GrowRecoveredService();
  void Check(const History& history, const std::vector<bool>& geo_flags,
             const std::vector<LedgerEntry>& ledger);

  double Hold() const { return std::max<double>(3, static_cast<double>(o_.duration_s) / 3); }

  const DrillOptions& o_;
  DrillReport* const report_;
  Deployment& deployment_;
  std::unique_ptr<DrillWorkload> workload_;
  int64_t fault_ns_ = -1;
  // region-loss: what the old service had committed (its leader's commit
  // index just before the loss), and what the recovery kept.
  uint64_t committed_before_loss_ = 0;
  uint64_t recovered_last_index_ = 0;
  std::optional<std::pair<uint64_t, uint64_t>> dropped_;

  // The workload's clients were answered again after the fault.
  bool served_again_ = false;
  std::thread probe_;
  std::atomic<bool> probe_stop_{false};
  // Set once the fault is in effect (the process dead, the link cut): the
  // probe starts then, so that nothing it sends can reach the service as
  // it was before the fault.
  absl::Notification fault_in_effect_;
  std::atomic<int64_t> probe_write_ns_{-1};
  std::atomic<int64_t> probe_read_ns_{-1};
  absl::Mutex probe_mu_;
  std::vector<std::string> probe_endpoints_ ABSL_GUARDED_BY(probe_mu_);
};

void Drill::SetProbeEndpoints(const std::vector<uint64_t>& nodes) {
  std::vector<std::string> endpoints;
  for (uint64_t id : nodes) endpoints.push_back(deployment_.ClientAddress(id));
  absl::MutexLock lock(&probe_mu_);
  probe_endpoints_ = std::move(endpoints);
}

void Drill::RunProbe(client::ClientOptions o, const std::string& service_cert) {
  o.call_timeout_ms = 1000;
  o.retry.total_timeout_ms = 3000;
  // Connected and warm (the leader learned, its channel open) before the
  // fault, as an application's client is: the RTO measured is the
  // service's, not a first TLS handshake's. After a recovery the endpoints
  // change, and the client connects anew, as an application would.
  absl::StatusOr<std::unique_ptr<client::Client>> client = client::Client::Create(o);
  if (!client.ok()) return;
  (void)(*client)->Append("drill-probe", "probe-0");
  fault_in_effect_.WaitForNotification();  // StopProbe notifies it too
  for (uint64_t n = 1; !probe_stop_; ++n) {
    std::vector<std::string> endpoints;
    {
      absl::MutexLock lock(&probe_mu_);
      endpoints = probe_endpoints_;
    }
    if (endpoints != o.endpoints) {
      o.endpoints = endpoints;
      client = client::Client::Create(o);
      if (!client.ok()) return;
    }
    const std::string contents = absl::StrCat("probe-", n);
    absl::StatusOr<client::AppendResult> r = (*client)->Append("drill-probe", contents);
    if (!r.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    probe_write_ns_ = workload_->NowNs();
    client::ReceiptOptions ro;
    ro.wait = true;
    ro.timeout_ms = 10000;
    client::ReceiptExpectations expect;
    expect.contents = contents;
    while (!probe_stop_) {
      absl::StatusOr<v1::Receipt> receipt = (*client)->GetReceipt(r->txid, ro);
      if (receipt.ok() && client::VerifyReceipt(*receipt, service_cert, expect).ok()) {
        probe_read_ns_ = workload_->NowNs();
        return;
      }
    }
    return;
  }
}

void Drill::FinishProbe(double seconds_max) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds_max * 1000));
  while (probe_read_ns_ < 0 && std::chrono::steady_clock::now() < end) {
    workload_->RecordArchiveLag(deployment_.ArchiveLag());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  StopProbe();
  if (probe_write_ns_ >= 0) report_->rto_first_write_s = ToSeconds(probe_write_ns_ - fault_ns_);
  if (probe_read_ns_ >= 0) {
    report_->rto_first_verified_read_s = ToSeconds(probe_read_ns_ - fault_ns_);
  }
}

void Drill::StopProbe() {
  probe_stop_ = true;
  // A probe still waiting for the fault wakes, sees the stop and ends.
  if (!fault_in_effect_.HasBeenNotified()) fault_in_effect_.Notify();
  if (probe_.joinable()) probe_.join();
}

void Drill::FaultInEffect() {
  // The first step of a fault in several (rolling-restart) puts it in effect.
  if (fault_in_effect_.HasBeenNotified()) return;
  const int64_t began_ns = fault_ns_;
  fault_ns_ = workload_->NowNs();
  if (fault_ns_ - began_ns > 200'000'000) {
    Event(absl::StrFormat("the fault is in effect (injecting it took %.2f s)",
                          ToSeconds(fault_ns_ - began_ns)));
  }
  report_->fault_at_s = ToSeconds(fault_ns_);
  fault_in_effect_.Notify();
}

void Drill::Event(const std::string& what) {
  const double t = workload_ ? ToSeconds(workload_->NowNs()) : 0;
  report_->events.push_back(absl::StrFormat("%7.2f s  %s", t, what));
}

void Drill::RunFor(double seconds) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < end) {
    workload_->RecordArchiveLag(deployment_.ArchiveLag());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void Drill::Run() {
  report_->scenario = ScenarioName(o_.scenario);
  report_->target = deployment_.target();
  report_->work_dir = o_.work_dir;
  if (absl::Status st = Phases(); !st.ok()) {
    report_->error = std::string(st.message());
    report_->passed = false;
  }
  if (workload_) report_->duration_s = ToSeconds(workload_->NowNs());
}

absl::Status Drill::Phases() {
  if (absl::Status st = deployment_.Start(); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("starting the deployment: ", st.message()));
  }
  DrillWorkloadOptions wo;
  wo.clients = o_.clients;
  wo.seed = o_.seed;
  workload_ = std::make_unique<DrillWorkload>(
      wo, deployment_.ClientOptionsFor(deployment_.ServingNodes()), deployment_.ServiceCertPem());
  if (absl::Status st = workload_->Start(); !st.ok()) return st;
  Event(absl::StrCat("workload started: ", o_.clients, " clients on nodes 1-3 (region primary); ",
                     "geo-replica node 4 (region paired) archiving (", deployment_.target(), ")"));
  SetProbeEndpoints(deployment_.ServingNodes());
  probe_ = std::thread([this, o = deployment_.ClientOptionsFor(deployment_.ServingNodes()),
                        cert = deployment_.ServiceCertPem()] { RunProbe(o, cert); });
  RunFor(Hold());
  // Until the fault is in effect (FaultInEffect), its time is when the
  // injection begins.
  fault_ns_ = workload_->NowNs();
  report_->fault_at_s = ToSeconds(fault_ns_);
  absl::Status injected = InjectAndRecover();
  report_->recovered_at_s = ToSeconds(workload_->NowNs());
  if (!injected.ok()) {
    StopProbe();
    workload_->Stop();
    return injected;
  }
  RunFor(Hold());
  FinishProbe(60);
  // The checks judge the history after the fault too: the clients must
  // have been served again (calls begun before a lost region come back
  // only at their deadline).
  const int64_t recovered_ns = workload_->NowNs();
  absl::Status served = testing::PollUntil(
      [&] {
        workload_->RecordArchiveLag(deployment_.ArchiveLag());
        return workload_->AppendsAckedAfter(fault_ns_) >= 20 &&
               workload_->NowNs() - recovered_ns >= 1'000'000'000;
      },
      std::chrono::seconds(60), "20 appends acknowledged after the fault");
  if (!served.ok()) Event(std::string(served.message()));
  served_again_ = served.ok();
  workload_->Stop();
  Event("workload stopped");

  // Every serving replica up and level before the ledger is read back.
  if (absl::Status st = deployment_.WaitForLeader().status(); !st.ok()) return st;
  if (absl::Status st = robustness::WaitConverged(deployment_, deployment_.Replicas()); !st.ok()) {
    return st;
  }
  auto reader = client::Client::Create(deployment_.ClientOptionsFor(deployment_.ServingNodes()));
  if (!reader.ok()) return reader.status();
  auto ledger = robustness::ReadLedger(reader->get(), workload_->collections());
  if (!ledger.ok()) return ledger.status();
  const History history = workload_->TakeHistory();
  const std::vector<bool> geo_flags = workload_->TakeGeoFlags();
  report_->timeline = workload_->Timeline();
  Check(history, geo_flags, *ledger);
  report_->passed = std::all_of(report_->checks.begin(), report_->checks.end(),
                                [](const DrillCheck& c) { return c.passed; });
  return absl::OkStatus();
}

absl::Status Drill::InjectAndRecover() {
  switch (o_.scenario) {
    case Scenario::kLeaderLoss: {
      absl::StatusOr<uint64_t> leader = deployment_.Leader();
      if (!leader.ok()) return leader.status();
      Event(absl::StrCat("fault: SIGKILL node ", *leader, " (the leader)"));
      deployment_.Kill(*leader);
      FaultInEffect();
      absl::StatusOr<uint64_t> next = deployment_.WaitForLeader(*leader);
      if (!next.ok()) return next.status();
      Event(absl::StrCat("node ", *next, " elected leader"));
      RunFor(Hold());
      Event(absl::StrCat("runbook: restart node ", *leader));
      return deployment_.Restart(*leader);
    }
    case Scenario::kMinorityLoss: {
      absl::StatusOr<uint64_t> leader = deployment_.Leader();
      if (!leader.ok()) return leader.status();
      const uint64_t victim = *leader == 1 ? 2 : 1;
      Event(absl::StrCat("fault: SIGKILL node ", victim, " (a follower: one of three voters)"));
      deployment_.Kill(victim);
      FaultInEffect();
      RunFor(Hold());
      Event(absl::StrCat("runbook: restart node ", victim));
      return deployment_.Restart(victim);
    }
    case Scenario::kPartition: {
      absl::StatusOr<uint64_t> leader = deployment_.Leader();
      if (!leader.ok()) return leader.status();
      Event(absl::StrCat("fault: node ", *leader, " (the leader) cut off from every peer; ",
                         deployment_.IsolationNote()));
      if (absl::Status st = deployment_.Isolate(*leader); !st.ok()) return st;
      FaultInEffect();
      absl::StatusOr<uint64_t> next = deployment_.WaitForLeader(*leader);
      if (next.ok()) Event(absl::StrCat("node ", *next, " elected leader"));
      RunFor(Hold());
      Event("partition healed");
      return deployment_.HealLinks();
    }
    case Scenario::kPause: {
      absl::StatusOr<uint64_t> leader = deployment_.Leader();
      if (!leader.ok()) return leader.status();
      Event(absl::StrCat("fault: SIGSTOP node ", *leader, " (the leader)"));
      deployment_.Pause(*leader);
      FaultInEffect();
      RunFor(Hold());
      Event(absl::StrCat("SIGCONT node ", *leader));
      deployment_.Resume(*leader);
      return absl::OkStatus();
    }
    case Scenario::kRollingRestart:
      return RollingRestart();
    case Scenario::kStoreOutage: {
      Event("fault: the archive store is unreachable");
      if (absl::Status st = deployment_.StoreDown(); !st.ok()) return st;
      FaultInEffect();
      RunFor(Hold());
      Event("the archive store is back");
      if (absl::Status st = deployment_.StoreUp(); !st.ok()) return st;
      absl::Status caught_up = deployment_.WaitArchiveCaughtUp(std::chrono::seconds(120));
      if (caught_up.ok()) Event("the archive caught up");
      return caught_up;
    }
    case Scenario::kRegionLoss:
      return RecoverRegion();
  }
  return absl::InternalError("unknown scenario");
}

// The runbook's rolling restart: followers first, one at a time, each
// caught up before the next; the leader last (it hands off on SIGTERM).
absl::Status Drill::RollingRestart() {
  absl::StatusOr<uint64_t> leader = deployment_.Leader();
  if (!leader.ok()) return leader.status();
  std::vector<uint64_t> order;
  for (uint64_t id : deployment_.ServingNodes()) {
    if (id != *leader) order.push_back(id);
  }
  order.push_back(*leader);
  order.push_back(Deployment::kGeoReplica);
  Event(absl::StrCat("fault: rolling restart, in the order ", absl::StrJoin(order, ", ")));
  for (uint64_t id : order) {
    Event(absl::StrCat("SIGTERM node ", id));
    if (absl::Status st = deployment_.Stop(id); !st.ok()) return st;
    FaultInEffect();
    if (absl::Status st = deployment_.Restart(id); !st.ok()) return st;
    absl::StatusOr<uint64_t> now_leader = deployment_.WaitForLeader();
    if (!now_leader.ok()) return now_leader.status();
    const double target = deployment_.Metric(*now_leader, "cairn_raft_commit_index");
    absl::Status caught_up = testing::PollUntil(
        [&] { return deployment_.Metric(id, "cairn_raft_applied_index") >= target; },
        std::chrono::seconds(60), absl::StrCat("node ", id, " to catch up"));
    if (!caught_up.ok()) return caught_up;
    Event(absl::StrCat("node ", id, " restarted and caught up"));
    RunFor(1);
  }
  return absl::OkStatus();
}

// The runbook of docs/operations.md, "Recovering from the loss of the
// primary region": the old service stays down, the archive is verified,
// `cairn-node recover` rebuilds the service on a node of the paired region,
// clients are pointed at it.
absl::Status Drill::RecoverRegion() {
  absl::StatusOr<uint64_t> leader = deployment_.Leader();
  if (leader.ok()) {
    const double committed = deployment_.Metric(*leader, "cairn_raft_commit_index");
    if (committed > 0) committed_before_loss_ = static_cast<uint64_t>(committed);
  }
  if (o_.test_drop_last_archived_segment) {
    // The planted fault must bite: the geo-replica is held still until
    // the archive's last segment holds an acknowledged GEO_DURABLE write
    // (an acknowledgement follows the upload by milliseconds).
    absl::Status held = testing::PollUntil(
        [&] {
          deployment_.Pause(Deployment::kGeoReplica);
          absl::StatusOr<std::pair<uint64_t, uint64_t>> last = deployment_.LastArchivedSegment();
          if (last.ok() && workload_->AckedGeoDurableIn(last->first, last->second)) return true;
          deployment_.Resume(Deployment::kGeoReplica);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          return false;
        },
        std::chrono::seconds(60), "an acknowledged GEO_DURABLE write in the last segment");
    if (!held.ok()) return held;
  }
  Event("fault: the primary region is lost (SIGKILL nodes 1-3 and the geo-replica at once)");
  deployment_.LoseRegion();
  FaultInEffect();
  if (o_.test_drop_last_archived_segment) {
    absl::StatusOr<std::pair<uint64_t, uint64_t>> dropped = deployment_.DropLastArchivedSegment();
    if (!dropped.ok()) return dropped.status();
    dropped_ = *dropped;
    report_->test_dropped_segment = *dropped;
    Event(absl::StrCat("test switch: the archive's last segment (log indexes ", dropped->first,
                       " to ", dropped->second, ") dropped"));
  }
  Event("runbook: cairnctl dr verify of the archive");
  if (absl::Status st = deployment_.VerifyArchive(); !st.ok()) return st;
  Event("runbook: cairn-node recover onto node 5 (region paired)");
  absl::StatusOr<Recovery> recovery = deployment_.RecoverInPairedRegion();
  if (!recovery.ok()) return recovery.status();
  recovered_last_index_ = recovery->last_index;
  report_->recovered_last_index = recovery->last_index;
  report_->recover_s = recovery->seconds;
  Event(absl::StrFormat("recovered through txid %s in %.2f s; node 5 started as the one voter",
                        recovery->last_txid, recovery->seconds));
  // The recovered service has no geo-replica until the operator adds one
  // (runbook step 5): GEO_DURABLE appends would only wait.
  workload_->SetGeoDurable(false);
  if (absl::Status st = workload_->Retarget({deployment_.ClientAddress(Deployment::kSpare)});
      !st.ok()) {
    return st;
  }
  SetProbeEndpoints(deployment_.ServingNodes());
  Event("clients pointed at node 5; GEO_DURABLE appends off (no geo-replica yet)");
  return GrowRecoveredService();
}

absl::Status Drill::GrowRecoveredService() {
  for (uint64_t id : {Deployment::kSpare + 1, Deployment::kSpare + 2}) {
    if (absl::Status st = deployment_.AddRecoveredVoter(id); !st.ok()) return st;
    Event(absl::StrCat("runbook: node ", id, " joined (region paired), caught up, promoted"));
  }
  return absl::OkStatus();
}

void Drill::Check(const History& history, const std::vector<bool>& geo_flags,
                  const std::vector<LedgerEntry>& ledger) {
  Evidence e;
  e.region_loss = o_.scenario == Scenario::kRegionLoss;
  e.history = history;
  e.geo_flags = geo_flags;
  e.ledger = ledger;
  e.collections = workload_->collections().size();
  e.fault_ns = fault_ns_;
  e.committed_before_loss = committed_before_loss_;
  e.recovered_last_index = recovered_last_index_;
  e.dropped = dropped_;
  e.receipts = workload_->TakeReceipts();
  e.service_cert_pem = deployment_.ServiceCertPem();
  e.served_again = served_again_;
  JudgeHistory(e, report_);

  // Replicas agree, and none died on its own.
  std::vector<robustness::Anomaly> replicas = robustness::CheckReplicas(
      deployment_, deployment_.Replicas(), workload_->collections(), ledger);
  for (robustness::Anomaly& a : robustness::CrashedNodes(deployment_, deployment_.Replicas())) {
    replicas.push_back(std::move(a));
  }
  std::string replica_detail =
      absl::StrCat("nodes ", absl::StrJoin(deployment_.Replicas(), ", "), " list the same ",
                   ledger.size(), " entries and serve the same checkpoint");
  if (!replicas.empty()) replica_detail = replicas.front().detail;
  report_->AddCheck("replicas_agree", replicas.empty(), replica_detail);

  // The archive verifies (after a region loss: the one recovered from).
  absl::Status archive = absl::OkStatus();
  if (!e.region_loss) archive = deployment_.WaitArchiveCaughtUp(std::chrono::seconds(60));
  if (archive.ok()) archive = deployment_.VerifyArchive();
  report_->AddCheck("archive_verifies", archive.ok(),
                    archive.ok() ? "cairnctl dr verify: every segment and checkpoint verified"
                                 : std::string(archive.message()));

  // Residency held.
  absl::Status residency = deployment_.CheckResidency();
  report_->AddCheck("residency_held", residency.ok(),
                    residency.ok() ? "every member and the archive in primary or paired"
                                   : std::string(residency.message()));

  JudgeRecovery(e, Bounds{o_.rpo_max_entries, o_.rto_max_s}, report_);
}

}  // namespace

std::vector<Scenario> AllScenarios() {
  std::vector<Scenario> all;
  for (const auto& [scenario, name] : Names()) all.push_back(scenario);
  return all;
}

std::string ScenarioName(Scenario scenario) { return Names().at(scenario); }

absl::StatusOr<Scenario> ParseScenario(const std::string& name) {
  std::vector<std::string> known;
  for (const auto& [scenario, n] : Names()) {
    if (n == name) return scenario;
    known.push_back(n);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown scenario '", name, "'; one of: ", absl::StrJoin(known, ", ")));
}

DrillReport RunDrill(const DrillOptions& options, Deployment* deployment) {
  DrillReport report;
  Drill drill(options, deployment, &report);
  drill.Run();
  return report;
}

}  // namespace cairn::drill
