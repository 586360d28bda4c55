// What the leader knows of the geo-replicas (georeplica/archive_uploader.h
// reports here through AdminService.ReportArchived): each one's latest
// verified cosignature, errors and last report, for `cairnctl dr status`;
// and the geo-durable index, the highest log index some archive holds, for
// which GEO_DURABLE appends wait. Kept in memory on the leader only: a new
// leader learns it from the next reports (within a second).
//
// Thread-safe. The waiters' deadlines are enforced by a thread of its own.
#pragma once

#include <cstdint>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cairn/v1/admin.pb.h"
#include "raft/index_waiters.h"

namespace cairn::node {

class GeoReplicas {
 public:
  explicit GeoReplicas(size_t waiters_max) : waiters_(waiters_max) {}
  ~GeoReplicas() { Stop(); }
  GeoReplicas(const GeoReplicas&) = delete;
  GeoReplicas& operator=(const GeoReplicas&) = delete;

  // Starts the thread that expires GEO_DURABLE waits.
  void Start();
  // Fails every wait (shutdown) and joins the thread.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Records a report from geo-replica `node_id` in `region`, whose
  // cosignature (if any) the caller has verified, and wakes the GEO_DURABLE
  // appends its archive now covers.
  void Record(uint64_t node_id, const std::string& region, const v1::ReportArchivedRequest& report,
              int64_t now_unix_ms) ABSL_LOCKS_EXCLUDED(mu_);

  // True once `node_id` reported as a geo-replica to this leader.
  bool IsGeoReplica(uint64_t node_id) const ABSL_LOCKS_EXCLUDED(mu_);

  // Highest log index a geo-replica reported archived and cosigned.
  uint64_t geo_durable_index() const { return waiters_.reached(); }
  // Waits for the geo-durable index to reach `index` (IndexWaiters::Wait).
  IndexWaiters& waiters() { return waiters_; }

  // Fills the geo-replica part of `out`; lag as seen from `applied_index`.
  void Fill(v1::DrStatus* out, uint64_t applied_index, int64_t now_unix_ms) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  IndexWaiters waiters_;
  mutable absl::Mutex mu_;
  std::map<uint64_t, v1::GeoReplicaStatus> replicas_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread expirer_;
};

}  // namespace cairn::node
