// The judgement of a drill over what its clients saw, apart from the
// deployment so that it can be tested on histories made up to break each
// rule: what was acknowledged and what was lost (RPO), whether the history
// is linearizable with the losses accounted for, whether any GEO_DURABLE
// write was lost, whether the receipts kept before the fault verify again,
// whether the service answered again, and the bounds asked for. The checks
// that need the deployment (replicas agree, the archive verifies,
// residency held) are the drill's (drill.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "drill/drill_workload.h"
#include "drill/report.h"
#include "robustness/history.h"

namespace cairn::drill {

struct Evidence {
  // After a region loss, writes after the last recovered index may be lost.
  bool region_loss = false;
  robustness::History history;
  std::vector<bool> geo_flags;                  // per history operation
  std::vector<robustness::LedgerEntry> ledger;  // the final ledger's entries of the collections
  size_t collections = 0;
  int64_t fault_ns = 0;  // on the history's clock
  // region-loss: the old leader's commit index when last read before the
  // loss (RPO counts from it, or from a higher index a client saw), and
  // the last log index the recovery kept.
  uint64_t committed_before_loss = 0;
  uint64_t recovered_last_index = 0;
  // The log indexes of an archive segment dropped on purpose (test-only).
  std::optional<std::pair<uint64_t, uint64_t>> dropped;
  // Receipts fetched and verified during the drill; those verified before
  // the fault are checked again.
  std::vector<KeptReceipt> receipts;
  std::string service_cert_pem;
  // The workload's clients had appends acknowledged after the fault.
  bool served_again = false;
};

struct Bounds {
  std::optional<uint64_t> rpo_max_entries;
  std::optional<double> rto_max_s;
};

// Fills the report's acknowledged, lost and RPO fields and adds the checks
// linearizable, acked_writes_present, loss_is_unarchived_tail
// (region-loss), geo_durable_not_lost and receipts_reverified.
void JudgeHistory(const Evidence& evidence, DrillReport* report);

// Adds service_restored and the bounds (rpo_bound, rto_bound), from the
// RPO and RTO fields already in the report.
void JudgeRecovery(const Evidence& evidence, const Bounds& bounds, DrillReport* report);

}  // namespace cairn::drill
