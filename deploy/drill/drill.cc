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
#include "cairn/client/verify.h"
#include "drill/drill_workload.h"
#include "drill/local_deployment.h"
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
class LocalDrill {
 public:
  LocalDrill(const DrillOptions& options, DrillReport* report)
      : o_(options), report_(report), deployment_(options.work_dir) {}

  // Runs every phase; an infrastructure failure ends it with report->error.
  void Run();

 private:
  absl::Status Phases();
  absl::Status InjectAndRecover();
  // Lets the workload run for `seconds`, sampling the archive lag.
  void RunFor(double seconds);
  void Event(const std::string& what);
  absl::Status RollingRestart();
  absl::Status RecoverRegion();
  // The RTO probe: from the fault on, a fresh client appends to the
  // collection drill-probe until one append is acknowledged, then fetches
  // that entry's receipt and verifies it against the service certificate.
  void RunProbe(client::ClientOptions o, const std::string& service_cert);
  void SetProbeEndpoints(const std::vector<uint64_t>& nodes);
  // Waits (bounded) until the probe has measured both, and joins it.
  void FinishProbe(double seconds_max);
  // Runbook step 4 after a recovery: nodes 6 and 7 join the recovered
  // node as learners, catch up and are promoted.
  absl::Status GrowRecoveredService();
  void Check(const History& history, const std::vector<bool>& geo_flags,
             const std::vector<LedgerEntry>& ledger);

  double Hold() const { return std::max<double>(3, static_cast<double>(o_.duration_s) / 3); }

  const DrillOptions& o_;
  DrillReport* const report_;
  LocalDeployment deployment_;
  std::unique_ptr<DrillWorkload> workload_;
  int64_t fault_ns_ = -1;
  // region-loss: what the old service had committed (its leader's commit
  // index just before the loss), and what the recovery kept.
  uint64_t committed_before_loss_ = 0;
  uint64_t recovered_last_index_ = 0;
  std::optional<std::pair<uint64_t, uint64_t>> dropped_;

  std::thread probe_;
  std::atomic<bool> probe_stop_{false};
  std::atomic<int64_t> probe_write_ns_{-1};
  std::atomic<int64_t> probe_read_ns_{-1};
  absl::Mutex probe_mu_;
  std::vector<std::string> probe_endpoints_ ABSL_GUARDED_BY(probe_mu_);
};

void LocalDrill::SetProbeEndpoints(const std::vector<uint64_t>& nodes) {
  std::vector<std::string> endpoints;
  for (uint64_t id : nodes) endpoints.push_back(deployment_.cluster().node(id).client_address());
  absl::MutexLock lock(&probe_mu_);
  probe_endpoints_ = std::move(endpoints);
}

void LocalDrill::RunProbe(client::ClientOptions o, const std::string& service_cert) {
  o.call_timeout_ms = 1000;
  o.retry.total_timeout_ms = 3000;
  for (uint64_t n = 1; !probe_stop_; ++n) {
    {
      absl::MutexLock lock(&probe_mu_);
      o.endpoints = probe_endpoints_;
    }
    auto client = client::Client::Create(o);
    if (!client.ok()) return;
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
    while (!probe_stop_) {
      absl::StatusOr<v1::Receipt> receipt = (*client)->GetReceipt(r->txid, ro);
      client::ReceiptExpectations expect;
      expect.contents = contents;
      if (receipt.ok() && client::VerifyReceipt(*receipt, service_cert, expect).ok()) {
        probe_read_ns_ = workload_->NowNs();
        return;
      }
    }
    return;
  }
}

void LocalDrill::FinishProbe(double seconds_max) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds_max * 1000));
  while (probe_read_ns_ < 0 && std::chrono::steady_clock::now() < end) {
    workload_->RecordArchiveLag(deployment_.ArchiveLag());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  probe_stop_ = true;
  if (probe_.joinable()) probe_.join();
  if (probe_write_ns_ >= 0) report_->rto_first_write_s = ToSeconds(probe_write_ns_ - fault_ns_);
  if (probe_read_ns_ >= 0) {
    report_->rto_first_verified_read_s = ToSeconds(probe_read_ns_ - fault_ns_);
  }
}

