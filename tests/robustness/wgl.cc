// The Wing-Gong-Lowe linearizability search (see wgl.h).
//
// The call/return list is a doubly linked list over a fixed node array, so
// that "lifting" an operation (removing its call and return once it is
// linearized) and undoing that on backtrack are O(1) (dancing links).
//
// The memo cache needs the set of linearized operations. A bitset per cache
// entry would cost n/8 bytes each (1 KB for 8,000 operations, times every
// configuration explored), so the set is stored in a canonical sparse form:
// number the operations in invocation order; `frontier` is one past the
// highest number linearized; every operation below the frontier is
// linearized except a few "holes". An operation can only be linearized while
// no unlinearized one has completed, so the holes are operations that were
// still running then: few, bounded by the concurrency of the history (plus
// unanswered operations, which never complete).
//
// Two orderings of the candidates (the calls before the first return) make
// the search fast without changing its verdict:
//   - A candidate that the model accepts without changing the state (a read
//     of the current state) is linearized at once, as a forced move that is
//     never revisited. That loses nothing: in any linearization from here
//     that places it later, no operation in between precedes it in real time
//     (it was already invoked, and they had not completed), and moving it
//     forward leaves every state the same. If the configuration it leads to
//     is dead, so is this one.
//   - Otherwise the operation whose return comes first (it must be
//     linearized before the search can get past that return) is tried
//     first, then the others in list order. This linearizes what the next
//     return needs rather than the first write the model allows.
// Without them, a write linearized early strands a concurrent read of the
// old state, and undoing that costs an exponential number of steps in the
// number of concurrent clients: at 32 clients, valid histories exhausted a
// budget of 20 million steps. Every non-forced candidate is still tried.
#include "robustness/wgl.h"

#include <algorithm>
#include <numeric>
#include <tuple>
#include <unordered_set>

namespace cairn::robustness {
namespace {

constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();

struct Node {
  uint32_t op = 0;
  bool is_call = false;
  uint32_t prev = kNil;
  uint32_t next = kNil;
};

// (state, frontier, holes in increasing order): one value per configuration.
using Key = std::vector<uint64_t>;

struct KeyHash {
  size_t operator()(const Key& key) const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint64_t v : key) {
      h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
      h *= 0xbf58476d1ce4e5b9ull;
    }
    return static_cast<size_t>(h ^ (h >> 31));
  }
};

class Search {
 public:
  Search(const std::vector<SearchOp>& ops, const ModelStep& step, uint64_t steps_max);
  SearchResult Run(uint64_t initial_state);

 private:
  struct Frame {
    uint32_t call;  // the operation linearized
    uint64_t state;
    uint32_t frontier;  // before it was linearized
    bool forced;        // a forced move: its configuration had no other choice
  };

  void Unlink(uint32_t x);
  void Relink(uint32_t x);
  // Removes a linearized operation's call and return from the list.
  void Lift(uint32_t call) {
    Unlink(call);
    Unlink(return_node_[nodes_[call].op]);
  }
  // Undoes Lift(call); links are restored in the reverse order of removal.
  void Unlift(uint32_t call) {
    Relink(return_node_[nodes_[call].op]);
    Relink(call);
  }
  // The call of the operation whose return is first in the (non-empty) list.
  uint32_t FirstToReturn() const;
  // The candidate to try after `entry`: see the top of the file.
  uint32_t NextCandidate(uint32_t entry) const;
  // A candidate the model accepts in state_ without changing it, or kNil.
  uint32_t FindStatePreserving() const;
  // The cache key of the configuration reached by linearizing `call` next,
  // which the model takes to `state`, with the frontier then at `frontier`.
  Key KeyAfter(uint32_t call, uint64_t state, uint32_t frontier) const;
  // Linearizes `call` if the model accepts it and the configuration reached
  // is new; returns whether it did.
  bool TryLinearize(uint32_t call, bool forced);
  // Sets up the candidates of the configuration just reached, taking forced
  // moves. Returns false if the configuration is known to be dead.
  bool Arrive();
  // Undoes choices up to the most recent one that has candidates left.
  // Returns false when there is none: no linearization exists.
  bool Backtrack();

  const ModelStep& step_;
  const uint64_t steps_max_;
  std::vector<Node> nodes_;            // nodes_[0] is the head sentinel
  std::vector<uint32_t> rank_;         // per op: position in invocation order
  std::vector<uint32_t> call_node_;    // per op
  std::vector<uint32_t> return_node_;  // per op
  std::unordered_set<Key, KeyHash> cache_;
  // The search position: the configuration and the candidate to try next.
  std::vector<Frame> stack_;
  uint64_t state_ = 0;
  uint32_t frontier_ = 0;
  uint32_t urgent_ = kNil;
  uint32_t entry_ = kNil;
  uint64_t steps_ = 0;  // moves tried, forced ones included
  uint64_t backtracks_ = 0;
};

