// The node's Prometheus metrics (prometheus-cpp core registry) and the plain
// HTTP endpoint that serves them with the health checks:
//   GET /metrics  Prometheus text format
//   GET /healthz  200 while the process runs and its write path is healthy
//   GET /readyz   200 when the node can serve (knows a leader, caught up), 503 otherwise
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace httplib {
class Server;
}

namespace cairn::node {

class NodeMetrics {
 public:
  NodeMetrics();

  prometheus::Registry& registry() { return *registry_; }

 private:
  // Declared first: every metric below is registered in it.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  prometheus::Gauge& term;
  prometheus::Gauge& commit_index;
  prometheus::Gauge& applied_index;
  prometheus::Gauge& leader_id;
  prometheus::Gauge& is_leader;
  // Applied index minus the index of the last signature transaction applied.
  prometheus::Gauge& signature_lag_entries;
  prometheus::Histogram& append_latency_seconds;
  prometheus::Histogram& fsync_latency_seconds;
  prometheus::Counter& appends_committed_total;
  prometheus::Counter& appends_rejected_total;
  // Ledger segments (segment_exporter.h): last log index written to a
  // segment file, and failed export attempts (each retried after a pause).
  prometheus::Gauge& segments_exported_index;
  prometheus::Counter& segment_export_errors_total;
  // The geo-replica's archive (georeplica/archive_uploader.h): last log
  // index and tree size archived, entries applied here but not archived
  // yet, failed uploads (each retried with backoff), bytes uploaded, the
  // index of the snapshot latest.json names.
  prometheus::Gauge& archive_archived_index;
  prometheus::Gauge& archive_tree_size;
  prometheus::Gauge& archive_snapshot_index;
  prometheus::Gauge& archive_lag_entries;
  prometheus::Counter& archive_upload_errors_total;
  prometheus::Counter& archive_uploaded_bytes_total;

  // Follower lag as the leader sees it, one gauge per peer.
  prometheus::Gauge& FollowerLag(uint64_t peer_id);

 private:
  prometheus::Family<prometheus::Gauge>* follower_lag_family_;
};

class HttpServer {
 public:
  // `ready` returns OK when the node can serve requests, or why not.
  // `healthy` returns OK while the write path works.
  HttpServer(NodeMetrics* metrics, std::function<absl::Status()> healthy,
             std::function<absl::Status()> ready);
  ~HttpServer();

  // Binds `address` ("host:port") and serves on a thread of its own.
  absl::Status Start(const std::string& address);
  void Stop();

 private:
  NodeMetrics* metrics_;
  std::function<absl::Status()> healthy_;
  std::function<absl::Status()> ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cairn::node
