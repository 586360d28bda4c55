// cairn-bench results: a human-readable table on stdout and a JSON document
// (--json-out) that scripts read. Latencies are reported in microseconds, per
// request; with --batch N, throughput is also given in entries (requests x N).
#pragma once

#include <iosfwd>
#include <string>

#include "load/driver.h"

namespace cairn::bench {

// What the run was, echoed into the report.
struct RunDescription {
  std::string target;    // "cairn" or "etcd"
  std::string workload;  // append, get, receipt, put, mix
  std::string endpoint;  // where the load went
  int connections = 0;
  int inflight = 0;
  size_t value_bytes = 0;
  // Entries per request (--batch): throughput in entries is requests x batch.
  size_t batch = 1;
  std::string label;
  // CPU seconds this process used during the run (user + system), or < 0.
  double client_cpu_s = -1;
};

void PrintReport(const RunDescription& run, const RunResult& result, std::ostream& out);
std::string ReportJson(const RunDescription& run, const RunResult& result);

}  // namespace cairn::bench