void LocalDrill::Event(const std::string& what) {
  const double t = workload_ ? ToSeconds(workload_->NowNs()) : 0;
  report_->events.push_back(absl::StrFormat("%7.2f s  %s", t, what));
}

void LocalDrill::RunFor(double seconds) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < end) {
    workload_->RecordArchiveLag(deployment_.ArchiveLag());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void LocalDrill::Run() {
  report_->scenario = ScenarioName(o_.scenario);
  report_->target = "local";
  report_->work_dir = o_.work_dir;
  if (absl::Status st = Phases(); !st.ok()) {
    report_->error = std::string(st.message());
    report_->passed = false;
  }
  if (workload_) report_->duration_s = ToSeconds(workload_->NowNs());
}

absl::Status LocalDrill::Phases() {
  if (absl::Status st = deployment_.Start(); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("starting the deployment: ", st.message()));
  }
  DrillWorkloadOptions wo;
  wo.clients = o_.clients;
  wo.seed = o_.seed;
  workload_ = std::make_unique<DrillWorkload>(
      wo, deployment_.ClientOptionsFor(deployment_.ServingNodes()), deployment_.ServiceCertPem());
  if (absl::Status st = workload_->Start(); !st.ok()) return st;
  Event("workload started: " + std::to_string(o_.clients) +
        " clients on nodes 1-3 (region primary); geo-replica node 4 (region paired) archiving");
  RunFor(Hold());
  SetProbeEndpoints(deployment_.ServingNodes());
  fault_ns_ = workload_->NowNs();
  report_->fault_at_s = ToSeconds(fault_ns_);
  probe_ = std::thread([this, o = deployment_.ClientOptionsFor(deployment_.ServingNodes()),
                        cert = deployment_.ServiceCertPem()] { RunProbe(o, cert); });
  absl::Status injected = InjectAndRecover();
  report_->recovered_at_s = ToSeconds(workload_->NowNs());
  if (!injected.ok()) {
    probe_stop_ = true;
    probe_.join();
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
  workload_->Stop();
  Event("workload stopped");

  // Every serving replica up and level before the ledger is read back.
  if (absl::Status st = deployment_.WaitForLeader().status(); !st.ok()) return st;
  if (absl::Status st = robustness::WaitConverged(deployment_.cluster(), deployment_.Replicas());
      !st.ok()) {
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

absl::Status LocalDrill::InjectAndRecover() {
  switch (o_.scenario) {
    case Scenario::kLeaderLoss: {
      absl::StatusOr<uint64_t> leader = deployment_.Leader();
      if (!leader.ok()) return leader.status();
      Event(absl::StrCat("fault: SIGKILL node ", *leader, " (the leader)"));
      deployment_.Kill(*leader);
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
      RunFor(Hold());
      Event(absl::StrCat("runbook: restart node ", victim));
      return deployment_.Restart(victim);
    }
    case Scenario::kPartition: {
      absl::StatusOr<uint64_t> leader = deployment_.Leader();
      if (!leader.ok()) return leader.status();
      Event(absl::StrCat("fault: node ", *leader,
                         " (the leader) cut off from every peer; clients still reach it"));
      deployment_.Isolate(*leader);
      absl::StatusOr<uint64_t> next = deployment_.WaitForLeader(*leader);
      if (next.ok()) Event(absl::StrCat("node ", *next, " elected leader"));
      RunFor(Hold());
      Event("partition healed");
      deployment_.HealLinks();
      return absl::OkStatus();
    }
    case Scenario::kPause: {
      absl::StatusOr<uint64_t> leader = deployment_.Leader();
      if (!leader.ok()) return leader.status();
      Event(absl::StrCat("fault: SIGSTOP node ", *leader, " (the leader)"));
      deployment_.Pause(*leader);
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
absl::Status LocalDrill::RollingRestart() {
  absl::StatusOr<uint64_t> leader = deployment_.Leader();
  if (!leader.ok()) return leader.status();
  std::vector<uint64_t> order;
  for (uint64_t id : deployment_.ServingNodes()) {
    if (id != *leader) order.push_back(id);
  }
  order.push_back(*leader);
  order.push_back(LocalDeployment::kGeoReplica);
  Event(absl::StrCat("fault: rolling restart, in the order ", absl::StrJoin(order, ", ")));
  for (uint64_t id : order) {
    testing::NodeProcess& node = deployment_.cluster().node(id);
    Event(absl::StrCat("SIGTERM node ", id));
    if (absl::Status st = deployment_.Stop(id); !st.ok()) return st;
    if (absl::Status st = deployment_.Restart(id); !st.ok()) return st;
    absl::StatusOr<uint64_t> now_leader = deployment_.WaitForLeader();
    if (!now_leader.ok()) return now_leader.status();
    const double target = deployment_.cluster().node(*now_leader).Metric("cairn_raft_commit_index");
    absl::Status caught_up =
        testing::PollUntil([&] { return node.Metric("cairn_raft_applied_index") >= target; },
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
absl::Status LocalDrill::RecoverRegion() {
  absl::StatusOr<uint64_t> leader = deployment_.Leader();
  if (leader.ok()) {
    const double committed = deployment_.cluster().node(*leader).Metric("cairn_raft_commit_index");
    if (committed > 0) committed_before_loss_ = static_cast<uint64_t>(committed);
  }
  if (o_.test_drop_last_archived_segment) {
    // The planted fault must bite: the geo-replica is held still until
    // the archive's last segment holds an acknowledged GEO_DURABLE write
    // (an acknowledgement follows the upload by milliseconds).
    absl::Status held = testing::PollUntil(
        [&] {
          deployment_.Pause(LocalDeployment::kGeoReplica);
          absl::StatusOr<std::pair<uint64_t, uint64_t>> last = deployment_.LastArchivedSegment();
          if (last.ok() && workload_->AckedGeoDurableIn(last->first, last->second)) return true;
          deployment_.Resume(LocalDeployment::kGeoReplica);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          return false;
        },
        std::chrono::seconds(60), "an acknowledged GEO_DURABLE write in the last segment");
    if (!held.ok()) return held;
  }
  Event("fault: the primary region is lost (SIGKILL nodes 1-3 and the geo-replica at once)");
  deployment_.LoseRegion();
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
  if (absl::Status st = workload_->Retarget(
          {deployment_.cluster().node(LocalDeployment::kSpare).client_address()});
      !st.ok()) {
    return st;
  }
  SetProbeEndpoints(deployment_.ServingNodes());
  Event("clients pointed at node 5; GEO_DURABLE appends off (no geo-replica yet)");
  return GrowRecoveredService();
}

absl::Status LocalDrill::GrowRecoveredService() {
  for (uint64_t id : {LocalDeployment::kSpare + 1, LocalDeployment::kSpare + 2}) {
    if (absl::Status st = deployment_.AddRecoveredVoter(id); !st.ok()) return st;
    Event(absl::StrCat("runbook: node ", id, " joined (region paired), caught up, promoted"));
  }
  return absl::OkStatus();
}

void LocalDrill::Check(const History& history, const std::vector<bool>& geo_flags,
                       const std::vector<LedgerEntry>& ledger) {
  const bool region_loss = o_.scenario == Scenario::kRegionLoss;
  std::map<std::string, const LedgerEntry*> by_value;
  for (const LedgerEntry& e : ledger) by_value[e.contents] = &e;

  // The acknowledged writes, and those the ledger no longer holds.
  std::set<std::string> lost_values;
  uint64_t max_acked_index = 0;
  int64_t oldest_lost_ns = -1;
  for (size_t i = 0; i < history.size(); ++i) {
    const robustness::Operation& op = history[i];
    if (op.kind != OpKind::kAppend || op.outcome != Outcome::kOk) continue;
    const bool geo = i < geo_flags.size() && geo_flags[i];
    ++report_->acked_writes;
    if (geo) ++report_->acked_geo_durable_writes;
    if (op.complete_ns <= fault_ns_) max_acked_index = std::max(max_acked_index, op.txid_index);
    if (by_value.count(op.value)) continue;
    lost_values.insert(op.value);
    report_->lost_writes.push_back({robustness::TxidString(op.txid_term, op.txid_index),
                                    op.collection, geo, ToSeconds(op.complete_ns)});
    ++report_->lost_acked_writes;
    if (geo) ++report_->lost_geo_durable_writes;
    if (oldest_lost_ns < 0 || op.complete_ns < oldest_lost_ns) oldest_lost_ns = op.complete_ns;
  }
  std::sort(report_->lost_writes.begin(), report_->lost_writes.end(),
            [](const LostWrite& a, const LostWrite& b) { return a.acked_at_s < b.acked_at_s; });
  if (region_loss) {
    const uint64_t committed = std::max(committed_before_loss_, max_acked_index);
    report_->rpo_entries =
        committed > recovered_last_index_ ? committed - recovered_last_index_ : 0;
  } else {
    report_->rpo_entries = report_->lost_acked_writes;
  }
  if (oldest_lost_ns >= 0) report_->rpo_s = std::max(0.0, ToSeconds(fault_ns_ - oldest_lost_ns));

  // 1. Linearizable, every acknowledged write once at its txid, nothing
  // refused written (robustness/checker.h). After a region loss the lost
  // writes, and reads that saw them, are left out: the loss is reported
  // and checked on its own below.
  // A read of a value the final ledger lacks saw a write that the old
  // service committed and lost, acknowledged or not yet.
  History judged;
  uint64_t reads_of_lost = 0;
  for (const robustness::Operation& op : history) {
    if (region_loss && op.kind == OpKind::kAppend && lost_values.count(op.value)) continue;
    if (region_loss && op.kind == OpKind::kReadCurrent && op.read_found &&
        op.invoke_ns < fault_ns_ && !by_value.count(op.read_value)) {
      ++reads_of_lost;
      continue;
    }
    judged.push_back(op);
  }
  const robustness::CheckResult result = robustness::Check(judged, ledger);
  std::string judged_detail =
      absl::StrCat(judged.size(), " operations on ", workload_->collections().size(),
                   " collections, ", ledger.size(), " entries");
  if (reads_of_lost > 0) {
    absl::StrAppend(&judged_detail, "; ", reads_of_lost,
                    " reads of lost writes before the fault left out");
  }
  report_->AddCheck("linearizable", result.ok(), result.ok() ? judged_detail : result.ToString(5));

  // 2. Every acknowledged write present exactly once, unless lost.
  if (region_loss) {
    report_->AddCheck("acked_writes_present",
                      result.Count(robustness::AnomalyKind::kAckedAppendLost) == 0,
                      absl::StrCat(report_->acked_writes - report_->lost_acked_writes, " of ",
                                   report_->acked_writes, " present; ", report_->lost_acked_writes,
                                   " reported lost"));
    // The loss is exactly the tail the archive did not hold: every acked
    // write after the recovered index is lost, none before it.
    uint64_t misplaced = 0;
    for (size_t i = 0; i < history.size(); ++i) {
      const robustness::Operation& op = history[i];
      if (op.kind != OpKind::kAppend || op.outcome != Outcome::kOk) continue;
      const bool lost = lost_values.count(op.value) > 0;
      const bool after = op.invoke_ns < fault_ns_ && op.txid_index > recovered_last_index_;
      if (lost != after) ++misplaced;
    }
    std::string detail = absl::StrCat("recovered through log index ", recovered_last_index_,
                                      "; the old service had committed ", committed_before_loss_);
    if (dropped_) {
      absl::StrAppend(&detail, "; dropped segment held ", dropped_->first, " to ",
                      dropped_->second);
    }
    if (misplaced > 0) absl::StrAppend(&detail, "; ", misplaced, " writes on the wrong side");
    report_->AddCheck("loss_is_unarchived_tail", misplaced == 0, detail);
  } else {
    report_->AddCheck("acked_writes_present", lost_values.empty(),
                      lost_values.empty()
                          ? absl::StrCat("all ", report_->acked_writes, " present")
                          : absl::StrCat(lost_values.size(), " acknowledged writes lost"));
  }

  // 3. No GEO_DURABLE write lost, ever.
  report_->AddCheck("geo_durable_not_lost", report_->lost_geo_durable_writes == 0,
                    absl::StrCat(report_->lost_geo_durable_writes, " of ",
                                 report_->acked_geo_durable_writes, " GEO_DURABLE writes lost"));

  // 4. Replicas agree, and none died on its own.
  std::vector<robustness::Anomaly> replicas = robustness::CheckReplicas(
      deployment_.cluster(), deployment_.Replicas(), workload_->collections(), ledger);
  for (robustness::Anomaly& a :
       robustness::CrashedNodes(deployment_.cluster(), deployment_.Replicas())) {
    replicas.push_back(std::move(a));
  }
  std::string replica_detail =
      absl::StrCat("nodes ", absl::StrJoin(deployment_.Replicas(), ", "), " list the same ",
                   ledger.size(), " entries and serve the same checkpoint");
  if (!replicas.empty()) replica_detail = replicas.front().detail;
  report_->AddCheck("replicas_agree", replicas.empty(), replica_detail);

  // 5. The archive verifies (after a region loss: the one recovered from).
  absl::Status archive = absl::OkStatus();
  if (!region_loss) archive = deployment_.WaitArchiveCaughtUp(std::chrono::seconds(60));
  if (archive.ok()) archive = deployment_.VerifyArchive();
  report_->AddCheck("archive_verifies", archive.ok(),
                    archive.ok() ? "cairnctl dr verify: every segment and checkpoint verified"
                                 : std::string(archive.message()));

  // 6. Residency held.
  absl::Status residency = deployment_.CheckResidency();
  report_->AddCheck("residency_held", residency.ok(),
                    residency.ok() ? "every member and the archive in primary or paired"
                                   : std::string(residency.message()));

  // 7. Every receipt kept before the fault verifies again, and its entry
  // is in the ledger at its txid (unless reported lost).
  const std::string service_cert = deployment_.ServiceCertPem();
  uint64_t refer_to_lost = 0;
  std::string receipt_failure;
  std::map<std::string, const LedgerEntry*> by_txid;
  for (const LedgerEntry& e : ledger) by_txid[robustness::TxidString(e.term, e.index)] = &e;
  for (const KeptReceipt& kept : workload_->TakeReceipts()) {
    if (kept.verified_ns > fault_ns_) continue;
    ++report_->receipts_kept;
    client::ReceiptExpectations expect;
    expect.contents = kept.contents;
    absl::Status v = client::VerifyReceipt(kept.receipt, service_cert, expect);
    const bool lost = lost_values.count(kept.contents) > 0;
    auto at = by_txid.find(kept.txid);
    const bool present = at != by_txid.end() && at->second->contents == kept.contents;
    if (v.ok() && (present || lost)) {
      ++report_->receipts_reverified;
      if (lost) ++refer_to_lost;
    } else if (receipt_failure.empty()) {
      receipt_failure =
          absl::StrCat(kept.txid, ": ", v.ok() ? "not in the ledger at its txid" : v.message());
    }
  }
  std::string receipt_detail = absl::StrCat(report_->receipts_reverified, " of ",
                                            report_->receipts_kept, " verified again offline");
  if (refer_to_lost > 0) absl::StrAppend(&receipt_detail, "; ", refer_to_lost, " of lost writes");
  if (!receipt_failure.empty())
    absl::StrAppend(&receipt_detail, "; first failure ", receipt_failure);
  report_->AddCheck(
      "receipts_reverified",
      report_->receipts_kept > 0 && report_->receipts_reverified == report_->receipts_kept,
      report_->receipts_kept == 0 ? "no receipt was kept before the fault" : receipt_detail);

  // 8. The bounds asked for.
  if (o_.rpo_max_entries) {
    report_->AddCheck("rpo_bound", report_->rpo_entries <= *o_.rpo_max_entries,
                      absl::StrCat(report_->rpo_entries, " entries lost, at most ",
                                   *o_.rpo_max_entries, " allowed"));
  }
  if (o_.rto_max_s) {
    const bool ok = report_->rto_first_write_s >= 0 && report_->rto_first_verified_read_s >= 0 &&
                    report_->rto_first_write_s <= *o_.rto_max_s &&
                    report_->rto_first_verified_read_s <= *o_.rto_max_s;
    report_->AddCheck(
        "rto_bound", ok,
        absl::StrFormat("first write %s, first verified read %s; at most %.2f s",
                        report_->rto_first_write_s < 0
                            ? "never"
                            : absl::StrFormat("%.2f s", report_->rto_first_write_s),
                        report_->rto_first_verified_read_s < 0
                            ? "never"
                            : absl::StrFormat("%.2f s", report_->rto_first_verified_read_s),
                        *o_.rto_max_s));
  }
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

DrillReport RunLocalDrill(const DrillOptions& options) {
  DrillReport report;
  LocalDrill drill(options, &report);
  drill.Run();
  return report;
}

}  // namespace cairn::drill
