// The ledger checks of checker.h, and the driver that runs them all. The
// per-collection linearizability check is in linearizability.cc.
#include "robustness/checker.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "robustness/cat.h"
#include "robustness/linearizability.h"

namespace cairn::robustness {
namespace {

void Report(CheckResult* result, AnomalyKind kind, std::string detail) {
  result->anomalies.push_back({kind, std::move(detail)});
}

bool IsAck(const Operation& op, OpKind kind) {
  return op.kind == kind && op.outcome == Outcome::kOk;
}

// Preconditions the other checks rely on: each violation makes some verdict
// meaningless, so it fails the run on its own.
void CheckInput(const History& history, const std::vector<LedgerEntry>& ledger,
                const LedgerIndex& index, CheckResult* result) {
  for (size_t id = 0; id < history.size(); ++id) {
    const Operation& op = history[id];
    if (op.outcome != Outcome::kUnknown && op.complete_ns < op.invoke_ns) {
      Report(result, AnomalyKind::kMalformedInput,
             Cat(DescribeOp(history, id), " completed before it was invoked"));
    }
    if (op.kind != OpKind::kAppend) continue;
    if (IsAck(op, OpKind::kAppend) && op.txid_index == 0) {
      Report(result, AnomalyKind::kMalformedInput,
             Cat(DescribeOp(history, id), " was acknowledged without a txid"));
    }
    const size_t first = index.append_by_value.at(op.value);
    if (first != id) {
      Report(result, AnomalyKind::kMalformedInput,
             Cat(DescribeOp(history, id), " appends the same value as ", DescribeOp(history, first),
                 "; values must be unique"));
    }
  }
  for (size_t i = 1; i < ledger.size(); ++i) {
    if (ledger[i].index <= ledger[i - 1].index || ledger[i].term < ledger[i - 1].term) {
      Report(result, AnomalyKind::kMalformedInput,
             Cat("ledger not in log order: ", DescribeEntry(ledger[i]), " follows ",
                 DescribeEntry(ledger[i - 1])));
    }
  }
}

// Check 1: every OK append is in the ledger at its txid, in its collection.
// More than one copy is left to CheckLedgerEntries, which names them all.
void CheckAckedAppends(const History& history, const std::vector<LedgerEntry>& ledger,
                       const LedgerIndex& index, CheckResult* result) {
  for (size_t id = 0; id < history.size(); ++id) {
    const Operation& op = history[id];
    if (!IsAck(op, OpKind::kAppend)) continue;
    const std::vector<size_t>& copies = index.Positions(op.value);
    if (copies.empty()) {
      const auto at = index.ledger_by_index.find(op.txid_index);
      Report(result, AnomalyKind::kAckedAppendLost,
             Cat(DescribeOp(history, id), " is not in the final ledger; ",
                 at == index.ledger_by_index.end()
                     ? Cat("there is no user entry at index ", op.txid_index)
                     : Cat("it holds ", DescribeEntry(ledger[at->second]))));
      continue;
    }
    const auto exact = std::find_if(copies.begin(), copies.end(), [&](size_t p) {
      return ledger[p].term == op.txid_term && ledger[p].index == op.txid_index;
    });
    if (exact == copies.end()) {
      Report(result, AnomalyKind::kAckedAppendMismatch,
             Cat(DescribeOp(history, id), " was acknowledged at ",
                 TxidString(op.txid_term, op.txid_index), " but the ledger has it as ",
                 DescribeEntry(ledger[copies.front()])));
    } else if (ledger[*exact].collection != op.collection) {
      Report(result, AnomalyKind::kAckedAppendMismatch,
             Cat(DescribeOp(history, id),
                 " is in the ledger in another collection: ", DescribeEntry(ledger[*exact])));
    }
  }
}

// Checks 2, 3 and 4, entry by entry. An OK append found in the wrong place
// was reported by CheckAckedAppends and is not reported again here.
void CheckLedgerEntries(const History& history, const std::vector<LedgerEntry>& ledger,
                        const LedgerIndex& index, CheckResult* result) {
  for (size_t p = 0; p < ledger.size(); ++p) {
    const LedgerEntry& e = ledger[p];
    const std::vector<size_t>& copies = index.Positions(e.contents);
    if (copies.front() == p && copies.size() > 1) {
      std::string where;
      for (size_t c : copies) {
        where += Cat(where.empty() ? "" : ", ", TxidString(ledger[c].term, ledger[c].index));
      }
      Report(result, AnomalyKind::kDuplicateEntry,
             Cat("contents ", QuoteValue(e.contents), " appear ", copies.size(),
                 " times in the ledger, at ", where));
    }
    const auto sender = index.append_by_value.find(e.contents);
    if (sender == index.append_by_value.end()) {
      Report(result, AnomalyKind::kUnsentEntry,
             Cat(DescribeEntry(e), " was appended by no client"));
      continue;
    }
    const Operation& op = history[sender->second];
    if (op.outcome == Outcome::kRefused) {
      if (copies.front() == p) {
        Report(result, AnomalyKind::kRefusedAppendPresent,
               Cat(DescribeOp(history, sender->second),
                   " was refused, yet it is in the ledger: ", DescribeEntry(e)));
      }
    } else if (op.outcome == Outcome::kUnknown && op.collection != e.collection) {
      Report(result, AnomalyKind::kUnsentEntry,
             Cat(DescribeEntry(e), " was appended by no client to ", QuoteValue(e.collection), "; ",
                 DescribeOp(history, sender->second), " sent it elsewhere"));
    }
  }
}

// A read that names a txid must name the one the ledger holds its value at.
void CheckReadTxids(const History& history, const std::vector<LedgerEntry>& ledger,
                    const LedgerIndex& index, CheckResult* result) {
  for (size_t id = 0; id < history.size(); ++id) {
    const Operation& op = history[id];
    if (!IsAck(op, OpKind::kReadCurrent) || !op.read_found || op.txid_index == 0) continue;
    const std::vector<size_t>& copies = index.Positions(op.read_value);
    if (copies.empty()) continue;  // a read of a value not in the ledger: not linearizable
    const bool named = std::any_of(copies.begin(), copies.end(), [&](size_t p) {
      return ledger[p].term == op.txid_term && ledger[p].index == op.txid_index;
    });
    if (!named) {
      Report(result, AnomalyKind::kReadTxidMismatch,
             Cat(DescribeOp(history, id), " but the ledger has the value as ",
                 DescribeEntry(ledger[copies.front()])));
    }
  }
}

// Acknowledged txids follow real time over the whole log: if append a
// completed before append b was invoked, a's index is below b's. Sweeping the
// appends in invocation order while admitting those that completed earlier
// finds, for each b, the highest index acknowledged before it.
void CheckTxidOrder(const History& history, CheckResult* result) {
  std::vector<size_t> acks;
  for (size_t id = 0; id < history.size(); ++id) {
    // An acknowledgement without a txid is reported by CheckInput.
    if (IsAck(history[id], OpKind::kAppend) && history[id].txid_index != 0) acks.push_back(id);
  }
  std::vector<size_t> by_invoke = acks;
  std::vector<size_t> by_complete = acks;
  std::stable_sort(by_invoke.begin(), by_invoke.end(),
                   [&](size_t a, size_t b) { return history[a].invoke_ns < history[b].invoke_ns; });
  std::stable_sort(by_complete.begin(), by_complete.end(), [&](size_t a, size_t b) {
    return history[a].complete_ns < history[b].complete_ns;
  });
  size_t admitted = 0;
  std::optional<size_t> highest;  // the admitted append with the highest index
  std::optional<std::pair<size_t, size_t>> first;
  size_t violations = 0;
  for (size_t b : by_invoke) {
    for (; admitted < by_complete.size() &&
           history[by_complete[admitted]].complete_ns < history[b].invoke_ns;
         ++admitted) {
      const size_t a = by_complete[admitted];
      if (!highest || history[a].txid_index > history[*highest].txid_index) highest = a;
    }
    if (highest && history[*highest].txid_index >= history[b].txid_index) {
      if (!first) first = {*highest, b};
      ++violations;
    }
  }
  if (!first) return;
  Report(result, AnomalyKind::kTxidOrder,
         Cat(DescribeOp(history, first->first), " completed before ",
             DescribeOp(history, first->second),
             " was invoked, yet was not acknowledged with a lower index (", violations,
             " append(s) acknowledged below an earlier acknowledgement)"));
}

}  // namespace

const std::vector<size_t>& LedgerIndex::Positions(std::string_view contents) const {
  static const std::vector<size_t> kNone;
  const auto it = ledger_by_value.find(contents);
  return it == ledger_by_value.end() ? kNone : it->second;
}

LedgerIndex LedgerIndex::Build(const History& history, const std::vector<LedgerEntry>& ledger) {
  LedgerIndex index;
  for (size_t id = 0; id < history.size(); ++id) {
    if (history[id].kind == OpKind::kAppend) index.append_by_value.emplace(history[id].value, id);
  }
  for (size_t p = 0; p < ledger.size(); ++p) {
    index.ledger_by_value[ledger[p].contents].push_back(p);
    index.ledger_by_index.emplace(ledger[p].index, p);
  }
  return index;
}

std::string_view AnomalyKindName(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::kMalformedInput:
      return "malformed-input";
    case AnomalyKind::kAckedAppendLost:
      return "acked-append-lost";
    case AnomalyKind::kAckedAppendMismatch:
      return "acked-append-mismatch";
    case AnomalyKind::kRefusedAppendPresent:
      return "refused-append-present";
    case AnomalyKind::kUnsentEntry:
      return "unsent-entry";
    case AnomalyKind::kDuplicateEntry:
      return "duplicate-entry";
    case AnomalyKind::kReadTxidMismatch:
      return "read-txid-mismatch";
    case AnomalyKind::kTxidOrder:
      return "txid-order";
    case AnomalyKind::kNotLinearizable:
      return "not-linearizable";
    case AnomalyKind::kInconclusive:
      return "inconclusive";
    case AnomalyKind::kReplicaDivergence:
      return "replica-divergence";
    case AnomalyKind::kNodeCrashed:
      return "node-crashed";
  }
  return "?";
}

size_t CheckResult::Count(AnomalyKind kind) const {
  return std::count_if(anomalies.begin(), anomalies.end(),
                       [kind](const Anomaly& a) { return a.kind == kind; });
}

std::string CheckResult::ToString(size_t lines_max) const {
  if (anomalies.empty()) return "no anomalies";
  std::string out;
  for (size_t i = 0; i < anomalies.size() && i < lines_max; ++i) {
    out += Cat(AnomalyKindName(anomalies[i].kind), ": ", anomalies[i].detail, "\n");
  }
  if (anomalies.size() > lines_max) {
    out += Cat("... and ", anomalies.size() - lines_max, " more\n");
  }
  return out;
}

CheckResult Check(const History& history, const std::vector<LedgerEntry>& ledger,
                  const CheckOptions& options) {
  CheckResult result;
  const LedgerIndex index = LedgerIndex::Build(history, ledger);
  CheckInput(history, ledger, index, &result);
  CheckAckedAppends(history, ledger, index, &result);
  CheckLedgerEntries(history, ledger, index, &result);
  CheckReadTxids(history, ledger, index, &result);
  CheckTxidOrder(history, &result);
  CheckLinearizability(history, ledger, index, options, &result);
  return result;
}

}  // namespace cairn::robustness
