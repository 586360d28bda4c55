// Internal to the checker (checker.h): the index of a history and ledger that
// the checks share, and the per-collection linearizability check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "robustness/checker.h"
#include "robustness/history.h"

namespace cairn::robustness {

// Views into the History and ledger it was built from, which must outlive it.
struct LedgerIndex {
  // The first append operation carrying each value.
  std::unordered_map<std::string_view, size_t> append_by_value;
  // The ledger positions holding each contents, in log order.
  std::unordered_map<std::string_view, std::vector<size_t>> ledger_by_value;
  // The ledger position of each log index.
  std::unordered_map<uint64_t, size_t> ledger_by_index;

  static LedgerIndex Build(const History& history, const std::vector<LedgerEntry>& ledger);
  // Empty when no ledger entry holds `contents`.
  const std::vector<size_t>& Positions(std::string_view contents) const;
};

// Check 5 of checker.h for every collection the history touches.
void CheckLinearizability(const History& history, const std::vector<LedgerEntry>& ledger,
                          const LedgerIndex& index, const CheckOptions& options,
                          CheckResult* result);

}  // namespace cairn::robustness
