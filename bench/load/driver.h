// The closed-loop engine of cairn-bench: W = connections x inflight workers,
// each of which has exactly one request outstanding at a time and issues the
// next one from the completion callback of the last. No thread waits for a
// reply: requests go out on gRPC's callback API and complete on gRPC's own
// threads, so 256 outstanding requests cost 256 small structs, not 256 threads.
//
// Timing: the run starts, warms up for warmup_s (nothing recorded), then
// records every request that completes within the measurement window of
// duration_s; workers stop issuing when the window closes and the driver waits
// for the stragglers (bounded by the per-call deadline). With requests_total
// set instead, exactly that many requests are issued and all are recorded.
//
// A worker that gets an error does not retry at once: it is parked for
// error_backoff_ms on a timer thread, so a refused endpoint does not turn the
// generator into a busy loop. The same thread breaks callback recursion should
// gRPC ever complete a call inline.
#pragma once

#include <grpcpp/support/status.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "load/histogram.h"

namespace cairn::bench {

// kAppendReceipt: an append, then GetReceipt (wait) for its txid; its
// latency is the time until the receipt of a new append is available.
enum class Op { kAppend = 0, kGet = 1, kReceipt = 2, kPut = 3, kAppendReceipt = 4 };
inline constexpr size_t kOpCount = 5;
const char* OpName(Op op);

// What one worker knows about itself; sources keep per-worker scratch here.
struct WorkerContext {
  int id = 0;
  int connection = 0;  // which channel the worker uses: id % connections
  std::mt19937_64 rng;
  uint64_t sequence = 0;  // requests this worker has issued
  std::string value;      // reusable request payload
};

// Issues requests of a kind of server. Start() must call `done` exactly once,
// from any thread, and must not block.
class RequestSource {
 public:
  using Done = std::function<void(const grpc::Status&)>;
  virtual ~RequestSource() = default;
  virtual void Start(WorkerContext& worker, Op op, Done done) = 0;
};

struct DriverOptions {
  int connections = 1;
  int inflight = 1;  // per connection
  double warmup_s = 0;
  double duration_s = 10;
  uint64_t requests_total = 0;  // when > 0, overrides duration_s
  // Operations and their relative weights; one entry for a plain workload.
  std::vector<std::pair<Op, double>> mix = {{Op::kAppend, 1}};
  int64_t error_backoff_ms = 5;
  // Every this many seconds, print progress to stderr (0: never).
  double progress_s = 0;
  uint64_t seed = 1;
};

struct OpStats {
  LatencyHistogram latency;  // successful requests only
  uint64_t ok = 0;
  std::map<int, uint64_t> errors_by_code;  // grpc::StatusCode -> count
  uint64_t errors() const;
};

struct RunResult {
  double measured_s = 0;
  std::array<std::unique_ptr<OpStats>, kOpCount> ops;  // null for ops not in the mix
  std::string first_error;                             // code and message of the first one
  // Every request that completed, warm-up and drain included, and the wall
  // time from the first request to the last completion: for costs per
  // request (CPU seconds over the whole run / completed_total).
  uint64_t completed_total = 0;
  double wall_s = 0;
  uint64_t ok() const;
  uint64_t errors() const;
  // All operations together.
  LatencyHistogram AllLatency() const;
};

RunResult RunClosedLoop(const DriverOptions& options, RequestSource* source);

}  // namespace cairn::bench
