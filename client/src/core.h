// The shared internals of a Client: validated options and credentials,
// channels and stubs per node, where the next call goes (the leader hint and
// a rotation over the configured endpoints), randomness, the timer thread,
// the verified state, and the registry of calls in flight (so the Client's
// destructor can cancel them and wait). Everything here is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cairn/client/channel.h"
#include "cairn/client/options.h"
#include "cairn/ledger/identity.h"
#include "cairn/v1/admin.grpc.pb.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "scheduler.h"
#include "verified_state.h"

namespace cairn::client::internal {

// One node the client talks to.
struct Endpoint {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::LedgerService::Stub> ledger;
  std::unique_ptr<v1::AdminService::Stub> admin;
};

// Counts call objects that exist, so the Core (which owns the channels)
// outlives every one of them. Shared with the calls: the last call may
// decrement it while the Core is being torn down.
class LiveCalls {
 public:
  void Add();
  void Remove();
  // Blocks until no call object exists.
  void WaitForNone();

 private:
  absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// A call in flight that shutdown can cancel.
class Operation {
 public:
  virtual ~Operation() = default;
  // Best effort: the call finishes (with Cancelled) soon after.
  virtual void Cancel() = 0;
};

class Core {
 public:
  // Validates `options` (InvalidArgument naming the field), loads the
  // credentials and the verified state.
  static absl::StatusOr<std::shared_ptr<Core>> Create(ClientOptions options);
  ~Core();

  const ClientOptions& options() const { return options_; }
  const LoadedCredentials& credentials() const { return credentials_; }
  const ledger::Certificate& service_cert() const { return service_cert_; }
  // Null when verified state is off.
  VerifiedState* verified_state() { return verified_state_.get(); }
  Scheduler& scheduler() { return scheduler_; }
  const std::shared_ptr<LiveCalls>& live_calls() const { return live_calls_; }

  // ---- Routing ----
  // Where a call starts: the leader hint when there is one, else the
  // configured endpoint at the rotation cursor.
  std::shared_ptr<Endpoint> FirstEndpoint();
  // The endpoint at `address`, opened if needed. Null when channels_max
  // channels are open already and none is to `address`.
  std::shared_ptr<Endpoint> EndpointAt(const std::string& address);
  // Where to go after `failed` did not serve a call. A usable `hint` (the
  // node's cairn-leader trailer) becomes the leader hint and is returned;
  // otherwise the hint is dropped if it was `failed`, and the configured
  // endpoint after `failed` is returned.
  std::shared_ptr<Endpoint> NextAfterFailure(const std::string& failed, const std::string& hint);
  // `address` accepted a write: it is the leader hint from now on.
  void RecordLeader(const std::string& address);
  std::string leader() const;

  // ---- Randomness ----
  // Uniform in [0, 1).
  double RandomUnit();
  // 128 random bits as 32 lowercase hex digits.
  std::string NewIdempotencyKey();

  // ---- Calls in flight ----
  // ResourceExhausted past inflight_calls_max; Cancelled once shut down.
  absl::Status Register(std::shared_ptr<Operation> op);
  void Unregister(const Operation* op);
  bool closing() const;
  // Cancels every call in flight, runs pending backoff timers at once and
  // waits until every call has finished (its callback returned) and every
  // call object is gone, so that the channels are released on this thread:
  // gRPC must not see its last channel destroyed on one of its own threads.
  void Shutdown();

 private:
  Core(ClientOptions options, LoadedCredentials credentials, ledger::Certificate service_cert);
  std::shared_ptr<Endpoint> EndpointAtLocked(const std::string& address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ClientOptions options_;
  const LoadedCredentials credentials_;
  const ledger::Certificate service_cert_;
  std::unique_ptr<VerifiedState> verified_state_;
  const std::shared_ptr<LiveCalls> live_calls_ = std::make_shared<LiveCalls>();

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Endpoint>> endpoints_ ABSL_GUARDED_BY(mu_);
  // Invariant: cursor_ < options_.endpoints.size().
  size_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  std::string leader_ ABSL_GUARDED_BY(mu_);
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  std::map<const Operation*, std::shared_ptr<Operation>> inflight_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;

  Scheduler scheduler_;  // last: its thread stops first
};

}  // namespace cairn::client::internal
