// The judgement of a drill over what its clients saw (see judge.h).
#include "drill/judge.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cairn/client/verify.h"
#include "robustness/checker.h"

namespace cairn::drill {

using robustness::LedgerEntry;
using robustness::OpKind;
using robustness::Outcome;

namespace {

double ToSeconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Receipts kept before the fault: each verifies again offline, with its
// contents, and its entry is in the ledger at its txid, or is a reported
// lost write.
void JudgeReceipts(const Evidence& e, const std::set<std::string>& lost_values,
                   DrillReport* report) {
  uint64_t refer_to_lost = 0;
  std::string receipt_failure;
  std::map<std::string, const LedgerEntry*> by_txid;
  for (const LedgerEntry& entry : e.ledger) {
    by_txid[robustness::TxidString(entry.term, entry.index)] = &entry;
  }
  for (const KeptReceipt& kept : e.receipts) {
    if (kept.verified_ns > e.fault_ns) continue;
    ++report->receipts_kept;
    client::ReceiptExpectations expect;
    expect.contents = kept.contents;
    absl::Status v = client::VerifyReceipt(kept.receipt, e.service_cert_pem, expect);
    const bool lost = lost_values.count(kept.contents) > 0;
    auto at = by_txid.find(kept.txid);
    const bool present = at != by_txid.end() && at->second->contents == kept.contents;
    if (v.ok() && (present || lost)) {
      ++report->receipts_reverified;
      if (lost) ++refer_to_lost;
    } else if (receipt_failure.empty()) {
      receipt_failure =
          absl::StrCat(kept.txid, ": ", v.ok() ? "not in the ledger at its txid" : v.message());
    }
  }
  std::string receipt_detail = absl::StrCat(report->receipts_reverified, " of ",
                                            report->receipts_kept, " verified again offline");
  if (refer_to_lost > 0) absl::StrAppend(&receipt_detail, "; ", refer_to_lost, " of lost writes");
  if (!receipt_failure.empty()) {
    absl::StrAppend(&receipt_detail, "; first failure ", receipt_failure);
  }
  report->AddCheck(
      "receipts_reverified",
      report->receipts_kept > 0 && report->receipts_reverified == report->receipts_kept,
      report->receipts_kept == 0 ? "no receipt was kept before the fault" : receipt_detail);
}

struct Losses {
  std::set<std::string> values;  // of the lost acknowledged writes
  uint64_t committed_known = 0;  // the highest index known committed before the fault
};

// Counts the acknowledged writes and those the final ledger lacks, and
// the RPO.
Losses CountLosses(const Evidence& e, const std::set<std::string>& in_ledger, DrillReport* report) {
  std::set<std::string> lost_values;
  uint64_t seen_index = 0;
  int64_t oldest_lost_ns = -1;
  for (size_t i = 0; i < e.history.size(); ++i) {
    const robustness::Operation& op = e.history[i];
    if (op.outcome != Outcome::kOk) continue;
    // Every index a client saw committed before the fault (acknowledged
    // or read) was committed by the old service.
    if (op.complete_ns <= e.fault_ns) seen_index = std::max(seen_index, op.txid_index);
    if (op.kind != OpKind::kAppend) continue;
    const bool geo = i < e.geo_flags.size() && e.geo_flags[i];
    ++report->acked_writes;
    if (geo) ++report->acked_geo_durable_writes;
    if (in_ledger.count(op.value)) continue;
    lost_values.insert(op.value);
    report->lost_writes.push_back({robustness::TxidString(op.txid_term, op.txid_index),
                                   op.collection, geo, ToSeconds(op.complete_ns)});
    ++report->lost_acked_writes;
    if (geo) ++report->lost_geo_durable_writes;
    if (oldest_lost_ns < 0 || op.complete_ns < oldest_lost_ns) oldest_lost_ns = op.complete_ns;
  }
  std::sort(report->lost_writes.begin(), report->lost_writes.end(),
            [](const LostWrite& a, const LostWrite& b) { return a.acked_at_s < b.acked_at_s; });
  const uint64_t committed = std::max(e.committed_before_loss, seen_index);
  if (e.region_loss) {
    report->rpo_entries =
        committed > e.recovered_last_index ? committed - e.recovered_last_index : 0;
  } else {
    report->rpo_entries = report->lost_acked_writes;
  }
  if (oldest_lost_ns >= 0) report->rpo_s = std::max(0.0, ToSeconds(e.fault_ns - oldest_lost_ns));
  return {lost_values, committed};
}

// Linearizable, every acknowledged write once at its txid, nothing refused
// written (robustness/checker.h). After a region loss the lost writes, and
// the reads before the fault of a value the final ledger lacks (a write the
// old service committed and lost, acknowledged or not yet), are left out:
// the loss is reported and checked on its own (CheckLossAccounted).
robustness::CheckResult CheckLinearizable(const Evidence& e, const std::set<std::string>& in_ledger,
                                          const std::set<std::string>& lost_values,
                                          DrillReport* report) {
  robustness::History judged;
  uint64_t reads_of_lost = 0;
  for (const robustness::Operation& op : e.history) {
    if (e.region_loss && op.kind == OpKind::kAppend && lost_values.count(op.value)) continue;
    if (e.region_loss && op.kind == OpKind::kReadCurrent && op.read_found &&
        op.invoke_ns < e.fault_ns && !in_ledger.count(op.read_value)) {
      ++reads_of_lost;
      continue;
    }
    judged.push_back(op);
  }
  const robustness::CheckResult result = robustness::Check(judged, e.ledger);
  std::string judged_detail = absl::StrCat(judged.size(), " operations on ", e.collections,
                                           " collections, ", e.ledger.size(), " entries");
  if (reads_of_lost > 0) {
    absl::StrAppend(&judged_detail, "; ", reads_of_lost,
                    " reads of lost writes before the fault left out");
  }
  report->AddCheck("linearizable", result.ok(), result.ok() ? judged_detail : result.ToString(5));
  return result;
}

// Every acknowledged write present unless lost; only a region loss may
// lose any, and then exactly those after the last recovered index; never a
// GEO_DURABLE one.
void CheckLossAccounted(const Evidence& e, const robustness::CheckResult& result,
                        const Losses& losses, DrillReport* report) {
  const std::set<std::string>& lost_values = losses.values;
  // Acknowledged writes missing, at another txid or twice (robustness/checker.h).
  const size_t misplaced_acks = result.Count(robustness::AnomalyKind::kAckedAppendLost) +
                                result.Count(robustness::AnomalyKind::kAckedAppendMismatch) +
                                result.Count(robustness::AnomalyKind::kDuplicateEntry);
  if (e.region_loss) {
    report->AddCheck(
        "acked_writes_present", misplaced_acks == 0,
        absl::StrCat(report->acked_writes - report->lost_acked_writes, " of ", report->acked_writes,
                     " present; ", report->lost_acked_writes, " reported lost",
                     misplaced_acks > 0 ? absl::StrCat("; ", misplaced_acks, " misplaced") : ""));
    // The loss is exactly the tail the archive did not hold: every acked
    // write after the recovered index is lost, none before it.
    uint64_t misplaced = 0;
    for (size_t i = 0; i < e.history.size(); ++i) {
      const robustness::Operation& op = e.history[i];
      if (op.kind != OpKind::kAppend || op.outcome != Outcome::kOk) continue;
      const bool lost = lost_values.count(op.value) > 0;
      const bool after = op.invoke_ns < e.fault_ns && op.txid_index > e.recovered_last_index;
      if (lost != after) ++misplaced;
    }
    std::string detail =
        absl::StrCat("recovered through log index ", e.recovered_last_index,
                     "; the old service had committed at least ", losses.committed_known);
    if (e.dropped) {
      absl::StrAppend(&detail, "; dropped segment held ", e.dropped->first, " to ",
                      e.dropped->second);
    }
    if (misplaced > 0) absl::StrAppend(&detail, "; ", misplaced, " writes on the wrong side");
    report->AddCheck("loss_is_unarchived_tail", misplaced == 0, detail);
  } else {
    const bool ok = lost_values.empty() && misplaced_acks == 0;
    report->AddCheck("acked_writes_present", ok,
                     ok ? absl::StrCat("all ", report->acked_writes, " present")
                        : absl::StrCat(lost_values.size(), " acknowledged writes lost, ",
                                       misplaced_acks, " missing, misplaced or doubled"));
  }

  // No GEO_DURABLE write lost, ever.
  report->AddCheck("geo_durable_not_lost", report->lost_geo_durable_writes == 0,
                   absl::StrCat(report->lost_geo_durable_writes, " of ",
                                report->acked_geo_durable_writes, " GEO_DURABLE writes lost"));
}

}  // namespace

void JudgeHistory(const Evidence& e, DrillReport* report) {
  std::set<std::string> in_ledger;
  for (const LedgerEntry& entry : e.ledger) in_ledger.insert(entry.contents);
  const Losses losses = CountLosses(e, in_ledger, report);
  const robustness::CheckResult result = CheckLinearizable(e, in_ledger, losses.values, report);
  CheckLossAccounted(e, result, losses, report);
  JudgeReceipts(e, losses.values, report);
}

void JudgeRecovery(const Evidence& e, const Bounds& bounds, DrillReport* report) {
  // The service answers again: the probe wrote and verified a receipt,
  // and the workload's clients were served.
  const bool restored =
      report->rto_first_write_s >= 0 && report->rto_first_verified_read_s >= 0 && e.served_again;
  report->AddCheck(
      "service_restored", restored,
      restored ? "the probe wrote and verified a receipt; clients served again"
               : absl::StrCat("probe write ", report->rto_first_write_s >= 0 ? "ok" : "never",
                              ", probe verified read ",
                              report->rto_first_verified_read_s >= 0 ? "ok" : "never",
                              ", clients served again: ", e.served_again ? "yes" : "no"));

  // The bounds asked for.
  if (bounds.rpo_max_entries) {
    report->AddCheck("rpo_bound", report->rpo_entries <= *bounds.rpo_max_entries,
                     absl::StrCat(report->rpo_entries, " entries lost, at most ",
                                  *bounds.rpo_max_entries, " allowed"));
  }
  if (bounds.rto_max_s) {
    const bool ok = report->rto_first_write_s >= 0 && report->rto_first_verified_read_s >= 0 &&
                    report->rto_first_write_s <= *bounds.rto_max_s &&
                    report->rto_first_verified_read_s <= *bounds.rto_max_s;
    report->AddCheck(
        "rto_bound", ok,
        absl::StrFormat("first write %s, first verified read %s; at most %.2f s",
                        report->rto_first_write_s < 0
                            ? "never"
                            : absl::StrFormat("%.2f s", report->rto_first_write_s),
                        report->rto_first_verified_read_s < 0
                            ? "never"
                            : absl::StrFormat("%.2f s", report->rto_first_verified_read_s),
                        *bounds.rto_max_s));
  }
}

}  // namespace cairn::drill
