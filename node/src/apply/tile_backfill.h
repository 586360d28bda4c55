// Writes the Merkle tiles the ledger lacks (ledger/merkle_tiles.h) on a
// thread of its own: a ledger written before tiles existed, or the range a
// snapshot install replaced, has none, and proofs over it read eight nodes
// where one tile would do. The applier asks for it whenever it loads the
// tree (at start, after a snapshot install). Requests coalesce to the
// largest size asked for; a failure is logged and leaves proofs reading
// node by node, which is slower but gives the same answers.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace cairn::node {

class TileBackfill {
 public:
  // Writes the missing tiles of the first `tree_size` leaves, returning how
  // many it wrote, early when `stop` returns true
  // (storage::LedgerStore::BackfillTiles).
  using Work = absl::AnyInvocable<absl::StatusOr<uint64_t>(uint64_t tree_size,
                                                           absl::FunctionRef<bool()> stop)>;

  explicit TileBackfill(Work work);
  ~TileBackfill();  // Stop()
  TileBackfill(const TileBackfill&) = delete;
  TileBackfill& operator=(const TileBackfill&) = delete;

  // Backfill up to `tree_size` committed leaves. Returns at once.
  void Request(uint64_t tree_size) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the work at the next tile and joins the thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  Work work_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  uint64_t requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cairn::node
