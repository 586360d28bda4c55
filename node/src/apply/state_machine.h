// What the Raft driver applies committed entries to: the seam between
// raft/ and the ledger. A node's is the Applier (ledger tables and the
// Merkle tree in RocksDB); the cluster simulator (tests/sim) supplies a model
// of it, so that it drives the real Raft loop over a simulated disk.
//
// One thread at a time calls Load and Apply (the apply stage's, or the loop's
// when the stage runs inline); the accessors marked thread-safe may be read
// from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cairn/consensus/types.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/txid.h"

namespace cairn::node {

struct ApplyResult {
  ledger::TxId txid;
  // Set for a user append whose (user, idempotency key) an earlier entry with
  // the same contents holds: a retry.
  std::optional<ledger::TxId> duplicate_of;
  // Set for a user append whose key an earlier entry of OTHER contents holds:
  // the key was reused; the entry is a leaf but not a collection entry, and
  // its caller is refused (IDEMPOTENCY_KEY_REUSED).
  std::optional<ledger::TxId> key_held_by;
  // The applied entry's idempotency identity key (user + key; empty: none),
  // so a waiter can check it is answered for the entry it proposed.
  std::string key;
};

// The applied ledger as the leader's signer needs it.
struct SignState {
  uint64_t applied_index = 0;  // = tree size
  uint64_t applied_term = 0;
  ledger::Hash root{};  // over the first applied_index leaves
  uint64_t signed_tree_size = 0;
  // Highest applied index of an entry a signature must eventually cover.
  uint64_t last_signable_index = 0;
  // When the oldest applied entry not yet covered by a signature was applied.
  std::chrono::steady_clock::time_point unsigned_since;
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Loads the applied state from durable storage (at start and after a
  // snapshot is installed).
  virtual absl::Status Load() = 0;
  // Applies `entries` (consecutive, from applied_index() + 1), in order. A
  // failure it cannot answer for halts the process.
  virtual std::vector<ApplyResult> Apply(const std::vector<consensus::Entry>& entries) = 0;

  // Thread-safe.
  virtual uint64_t applied_index() const = 0;
  // Thread-safe: leaves covered by the latest applied signature.
  virtual uint64_t signed_tree_size() const = 0;
  // What the leader needs to decide when to sign (the applying thread).
  virtual SignState sign_state() const = 0;
};

}  // namespace cairn::node
