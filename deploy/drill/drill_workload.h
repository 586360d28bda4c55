// The client workload of a drill: concurrent users of the C++ SDK that
// append unique values (some with GEO_DURABLE), read the current entry
// (linearizable reads), and fetch, verify and keep receipts, recording what
// a client sees: every call as an Operation of the robustness history
// (robustness/history.h) for the checker, plus what a drill measures on top
// of it: which appends asked for GEO_DURABLE, when each was acknowledged,
// the receipts kept, and a per-second timeline of successes and errors.
//
// Clients can be pointed at other endpoints while they run (Retarget): after
// a region is lost, the recovered service is elsewhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "cairn/client/client.h"
#include "robustness/history.h"

namespace cairn::drill {

struct DrillWorkloadOptions {
  int clients = 6;
  int collections = 2;
  uint64_t seed = 1;
  // Out of 100 operations: linearizable reads of the current entry; the
  // rest are appends, geo_percent of them with GEO_DURABLE.
  int read_percent = 20;
  int geo_percent = 25;
  // One acknowledged append in this many gets its receipt fetched,
  // verified and kept.
  int receipt_every = 8;
  // Per attempt, and for a whole call with the SDK's retries. An attempt
  // of a GEO_DURABLE append waits for the archive too (about 0.6 s with the
  // defaults), so attempts get a few seconds.
  int64_t attempt_timeout_ms = 3000;
  int64_t call_timeout_ms = 8000;
  // Pause between one client's calls (0: back to back).
  int64_t think_ms = 20;
};

struct KeptReceipt {
  std::string txid;
  std::string contents;
  v1::Receipt receipt;
  int64_t verified_ns = 0;  // when it was verified, on the workload's clock
};

// One second of the run, for the timeline.
struct TimelineSecond {
  uint64_t appends_ok = 0;
  uint64_t appends_failed = 0;
  uint64_t reads_ok = 0;
  uint64_t reads_failed = 0;
  double archive_lag = -1;  // entries committed but not archived (-1: unknown)
};

class DrillWorkload {
 public:
  DrillWorkload(DrillWorkloadOptions options, client::ClientOptions client_options,
                std::string service_cert_pem);
  ~DrillWorkload();

  absl::Status Start();
  // Stops the clients after their current call, and joins them.
  void Stop();
  // Points every client at `endpoints` from its next call on.
  absl::Status Retarget(std::vector<std::string> endpoints);
  // GEO_DURABLE appends on or off (a recovered service has no geo-replica
  // until the operator adds one).
  void SetGeoDurable(bool on) { geo_on_ = on; }
  // Appends acknowledged after `ns` (invoked after it too).
  uint64_t AppendsAckedAfter(int64_t ns);
  // Whether an acknowledged GEO_DURABLE append has a log index in [first, last].
  bool AckedGeoDurableIn(uint64_t first, uint64_t last);
  // Records an archive lag sample for the current second.
  void RecordArchiveLag(double lag);

  // Nanoseconds since the workload's epoch (the history's clock).
  int64_t NowNs() const;

  // After Stop.
  robustness::History TakeHistory();
  // Per history operation: whether the append asked for GEO_DURABLE.
  std::vector<bool> TakeGeoFlags();
  std::vector<KeptReceipt> TakeReceipts();
  std::vector<TimelineSecond> Timeline();
  const std::vector<std::string>& collections() const { return collections_; }

 private:
  struct ReceiptJob {
    std::string txid;
    std::string contents;
  };
  void RunClient(int id);
  void RunReceipts();
  std::shared_ptr<client::Client> CurrentClient(int id);
  robustness::Operation DoAppend(int id, uint64_t n, const std::string& collection, bool geo,
                                 client::Client* client);
  robustness::Operation DoRead(int id, const std::string& collection, client::Client* client);
  void Record(const robustness::Operation& op, bool geo);
  TimelineSecond& SecondAt(int64_t ns) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DrillWorkloadOptions options_;
  const std::string service_cert_pem_;
  const std::chrono::steady_clock::time_point epoch_;
  std::vector<std::string> collections_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> geo_on_{true};

  absl::Mutex mu_;
  client::ClientOptions client_options_ ABSL_GUARDED_BY(mu_);
  // Replaced by Retarget; a client thread holds its own reference per call.
  std::vector<std::shared_ptr<client::Client>> clients_ ABSL_GUARDED_BY(mu_);
  robustness::History history_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> geo_flags_ ABSL_GUARDED_BY(mu_);
  std::vector<TimelineSecond> timeline_ ABSL_GUARDED_BY(mu_);
  // Receipt jobs, bounded: past kReceiptQueueMax a sampled job is dropped.
  std::vector<ReceiptJob> receipt_jobs_ ABSL_GUARDED_BY(mu_);
  std::vector<KeptReceipt> receipts_ ABSL_GUARDED_BY(mu_);
  static constexpr size_t kReceiptQueueMax = 256;
};

}  // namespace cairn::drill
