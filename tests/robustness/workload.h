// The clients of a robustness run: concurrent users of the C++ SDK appending
// unique values to a few collections, reading the current entry and listing
// collections, each call recorded as an Operation of the history (history.h)
// with its invoke and complete times and what the SDK made of the answer: OK,
// refused (definitely not written) or unknown (may have been written).
//
// The SDK retries on its own (other nodes, the leader it learns, the same
// idempotency key for every attempt of an append) within the call's total
// timeout, as an application would use it; one history operation is one SDK
// call. Each client's choices come from the run's seed.
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

namespace cairn::robustness {

struct WorkloadOptions {
  int clients = 16;
  int collections = 3;
  uint64_t seed = 1;
  // Per attempt, and for a whole call with its retries (the SDK's bounds).
  int64_t attempt_timeout_ms = 1000;
  int64_t call_timeout_ms = 10000;
  // Out of 100 operations: reads of the current entry and whole listings;
  // the rest are appends.
  int read_percent = 25;
  int list_percent = 3;
  // Clients (the first this many) that retry appends by hand, as an
  // application with its own retry loop does: one SDK attempt at a time,
  // hand_attempts_per_node on one node before the next in turn, all with
  // the append's idempotency key, until an answer settles it or
  // call_timeout_ms passes. They reach a paused or deposed node with
  // retries, which the SDK's own loop (it follows the leader) rarely does:
  // an attempt that timed out on a paused leader is tried there again and
  // waits in its socket, so it arrives together with the new leader's
  // first message when the node resumes.
  int hand_retry_clients = 8;
  int hand_attempts_per_node = 2;
  // Their attempts wait this long: long enough that an attempt sent to a
  // paused node is still waiting when it resumes.
  int64_t hand_attempt_timeout_ms = 1000;
};

// Outcome of a failed append as the SDK reports it.
Outcome AppendFailureOutcome(const absl::Status& status);
// Fills op's txid from "term.index"; false when it does not parse.
bool SetTxid(const std::string& text, Operation* op);
// Records the answer to a read of a collection's current entry in `op`:
// OK with the entry, OK and not found for an empty collection, UNKNOWN for
// a failure (a failed read says nothing).
void RecordReadCurrent(const absl::StatusOr<v1::Entry>& answer, Operation* op);

class Workload {
 public:
  // `client_options`: endpoints and credentials; the timeouts are set here.
  // Hand-retrying clients get one SDK client per endpoint.
  Workload(WorkloadOptions options, client::ClientOptions client_options);
  ~Workload();

  // Starts the client threads. Clients start with a clock at `epoch`.
  absl::Status Start();
  // Stops the clients after their current call, and joins them.
  void Stop();
  // Every operation recorded (after Stop).
  History TakeHistory();
  // Operations completed so far, by outcome (for progress lines).
  uint64_t ok() const { return ok_.load(); }
  uint64_t refused() const { return refused_.load(); }
  uint64_t unknown() const { return unknown_.load(); }

 private:
  void RunClient(int id, client::Client* client);
  Operation DoAppend(int id, uint64_t n, const std::string& collection, client::Client* client);
  // The same append retried by hand across `per_node` clients, starting
  // with per_node[first] (a follower, often: it forwards to the leader).
  Operation DoHandRetriedAppend(int id, uint64_t n, const std::string& collection,
                                const std::vector<client::Client*>& per_node, size_t first);
  Operation DoRead(int id, const std::string& collection, client::Client* client);
  Operation DoList(int id, const std::string& collection, client::Client* client);
  int64_t NowNs() const;
  // A new operation of client `id`, invoked now.
  Operation Begin(int id, OpKind kind, const std::string& collection) const;
  void Record(Operation op);

  const WorkloadOptions options_;
  client::ClientOptions client_options_;
  const std::chrono::steady_clock::time_point epoch_;
  std::vector<std::unique_ptr<client::Client>> clients_;
  // [client][node], for the hand-retrying clients only.
  std::vector<std::vector<std::unique_ptr<client::Client>>> per_node_clients_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> ok_{0}, refused_{0}, unknown_{0};

  absl::Mutex mu_;
  History history_ ABSL_GUARDED_BY(mu_);
};

// Every user entry of `collections` in log order, read from `client` with
// linearizable listings; InvalidArgument if a txid does not parse.
absl::StatusOr<std::vector<LedgerEntry>> ReadLedger(client::Client* client,
                                                    const std::vector<std::string>& collections);

// The collections a workload of `options` writes to.
std::vector<std::string> WorkloadCollections(const WorkloadOptions& options);

}  // namespace cairn::robustness
