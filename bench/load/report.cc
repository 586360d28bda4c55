// cairn-bench result printing (see report.h).
#include "load/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

namespace cairn::bench {
namespace {

double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

nlohmann::json LatencyJson(const LatencyHistogram& h) {
  return {{"count", h.count()},
          {"mean", Us(static_cast<uint64_t>(h.mean_ns()))},
          {"min", Us(h.min_ns())},
          {"p50", Us(h.ValueAtQuantile(0.50))},
          {"p90", Us(h.ValueAtQuantile(0.90))},
          {"p99", Us(h.ValueAtQuantile(0.99))},
          {"p999", Us(h.ValueAtQuantile(0.999))},
          {"max", Us(h.max_ns())}};
}

std::string Row(const char* name, uint64_t ok, uint64_t errors, double seconds,
                const LatencyHistogram& h) {
  char line[256];
  std::snprintf(line, sizeof(line), "  %-8s %10llu %8llu %11.1f %9.3f %9.3f %9.3f %9.3f %9.3f\n",
                name, static_cast<unsigned long long>(ok), static_cast<unsigned long long>(errors),
                seconds > 0 ? static_cast<double>(ok) / seconds : 0.0,
                Us(h.ValueAtQuantile(0.50)) / 1000, Us(h.ValueAtQuantile(0.90)) / 1000,
                Us(h.ValueAtQuantile(0.99)) / 1000, Us(h.ValueAtQuantile(0.999)) / 1000,
                Us(h.max_ns()) / 1000);
  return line;
}

double RequestsPerSecond(const RunResult& result) {
  return result.measured_s > 0 ? static_cast<double>(result.ok()) / result.measured_s : 0.0;
}

// Every request of a run carries run.batch entries (only appends are batched).
double EntriesPerSecond(const RunDescription& run, const RunResult& result) {
  return RequestsPerSecond(result) * static_cast<double>(run.batch);
}

double ClientCpuUsPerRequest(const RunDescription& run, const RunResult& result) {
  if (run.client_cpu_s < 0 || result.completed_total == 0) return -1;
  return run.client_cpu_s * 1e6 / static_cast<double>(result.completed_total);
}

}  // namespace

void PrintReport(const RunDescription& run, const RunResult& result, std::ostream& out) {
  out << "cairn-bench: target=" << run.target << " workload=" << run.workload
      << " endpoint=" << run.endpoint << " connections=" << run.connections
      << " inflight=" << run.inflight << " (" << run.connections * run.inflight
      << " outstanding) value_bytes=" << run.value_bytes << " batch=" << run.batch << "\n";
  out << "  measured " << result.measured_s << " s\n";
  out << "  op               ok   errors       req/s   p50(ms)   p90(ms)   p99(ms) p99.9(ms)"
         "   max(ms)\n";
  int ops = 0;
  for (size_t i = 0; i < kOpCount; ++i) {
    if (!result.ops[i]) continue;
    ++ops;
    const OpStats& s = *result.ops[i];
    out << Row(OpName(static_cast<Op>(i)), s.ok, s.errors(), result.measured_s, s.latency);
  }
  if (ops > 1) {
    out << Row("all", result.ok(), result.errors(), result.measured_s, result.AllLatency());
  }
  if (run.batch > 1) {
    char entries[128];
    std::snprintf(entries, sizeof(entries), "  entries/s %.1f (%zu entries per request)\n",
                  EntriesPerSecond(run, result), run.batch);
    out << entries;
  }
  if (!result.first_error.empty()) out << "  first error: " << result.first_error << "\n";
  // One line for shell scripts: key=value, all operations together.
  const LatencyHistogram all = result.AllLatency();
  // New keys go at the end: scripts cut the first fields by position.
  char line[512];
  std::snprintf(line, sizeof(line),
                "result: ok=%llu errors=%llu throughput_per_s=%.1f p50_ms=%.3f p90_ms=%.3f "
                "p99_ms=%.3f p999_ms=%.3f max_ms=%.3f completed=%llu wall_s=%.3f "
                "client_cpu_us_per_req=%.1f batch=%zu entries_per_s=%.1f\n",
                static_cast<unsigned long long>(result.ok()),
                static_cast<unsigned long long>(result.errors()), RequestsPerSecond(result),
                Us(all.ValueAtQuantile(0.5)) / 1000, Us(all.ValueAtQuantile(0.9)) / 1000,
                Us(all.ValueAtQuantile(0.99)) / 1000, Us(all.ValueAtQuantile(0.999)) / 1000,
                Us(all.max_ns()) / 1000, static_cast<unsigned long long>(result.completed_total),
                result.wall_s, ClientCpuUsPerRequest(run, result), run.batch,
                EntriesPerSecond(run, result));
  out << line;
}

std::string ReportJson(const RunDescription& run, const RunResult& result) {
  nlohmann::json j;
  j["target"] = run.target;
  j["workload"] = run.workload;
  j["endpoint"] = run.endpoint;
  j["connections"] = run.connections;
  j["inflight"] = run.inflight;
  j["concurrency"] = run.connections * run.inflight;
  j["value_bytes"] = run.value_bytes;
  j["batch"] = run.batch;
  if (!run.label.empty()) j["label"] = run.label;
  j["measured_s"] = result.measured_s;
  j["ok"] = result.ok();
  j["errors"] = result.errors();
  j["throughput_per_s"] = RequestsPerSecond(result);
  j["entries_per_s"] = EntriesPerSecond(run, result);
  j["latency_us"] = LatencyJson(result.AllLatency());
  j["completed_total"] = result.completed_total;
  j["wall_s"] = result.wall_s;
  j["client_cpu_us_per_req"] = ClientCpuUsPerRequest(run, result);
  nlohmann::json ops = nlohmann::json::object();
  for (size_t i = 0; i < kOpCount; ++i) {
    if (!result.ops[i]) continue;
    const OpStats& s = *result.ops[i];
    nlohmann::json o;
    o["ok"] = s.ok;
    o["errors"] = s.errors();
    o["throughput_per_s"] =
        result.measured_s > 0 ? static_cast<double>(s.ok) / result.measured_s : 0.0;
    o["latency_us"] = LatencyJson(s.latency);
    nlohmann::json codes = nlohmann::json::object();
    for (const auto& [code, n] : s.errors_by_code) codes[std::to_string(code)] = n;
    o["errors_by_code"] = codes;
    ops[OpName(static_cast<Op>(i))] = o;
  }
  j["ops"] = ops;
  if (!result.first_error.empty()) j["first_error"] = result.first_error;
  return j.dump(2) + "\n";
}

}  // namespace cairn::bench
