// Linearizability of each collection's history against an append-only log
// model, with the final ledger as the oracle for the order of appends (see
// checker.h).
//
// The model state is the number of entries the collection holds, k; its
// entries are the first k of the collection in ledger order. APPEND(v) is
// legal when v is entry k+1 (and moves to k+1); READ_CURRENT is legal when it
// returned entry k (or "not found" with k = 0); LIST when it returned exactly
// the first k entries. The decision is the WGL search of wgl.h.
//
// For the report, a pair of operations is a better explanation than the
// search's dead end. Give each operation a rank in the order the ledger
// dictates: 2p+1 for the append of entry p (from 0), 2k for a read that
// observed k entries. If a completed before b was invoked but rank(a) >
// rank(b), no linearization exists (a stale read, a read of the future,
// appends against real time, reads going back). In this model the converse
// also holds: without such a pair, sorting by (rank, invocation) is a legal
// linearization. So the search and the pair finder must agree; where they do
// not, the run fails with a detail that says the checker is at fault.
#include "robustness/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_set>
#include <utility>

#include "robustness/cat.h"
#include "robustness/wgl.h"

namespace cairn::robustness {
namespace {

constexpr size_t kPhantom = std::numeric_limits<size_t>::max();

struct ModelOp {
  // The history operation, or kPhantom for a ledger entry that no append of
  // this collection accounts for (reported by the ledger checks). A phantom
  // may take effect at any time, so that it adds no second report.
  size_t id = kPhantom;
  OpKind kind = OpKind::kAppend;
  std::string_view value;  // appended, or returned by a READ_CURRENT
  bool found = false;      // READ_CURRENT: the collection was not empty
  // Appends: the entry's position in the collection. Reads and lists: the
  // number of entries observed.
  uint64_t state = 0;
  uint64_t rank = 0;  // see the top of this file
  SearchOp interval;
};

class CollectionCheck {
 public:
  CollectionCheck(const History& history, const std::vector<LedgerEntry>& ledger,
                  const LedgerIndex& index, std::string_view name, std::vector<size_t> entries,
                  CheckResult* result)
      : history_(history),
        ledger_(ledger),
        index_(index),
        name_(name),
        entries_(std::move(entries)),
        result_(result) {}

  void Run(const std::vector<size_t>& op_ids, uint64_t steps_max);

 private:
  const std::string& Contents(uint64_t position) const {
    return ledger_[entries_[position]].contents;
  }
  std::string Txid(uint64_t position) const {
    const LedgerEntry& e = ledger_[entries_[position]];
    return TxidString(e.term, e.index);
  }
  void AddAppends();
  void AddReads(const std::vector<size_t>& op_ids);
  // Returns the number of entries a LIST observed, or reports why it cannot
  // have observed any state of the collection.
  std::optional<uint64_t> ListState(size_t id);
  std::string WhyAbsent(std::string_view value) const;
  std::optional<uint64_t> Step(uint64_t state, size_t op) const;
  std::optional<std::pair<size_t, size_t>> FindWitness() const;
  std::string Explain(size_t a, size_t b) const;
  std::string Describe(size_t op) const;
  std::string DescribeState(uint64_t k) const;
  void Report(AnomalyKind kind, std::string detail) {
    result_->anomalies.push_back(
        {kind, Cat("collection ", QuoteValue(name_), ": ", std::move(detail))});
  }

