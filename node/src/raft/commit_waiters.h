// Appends waiting to be answered: callers that proposed an entry (or joined
// one in flight with the same idempotency key) and wait for it to be applied.
// The Raft loop adds them; the apply stage answers them on its own thread as
// soon as their entry is applied, so answering (a gRPC Finish, which writes
// to the socket on the calling thread) never costs the loop's thread.
//
// Thread-safe. Callbacks run without the lock held.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "apply/state_machine.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/ledger.pb.h"

namespace cairn::node {

class NodeMetrics;

// Where an append stands when the loop answers.
struct CommitResult {
  ledger::TxId txid;
  v1::TransactionStatus status = v1::TRANSACTION_STATUS_UNKNOWN;
  // For a retried append: the transaction that holds its idempotency key.
  std::optional<ledger::TxId> duplicate_of;
};

class CommitWaiters {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = absl::AnyInvocable<void(absl::StatusOr<CommitResult>) &&>;

  explicit CommitWaiters(NodeMetrics* metrics) : metrics_(metrics) {}

  // Waits for the entry at `index` proposed in `term`, whose idempotency
  // identity key is `key` (empty: none). `joined`: a retry joining an entry
  // already in flight. False (and `done` is handed back untouched in
  // `*rejected`) when that index was answered already.
  // `key` nullopt: not checked (only the test-only injected bug asks that).
  bool Add(uint64_t index, uint64_t term, std::optional<std::string> key,
           Clock::time_point deadline, bool joined, Done done, Done* rejected)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The entries in `results` are applied: answers their waiters: COMMITTED
  // (a duplicate names the entry holding the key and those contents);
  // LOST_TO_LEADER_CHANGE when the entry applied at that index is of another
  // term; IDEMPOTENCY_KEY_REUSED when the key is held by other contents.
  // Invariant (crashes otherwise): an entry of the waiter's term at its
  // index carries the waiter's key, so no caller is ever answered with a
  // txid that does not hold what it sent.
  void Answer(const std::vector<ApplyResult>& results) ABSL_LOCKS_EXCLUDED(mu_);
  // Fails the waiters whose deadline passed with DEADLINE_EXCEEDED.
  void Expire(Clock::time_point now) ABSL_LOCKS_EXCLUDED(mu_);
  // Fails every waiter with `status` (shutdown).
  void FailAll(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Waiter {
    uint64_t term = 0;
    std::optional<std::string> key;
    Clock::time_point deadline;
    bool joined = false;
    Done done;
  };

  NodeMetrics* const metrics_;
  absl::Mutex mu_;
  std::map<uint64_t, std::vector<Waiter>> waiting_ ABSL_GUARDED_BY(mu_);  // by log index
  // Highest index answered. Invariant: no waiter waits at or below it.
  uint64_t answered_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::node
