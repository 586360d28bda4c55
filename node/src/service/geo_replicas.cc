// The leader's view of the geo-replicas (see geo_replicas.h).
#include "service/geo_replicas.h"

#include <chrono>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cairn/ledger/txid.h"

namespace cairn::node {

void GeoReplicas::Start() {
  expirer_ = std::thread([this] {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(20))) return;
      }
      waiters_.Expire(IndexWaiters::Clock::now());
    }
  });
}

void GeoReplicas::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (expirer_.joinable()) expirer_.join();
  waiters_.FailAll(absl::UnavailableError("node is shutting down"));
}

void GeoReplicas::Record(uint64_t node_id, const std::string& region,
                         const v1::ReportArchivedRequest& report, int64_t now_unix_ms) {
  uint64_t archived = 0;
  {
    absl::MutexLock lock(&mu_);
    v1::GeoReplicaStatus& r = replicas_[node_id];
    r.set_node_id(node_id);
    r.set_region(region);
    r.set_archive_url(report.archive_url());
    if (report.has_cosignature()) *r.mutable_cosignature() = report.cosignature();
    r.set_upload_errors(report.upload_errors());
    r.set_last_error(report.last_error());
    r.set_last_error_unix_ms(report.last_error_unix_ms());
    r.set_last_report_unix_ms(now_unix_ms);
    if (r.has_cosignature()) {
      auto txid = ledger::TxId::Parse(r.cosignature().signature_txid());
      if (txid.ok()) archived = txid->index;
    }
  }
  if (archived > 0) waiters_.Advance(archived);
}

bool GeoReplicas::IsGeoReplica(uint64_t node_id) const {
  absl::MutexLock lock(&mu_);
  return replicas_.count(node_id) > 0;
}

void GeoReplicas::Fill(v1::DrStatus* out, uint64_t applied_index, int64_t now_unix_ms) const {
  out->set_geo_durable_index(waiters_.reached());
  absl::MutexLock lock(&mu_);
  for (const auto& [id, r] : replicas_) {
    v1::GeoReplicaStatus* s = out->add_geo_replicas();
    *s = r;
    uint64_t archived = 0;
    if (r.has_cosignature()) {
      auto txid = ledger::TxId::Parse(r.cosignature().signature_txid());
      if (txid.ok()) archived = txid->index;
    }
    s->set_lag_entries(applied_index > archived ? applied_index - archived : 0);
    // Entries after the archived checkpoint were all appended after it was
    // signed: its age bounds the age of the oldest one not archived.
    if (s->lag_entries() > 0 && r.has_cosignature()) {
      s->set_lag_seconds(
          static_cast<double>(now_unix_ms - r.cosignature().checkpoint().timestamp_unix_ms()) /
          1000.0);
    }
  }
}

}  // namespace cairn::node
