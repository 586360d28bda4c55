// Prometheus metrics and the /metrics, /healthz, /readyz endpoint (see metrics.h).
#include "observe/metrics.h"

#include <httplib.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cairn::node {
namespace {

prometheus::Gauge& MakeGauge(prometheus::Registry& r, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Histogram& MakeLatency(prometheus::Registry& r, const std::string& name,
                                   const std::string& help) {
  // 50 us to ~3 s, doubling.
  prometheus::Histogram::BucketBoundaries bounds;
  for (double b = 50e-6; b < 4.0; b *= 2) bounds.push_back(b);
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, bounds);
}

}  // namespace

NodeMetrics::NodeMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      term(MakeGauge(*registry_, "cairn_raft_term", "Current Raft term")),
      commit_index(MakeGauge(*registry_, "cairn_raft_commit_index", "Highest committed log index")),
      applied_index(MakeGauge(*registry_, "cairn_raft_applied_index", "Highest applied log index")),
      leader_id(
          MakeGauge(*registry_, "cairn_raft_leader_id", "Node id of the known leader, 0 if none")),
      is_leader(MakeGauge(*registry_, "cairn_raft_is_leader", "1 if this node is the leader")),
      signature_lag_entries(MakeGauge(*registry_, "cairn_signature_lag_entries",
                                      "Applied entries not yet covered by a signature")),
      append_latency_seconds(MakeLatency(*registry_, "cairn_append_latency_seconds",
                                         "Append latency from receipt to commit")),
      fsync_latency_seconds(MakeLatency(*registry_, "cairn_fsync_latency_seconds",
                                        "Latency of one synced log write (group commit)")),
      appends_committed_total(prometheus::BuildCounter()
                                  .Name("cairn_appends_committed_total")
                                  .Help("Appends answered as committed")
                                  .Register(*registry_)
                                  .Add({})),
      appends_rejected_total(prometheus::BuildCounter()
                                 .Name("cairn_appends_rejected_total")
                                 .Help("Appends refused (invalid, unauthorized, backpressure)")
                                 .Register(*registry_)
                                 .Add({})),
      segments_exported_index(MakeGauge(*registry_, "cairn_segments_exported_index",
                                        "Last log index written to a ledger segment file")),
      segment_export_errors_total(prometheus::BuildCounter()
                                      .Name("cairn_segment_export_errors_total")
                                      .Help("Failed segment exports (retried after a pause)")
                                      .Register(*registry_)
                                      .Add({})),
      archive_archived_index(MakeGauge(*registry_, "cairn_archive_archived_index",
                                       "Last log index the geo-replica archived")),
      archive_tree_size(MakeGauge(*registry_, "cairn_archive_tree_size",
                                  "Tree size of the newest archived signed checkpoint")),
      archive_snapshot_index(MakeGauge(*registry_, "cairn_archive_snapshot_index",
                                       "Log index of the archive's newest state snapshot")),
      archive_lag_entries(MakeGauge(*registry_, "cairn_archive_lag_entries",
                                    "Entries applied on the geo-replica but not archived yet")),
      archive_upload_errors_total(prometheus::BuildCounter()
                                      .Name("cairn_archive_upload_errors_total")
                                      .Help("Failed archive uploads (retried with backoff)")
                                      .Register(*registry_)
                                      .Add({})),
      archive_uploaded_bytes_total(prometheus::BuildCounter()
                                       .Name("cairn_archive_uploaded_bytes_total")
                                       .Help("Bytes of segments uploaded to the archive")
                                       .Register(*registry_)
                                       .Add({})),
      follower_lag_family_(&prometheus::BuildGauge()
                                .Name("cairn_follower_lag_entries")
                                .Help("Leader's last index minus the follower's match index")
                                .Register(*registry_)) {}

prometheus::Gauge& NodeMetrics::FollowerLag(uint64_t peer_id) {
  return follower_lag_family_->Add({{"peer", std::to_string(peer_id)}});
}

HttpServer::HttpServer(NodeMetrics* metrics, std::function<absl::Status()> healthy,
                       std::function<absl::Status()> ready)
    : metrics_(metrics), healthy_(std::move(healthy)), ready_(std::move(ready)) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start(const std::string& address) {
  const auto colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-address ", address, " is not host:port"));
  }
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus::TextSerializer().Serialize(metrics_->registry().Collect()),
                    "text/plain; version=0.0.4");
  });
  auto probe = [](const std::function<absl::Status()>& check, const char* ok_text) {
    return [check, ok_text](const httplib::Request&, httplib::Response& res) {
      const absl::Status st = check();
      res.status = st.ok() ? 200 : 503;
      res.set_content(st.ok() ? std::string(ok_text) + "\n" : std::string(st.message()) + "\n",
                      "text/plain");
    };
  };
  server_->Get("/healthz", probe(healthy_, "ok"));
  server_->Get("/readyz", probe(ready_, "ready"));
  if (!server_->bind_to_port(address.substr(0, colon), port)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on --http-address ", address));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace cairn::node
