// A linearizability search for one independent part of a history (internal to
// the checker; see checker.h for what is checked).
//
// This is the Wing-Gong-Lowe algorithm (G. Lowe, "Testing for
// linearizability", 2017; the same search as Porcupine and Knossos' "wgl"):
// the invocations and completions of all operations form one list in time
// order; the search walks it, tentatively linearizing any operation whose
// invocation comes before the first completion still in the list and that the
// model accepts in the current state, and backtracks when it reaches the
// completion of an operation it has not linearized. A cache of (set of
// linearized operations, model state) pairs already explored keeps it from
// exploring the same configuration twice, and a step budget bounds it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

namespace cairn::robustness {

// An operation's interval. Real-time order: a precedes b iff
// a.complete_ns < b.invoke_ns; equal times are concurrent.
struct SearchOp {
  int64_t invoke_ns = 0;
  // kNever for an operation that may have taken effect at any time after its
  // invocation (no answer was ever received).
  int64_t complete_ns = 0;
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
};

// The sequential model: applying operation `op` in `state` either yields the
// next state or is illegal (nullopt). Must be deterministic.
using ModelStep = std::function<std::optional<uint64_t>(uint64_t state, size_t op)>;

struct SearchResult {
  enum class Verdict { kLinearizable, kNotLinearizable, kBudgetExhausted };
  Verdict verdict = Verdict::kLinearizable;
  uint64_t steps = 0;       // moves tried (the budget counts these)
  uint64_t backtracks = 0;  // tentative linearizations undone
  // When not linearizable: the furthest the search got. `depth` operations
  // were linearized, leaving the model in `stuck_state`, when `stuck_op`
  // completed without any legal place in the order.
  size_t depth = 0;
  size_t stuck_op = 0;
  uint64_t stuck_state = 0;
};

// Searches for a linearization of `ops` (all of which must be linearized)
// from `initial_state`. Ops with invoke_ns > complete_ns are not allowed.
SearchResult SearchLinearization(const std::vector<SearchOp>& ops, uint64_t initial_state,
                                 const ModelStep& step, uint64_t steps_max);

}  // namespace cairn::robustness
