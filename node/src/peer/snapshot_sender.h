// Streams snapshots to followers that are too far behind, one transfer per
// follower at a time, each on a thread of its own so the Raft loop never
// waits for it. The core's snapshot message names the compaction point; the
// payload sent is the ledger state at the applied index when the transfer
// starts (never older), so the message's metadata is rewritten to match it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cairn/consensus/types.h"
#include "cairn/storage/database.h"
#include "peer/transport.h"
#include "raft/seams.h"

namespace cairn::node {

class SnapshotSender final : public SnapshotTransfers {
 public:
  SnapshotSender(storage::Database* db, Transport* transport, std::string service_id,
                 size_t chunk_bytes_max);
  // Waits for transfers in progress to end.
  ~SnapshotSender();

  // Where outcomes go: `report(id, ok)` runs on the transfer's thread when a
  // transfer to `id` ends. Set once, before the first Send (checked), by the
  // node once the Raft loop that hears the reports exists (as
  // Transport::SetUnreachableSink).
  void SetReportSink(std::function<void(consensus::NodeId, bool)> report) ABSL_LOCKS_EXCLUDED(mu_);

  // Starts a transfer to message.to unless one to that node is running.
  void Send(consensus::Message message) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  bool Transfer(consensus::Message message);

  storage::Database* const db_;
  Transport* const transport_;
  const std::string service_id_;
  const size_t chunk_bytes_max_;
  // Set once before the first Send (written under mu_, read-only after).
  std::function<void(consensus::NodeId, bool)> report_;

  absl::Mutex mu_;
  bool sent_ ABSL_GUARDED_BY(mu_) = false;  // Send has been called
  std::map<consensus::NodeId, std::thread> running_ ABSL_GUARDED_BY(mu_);
  std::map<consensus::NodeId, bool> finished_ ABSL_GUARDED_BY(mu_);  // threads to join
};

}  // namespace cairn::node
