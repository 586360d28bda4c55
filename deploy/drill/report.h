// What a drill reports: the figures an operator rehearses for (what was
// lost, RPO; how long until the service answered again, RTO), every check
// with its detail, and a per-second timeline. Printed as a table, written
// as JSON (docs/operations.md, "Drills", lists the fields) and, on request,
// as an SVG picture of the timeline with the fault marked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "drill/drill_workload.h"

namespace cairn::drill {

struct DrillCheck {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct LostWrite {
  std::string txid;
  std::string collection;
  bool geo_durable = false;
  double acked_at_s = 0;  // since the drill started
};

struct DrillReport {
  std::string scenario;
  std::string target;
  bool passed = false;
  // An infrastructure failure (a node that would not start, a recovery
  // that failed) ends the drill early; the error is in `error`.
  std::string error;
  uint64_t acked_writes = 0;
  uint64_t acked_geo_durable_writes = 0;
  uint64_t lost_acked_writes = 0;
  uint64_t lost_geo_durable_writes = 0;
  // Log entries the old service committed that the service after the
  // fault does not hold, and the age at the fault of the oldest lost
  // acknowledged write (how far back the surviving history ends).
  uint64_t rpo_entries = 0;
  double rpo_s = 0;
  // From the fault to the first append acknowledged, and to the first
  // receipt of an append made after the fault verified against the service
  // certificate (-1: never, within the drill).
  double rto_first_write_s = -1;
  double rto_first_verified_read_s = -1;
  // region-loss: the last log index the recovery kept, and how long
  // `cairn-node recover` took.
  uint64_t recovered_last_index = 0;
  double recover_s = 0;
  // --test-drop-last-archived-segment: the log indexes the dropped segment held.
  std::optional<std::pair<uint64_t, uint64_t>> test_dropped_segment;
  uint64_t receipts_kept = 0;        // kept before the fault
  uint64_t receipts_reverified = 0;  // of those, verified again after it
  std::vector<DrillCheck> checks;
  std::vector<LostWrite> lost_writes;
  // What the drill did, in order ("12.40 s  SIGKILL node 2 (the leader)").
  std::vector<std::string> events;
  std::vector<TimelineSecond> timeline;
  double fault_at_s = 0;
  double recovered_at_s = 0;  // the fault healed or the recovery done
  double duration_s = 0;
  std::string work_dir;

  void AddCheck(std::string name, bool passed, std::string detail) {
    checks.push_back({std::move(name), passed, std::move(detail)});
  }
};

std::string ReportJson(const DrillReport& report);
// The table a person reads at the end of a drill.
std::string ReportTable(const DrillReport& report);
// Appends/s, failed calls/s and archive lag over time, the fault and the
// recovery marked: a self-contained SVG document.
std::string TimelineSvg(const DrillReport& report);

}  // namespace cairn::drill