Search::Search(const std::vector<SearchOp>& ops, const ModelStep& step, uint64_t steps_max)
    : step_(step), steps_max_(steps_max) {
  const uint32_t n = static_cast<uint32_t>(ops.size());
  std::vector<uint32_t> by_invoke(n);
  std::iota(by_invoke.begin(), by_invoke.end(), 0);
  std::stable_sort(by_invoke.begin(), by_invoke.end(),
                   [&](uint32_t a, uint32_t b) { return ops[a].invoke_ns < ops[b].invoke_ns; });
  rank_.resize(n);
  for (uint32_t r = 0; r < n; ++r) rank_[by_invoke[r]] = r;

  // Events in time order. At equal times calls come first, so that an
  // operation invoked at the instant another completed counts as concurrent
  // with it; calls keep invocation order, which KeyAfter relies on.
  // A malformed op completing before its invocation is treated as completing
  // at it, so that every return follows its call in the list.
  using Event = std::tuple<int64_t, int, uint32_t, uint32_t>;  // time, phase, rank, op
  std::vector<Event> events;
  events.reserve(2 * n);
  for (uint32_t op = 0; op < n; ++op) {
    events.emplace_back(ops[op].invoke_ns, 0, rank_[op], op);
    events.emplace_back(std::max(ops[op].invoke_ns, ops[op].complete_ns), 1, rank_[op], op);
  }
  std::sort(events.begin(), events.end());

  nodes_.resize(events.size() + 1);
  call_node_.resize(n);
  return_node_.resize(n);
  for (uint32_t i = 0; i < events.size(); ++i) {
    const auto& [time, phase, rank, op] = events[i];
    Node& node = nodes_[i + 1];
    node.op = op;
    node.is_call = phase == 0;
    node.prev = i;
    node.next = i + 1 < events.size() ? i + 2 : kNil;
    (node.is_call ? call_node_ : return_node_)[op] = i + 1;
  }
  nodes_[0].next = events.empty() ? kNil : 1;
}

void Search::Unlink(uint32_t x) {
  const Node& node = nodes_[x];
  nodes_[node.prev].next = node.next;
  if (node.next != kNil) nodes_[node.next].prev = node.prev;
}

void Search::Relink(uint32_t x) {
  const Node& node = nodes_[x];
  nodes_[node.prev].next = x;
  if (node.next != kNil) nodes_[node.next].prev = x;
}

Key Search::KeyAfter(uint32_t call, uint64_t state, uint32_t frontier) const {
  Key key{state, frontier};
  // The unlinearized operations below the frontier are the calls at the
  // front of the list; any return met on the way belongs to one of them.
  for (uint32_t x = nodes_[0].next; x != kNil; x = nodes_[x].next) {
    const Node& node = nodes_[x];
    if (!node.is_call) continue;
    const uint32_t rank = rank_[node.op];
    if (rank >= frontier) break;
    if (x != call) key.push_back(rank);
  }
  return key;
}

uint32_t Search::FirstToReturn() const {
  uint32_t x = nodes_[0].next;
  while (nodes_[x].is_call) x = nodes_[x].next;
  return call_node_[nodes_[x].op];
}

uint32_t Search::NextCandidate(uint32_t entry) const {
  uint32_t next = entry == urgent_ ? nodes_[0].next : nodes_[entry].next;
  if (next == urgent_) next = nodes_[next].next;
  return next;
}

uint32_t Search::FindStatePreserving() const {
  for (uint32_t x = nodes_[0].next; nodes_[x].is_call; x = nodes_[x].next) {
    const std::optional<uint64_t> next = step_(state_, nodes_[x].op);
    if (next && *next == state_) return x;
  }
  return kNil;
}

bool Search::TryLinearize(uint32_t call, bool forced) {
  const std::optional<uint64_t> next = step_(state_, nodes_[call].op);
  if (!next) return false;
  const uint32_t next_frontier = std::max(frontier_, rank_[nodes_[call].op] + 1);
  if (!cache_.insert(KeyAfter(call, *next, next_frontier)).second) return false;
  stack_.push_back({call, state_, frontier_, forced});
  state_ = *next;
  frontier_ = next_frontier;
  Lift(call);
  return true;
}

bool Search::Arrive() {
  while (nodes_[0].next != kNil && steps_ < steps_max_) {
    const uint32_t read = FindStatePreserving();
    if (read == kNil) break;
    ++steps_;
    // A configuration already in the cache and not on the path was explored
    // to a dead end.
    if (!TryLinearize(read, /*forced=*/true)) return false;
  }
  if (nodes_[0].next == kNil) return true;
  urgent_ = FirstToReturn();
  entry_ = urgent_;
  return true;
}

bool Search::Backtrack() {
  while (!stack_.empty()) {
    const Frame frame = stack_.back();
    stack_.pop_back();
    state_ = frame.state;
    frontier_ = frame.frontier;
    Unlift(frame.call);
    ++backtracks_;
    if (frame.forced) continue;
    urgent_ = FirstToReturn();
    entry_ = NextCandidate(frame.call);
    return true;
  }
  return false;
}

SearchResult Search::Run(uint64_t initial_state) {
  SearchResult result;
  const auto finish = [&](SearchResult::Verdict verdict) {
    result.verdict = verdict;
    result.steps = steps_;
    result.backtracks = backtracks_;
    return result;
  };
  state_ = initial_state;
  bool stuck_recorded = false;
  bool live = Arrive();
  while (nodes_[0].next != kNil) {
    if (steps_ >= steps_max_) return finish(SearchResult::Verdict::kBudgetExhausted);
    ++steps_;
    if (live && nodes_[entry_].is_call) {
      if (TryLinearize(entry_, /*forced=*/false)) {
        live = Arrive();
      } else {
        entry_ = NextCandidate(entry_);
      }
      continue;
    }
    // Every candidate of this configuration failed before the urgent
    // operation's return: record how far the search got, and back up.
    if (live && (!stuck_recorded || stack_.size() > result.depth)) {
      stuck_recorded = true;
      result.depth = stack_.size();
      result.stuck_op = nodes_[entry_].op;
      result.stuck_state = state_;
    }
    if (!Backtrack()) return finish(SearchResult::Verdict::kNotLinearizable);
    live = true;
  }
  result.depth = stack_.size();
  return finish(SearchResult::Verdict::kLinearizable);
}

}  // namespace

SearchResult SearchLinearization(const std::vector<SearchOp>& ops, uint64_t initial_state,
                                 const ModelStep& step, uint64_t steps_max) {
  Search search(ops, step, steps_max);
  return search.Run(initial_state);
}

}  // namespace cairn::robustness
