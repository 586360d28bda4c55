// The robustness checker: judges a recorded history (history.h) against the
// final, healed ledger, in the manner of Jepsen and etcd's robustness tests.
//
// Check() reports every anomaly it finds; an empty list is a pass:
//   - every OK append is in the ledger exactly once, at the txid it was
//     acknowledged with, in its collection, with its contents;
//   - no REFUSED append is in the ledger ("nothing is written for a request
//     that is rejected");
//   - every ledger entry was sent by some OK or UNKNOWN append of its
//     collection, and no contents appear twice;
//   - acknowledged txids follow real time: an append acknowledged before
//     another was invoked has the smaller index (the whole log, across
//     collections);
//   - each collection's history is linearizable for an append-only log
//     (checked per collection, which is sound by P-compositionality).
//
// Linearizability uses the final ledger as the oracle for the order of
// appends, as etcd's robustness tests use the final state: an append can be
// linearized only as the next value of its collection in ledger order. An
// UNKNOWN append whose value is in the ledger took effect at some time after
// its invocation; one whose value is not never took effect and is dropped, as
// are reads that did not return OK.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "robustness/history.h"

namespace cairn::robustness {

enum class AnomalyKind {
  kMalformedInput,        // the history or ledger breaks a precondition of the checker
  kAckedAppendLost,       // an OK append is not in the ledger
  kAckedAppendMismatch,   // an OK append is in the ledger at another txid or collection
  kRefusedAppendPresent,  // a REFUSED append is in the ledger
  kUnsentEntry,           // a ledger entry no client appended to that collection
  kDuplicateEntry,        // the same contents appear in more than one ledger entry
  kReadTxidMismatch,      // a read named a txid the ledger holds something else at
  kTxidOrder,             // acknowledged txids go against real time
  kNotLinearizable,       // a collection's history has no linearization
  kInconclusive,          // the linearizability search ran out of budget
  // Found by the suite's driver, not by Check():
  kReplicaDivergence,  // replicas list other entries or serve other checkpoints
  kNodeCrashed,        // a node exited on its own (an invariant crash, a halt)
};

std::string_view AnomalyKindName(AnomalyKind kind);

struct Anomaly {
  AnomalyKind kind;
  // Names the operations (DescribeOp) and txids involved, e.g. which append a
  // stale read should have observed.
  std::string detail;
};

struct CheckOptions {
  // Moves of the linearizability search allowed per collection. A correct
  // history needs one or two per operation; the budget only matters for
  // histories that are not linearizable, where it bounds the time spent
  // proving it (a pair of operations that rules out any order is reported
  // either way, see linearizability.cc).
  uint64_t search_steps_max = 20'000'000;
};

struct CheckResult {
  std::vector<Anomaly> anomalies;
  // Totals over all collections, for tests and run reports.
  uint64_t search_steps = 0;
  uint64_t search_backtracks = 0;

  bool ok() const { return anomalies.empty(); }
  size_t Count(AnomalyKind kind) const;
  // One anomaly per line, at most `lines_max` of them.
  std::string ToString(size_t lines_max = 20) const;
};

// `ledger` holds the user entries of the healed cluster in log order.
CheckResult Check(const History& history, const std::vector<LedgerEntry>& ledger,
                  const CheckOptions& options = {});

}  // namespace cairn::robustness