  const History& history_;
  const std::vector<LedgerEntry>& ledger_;
  const LedgerIndex& index_;
  const std::string_view name_;
  const std::vector<size_t> entries_;                     // ledger positions, in log order
  std::unordered_map<std::string_view, uint64_t> first_;  // contents -> first position
  std::vector<ModelOp> ops_;
  CheckResult* const result_;
};

void CollectionCheck::AddAppends() {
  std::unordered_set<size_t> claimed;
  for (uint64_t p = 0; p < entries_.size(); ++p) {
    first_.emplace(Contents(p), p);
    ModelOp m;
    m.value = Contents(p);
    m.state = p;
    m.rank = 2 * p + 1;
    m.interval = {std::numeric_limits<int64_t>::min(), SearchOp::kNever};
    const auto sender = index_.append_by_value.find(m.value);
    if (sender != index_.append_by_value.end() && claimed.insert(sender->second).second) {
      const Operation& op = history_[sender->second];
      if (op.collection == name_ && op.outcome != Outcome::kRefused) {
        m.id = sender->second;
        m.interval.invoke_ns = op.invoke_ns;
        // An UNKNOWN append that is in the ledger took effect, at some time
        // after its invocation that nobody observed.
        if (op.outcome == Outcome::kOk) m.interval.complete_ns = op.complete_ns;
      }
    }
    ops_.push_back(m);
  }
}

std::string CollectionCheck::WhyAbsent(std::string_view value) const {
  const std::vector<size_t>& copies = index_.Positions(value);
  if (!copies.empty()) {
    const LedgerEntry& e = ledger_[copies.front()];
    return Cat("the ledger has it at ", TxidString(e.term, e.index), " in ",
               QuoteValue(e.collection));
  }
  const auto sender = index_.append_by_value.find(value);
  if (sender == index_.append_by_value.end()) return "no client appended it";
  return Cat("it is not in the final ledger; it was sent by ",
             DescribeOp(history_, sender->second));
}

std::optional<uint64_t> CollectionCheck::ListState(size_t id) {
  const std::vector<std::string>& values = history_[id].list_values;
  for (uint64_t i = 0; i < values.size(); ++i) {
    if (i >= entries_.size()) {
      Report(AnomalyKind::kNotLinearizable,
             Cat(DescribeOp(history_, id), " lists ", values.size(),
                 " entries; the final ledger has only ", entries_.size(), ", and ",
                 QuoteValue(values[i]), " is not among them: ", WhyAbsent(values[i])));
      return std::nullopt;
    }
    if (values[i] != Contents(i)) {
      Report(AnomalyKind::kNotLinearizable,
             Cat(DescribeOp(history_, id), " lists ", QuoteValue(values[i]), " as entry #", i + 1,
                 " but the final ledger has ", QuoteValue(Contents(i)), " at ", Txid(i)));
      return std::nullopt;
    }
  }
  return values.size();
}

void CollectionCheck::AddReads(const std::vector<size_t>& op_ids) {
  for (size_t id : op_ids) {
    const Operation& op = history_[id];
    if (op.kind == OpKind::kAppend || op.outcome != Outcome::kOk) continue;
    ModelOp m;
    m.id = id;
    m.kind = op.kind;
    m.interval = {op.invoke_ns, op.complete_ns};
    if (op.kind == OpKind::kList) {
      const std::optional<uint64_t> k = ListState(id);
      if (!k) continue;
      m.state = *k;
    } else if (op.read_found) {
      const auto p = first_.find(op.read_value);
      if (p == first_.end()) {
        Report(AnomalyKind::kNotLinearizable,
               Cat(DescribeOp(history_, id), " returned a value that is not an entry of ",
                   QuoteValue(name_), " in the final ledger: ", WhyAbsent(op.read_value)));
        continue;
      }
      m.value = op.read_value;
      m.found = true;
      m.state = p->second + 1;
    }
    m.rank = 2 * m.state;
    ops_.push_back(m);
  }
}

std::optional<uint64_t> CollectionCheck::Step(uint64_t k, size_t op) const {
  const ModelOp& m = ops_[op];
  switch (m.kind) {
    case OpKind::kAppend:
      if (k < entries_.size() && Contents(k) == m.value) return k + 1;
      return std::nullopt;
    case OpKind::kReadCurrent:
      if (m.found ? k > 0 && Contents(k - 1) == m.value : k == 0) return k;
      return std::nullopt;
    case OpKind::kList:
      if (k == m.state) return k;
      return std::nullopt;
  }
  return std::nullopt;
}

// Finds a completed before b invoked with rank(a) > rank(b): sweeps the
// operations in invocation order, admitting those that completed earlier. The
// first b with such an a is reported, with the a closest to it in rank, and
// an append rather than a read when there is one: "the read missed append X"
// says more than "an earlier read saw more".
std::optional<std::pair<size_t, size_t>> CollectionCheck::FindWitness() const {
  std::vector<size_t> by_invoke(ops_.size());
  std::iota(by_invoke.begin(), by_invoke.end(), 0);
  std::vector<size_t> by_complete = by_invoke;
  std::stable_sort(by_invoke.begin(), by_invoke.end(), [&](size_t a, size_t b) {
    return ops_[a].interval.invoke_ns < ops_[b].interval.invoke_ns;
  });
  std::stable_sort(by_complete.begin(), by_complete.end(), [&](size_t a, size_t b) {
    return ops_[a].interval.complete_ns < ops_[b].interval.complete_ns;
  });
  std::map<uint64_t, size_t> appends;  // rank -> an admitted op of that rank
  std::map<uint64_t, size_t> reads;
  size_t admitted = 0;
  for (size_t b : by_invoke) {
    for (; admitted < by_complete.size() &&
           ops_[by_complete[admitted]].interval.complete_ns < ops_[b].interval.invoke_ns;
         ++admitted) {
      const size_t a = by_complete[admitted];
      (ops_[a].kind == OpKind::kAppend ? appends : reads).emplace(ops_[a].rank, a);
    }
    for (const std::map<uint64_t, size_t>* earlier : {&appends, &reads}) {
      const auto above = earlier->upper_bound(ops_[b].rank);
      if (above != earlier->end()) return std::make_pair(above->second, b);
    }
  }
  return std::nullopt;
}

std::string CollectionCheck::Describe(size_t op) const {
  const ModelOp& m = ops_[op];
  if (m.id != kPhantom) return DescribeOp(history_, m.id);
  return Cat("the append of ", QuoteValue(m.value), " at ", Txid(m.state),
             " (by no operation of this collection)");
}

std::string CollectionCheck::DescribeState(uint64_t k) const {
  if (k == 0) return "an empty collection";
  return Cat(k, k == 1 ? " entry" : " entries", " (the last ", QuoteValue(Contents(k - 1)), " at ",
             Txid(k - 1), ")");
}

// Why no linearization can put a (which completed before b was invoked)
// after b, in the words of the anomaly at hand.
std::string CollectionCheck::Explain(size_t a, size_t b) const {
  const ModelOp& ma = ops_[a];
  const ModelOp& mb = ops_[b];
  const std::string order =
      Cat(Describe(a), " completed before ", Describe(b), " was invoked, but ");
  if (ma.kind == OpKind::kAppend && mb.kind == OpKind::kAppend) {
    return Cat("appends against real time: ", order, "the ledger has the later one at ",
               Txid(mb.state), ", before the earlier one at ", Txid(ma.state));
  }
  if (ma.kind == OpKind::kAppend) {
    return Cat(
        mb.kind == OpKind::kList ? "list misses an acknowledged append: " : "stale read: ", order,
        "the read observed ", DescribeState(mb.state), " and the append is entry #", ma.state + 1,
        " (", Txid(ma.state), "), so it must observe at least ", ma.state + 1, " entries");
  }
  if (mb.kind == OpKind::kAppend) {
    return Cat("read of the future: ", order, "the read observed ", DescribeState(ma.state),
               ", which includes the append at ", Txid(mb.state));
  }
  return Cat("reads against real time: ", order, "the earlier read observed ",
             DescribeState(ma.state), " and the later one only ", DescribeState(mb.state));
}

void CollectionCheck::Run(const std::vector<size_t>& op_ids, uint64_t steps_max) {
  AddAppends();
  AddReads(op_ids);
  std::vector<SearchOp> intervals;
  intervals.reserve(ops_.size());
  for (const ModelOp& m : ops_) intervals.push_back(m.interval);
  const SearchResult search = SearchLinearization(
      intervals, 0, [this](uint64_t k, size_t op) { return Step(k, op); }, steps_max);
  result_->search_steps += search.steps;
  result_->search_backtracks += search.backtracks;
  const std::optional<std::pair<size_t, size_t>> witness = FindWitness();
  const std::string pair = witness ? Explain(witness->first, witness->second) : "";
  switch (search.verdict) {
    case SearchResult::Verdict::kLinearizable:
      if (witness) {
        Report(AnomalyKind::kInconclusive,
               Cat("checker bug: the search found a linearization, yet ", pair));
      }
      return;
    case SearchResult::Verdict::kNotLinearizable:
      if (witness) {
        Report(AnomalyKind::kNotLinearizable, pair);
        return;
      }
      Report(AnomalyKind::kNotLinearizable,
             Cat("no linearization of its ", ops_.size(), " operations; the longest prefix found",
                 " holds ", search.depth, " of them, reaching ", DescribeState(search.stuck_state),
                 ", when ", Describe(search.stuck_op), " completed with no legal place (no pair",
                 " of operations explains it: suspect the checker)"));
      return;
    case SearchResult::Verdict::kBudgetExhausted:
      if (witness) {
        Report(AnomalyKind::kNotLinearizable,
               Cat(pair, " (the search ran out of budget; this pair alone rules out any order)"));
        return;
      }
      Report(AnomalyKind::kInconclusive,
             Cat("the linearizability search stopped after ", search.steps, " steps over ",
                 ops_.size(), " operations; raise CheckOptions::search_steps_max"));
      return;
  }
}

}  // namespace

void CheckLinearizability(const History& history, const std::vector<LedgerEntry>& ledger,
                          const LedgerIndex& index, const CheckOptions& options,
                          CheckResult* result) {
  // Ordered maps: reports come out in the same order on every run.
  std::map<std::string_view, std::vector<size_t>> ops_by_collection;
  for (size_t id = 0; id < history.size(); ++id) {
    ops_by_collection[history[id].collection].push_back(id);
  }
  std::map<std::string_view, std::vector<size_t>> entries_by_collection;
  for (size_t p = 0; p < ledger.size(); ++p) {
    entries_by_collection[ledger[p].collection].push_back(p);
  }
  for (const auto& [name, op_ids] : ops_by_collection) {
    const auto entries = entries_by_collection.find(name);
    CollectionCheck check(
        history, ledger, index, name,
        entries == entries_by_collection.end() ? std::vector<size_t>() : entries->second, result);
    check.Run(op_ids, options.search_steps_max);
  }
}

}  // namespace cairn::robustness
