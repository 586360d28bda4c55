// robustness_check HISTORY.jsonl LEDGER.jsonl [--search-steps-max N]
//
// Re-checks the saved history and final ledger of a robustness run offline
// (history.h describes the files; checker.h what is checked), so that a
// failure can be studied, and a checker change tried, without the cluster.
// Prints every anomaly; exits 0 on a pass, 1 on anomalies, 2 when the
// arguments or files are unusable.
#include <cstdlib>
#include <iostream>
#include <string>

#include "robustness/checker.h"
#include "robustness/history.h"

namespace {

int Usage() {
  std::cerr << "usage: robustness_check HISTORY.jsonl LEDGER.jsonl [--search-steps-max N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn::robustness;
  if (argc != 3 && argc != 5) return Usage();
  CheckOptions options;
  if (argc == 5) {
    if (std::string(argv[3]) != "--search-steps-max") return Usage();
    char* end = nullptr;
    options.search_steps_max = std::strtoull(argv[4], &end, 10);
    if (end == argv[4] || *end != '\0') return Usage();
  }
  const absl::StatusOr<History> history = LoadHistory(argv[1]);
  if (!history.ok()) {
    std::cerr << argv[1] << ": " << history.status() << "\n";
    return 2;
  }
  const absl::StatusOr<std::vector<LedgerEntry>> ledger = LoadLedger(argv[2]);
  if (!ledger.ok()) {
    std::cerr << argv[2] << ": " << ledger.status() << "\n";
    return 2;
  }
  const CheckResult result = Check(*history, *ledger, options);
  std::cout << history->size() << " operations, " << ledger->size() << " ledger entries, "
            << result.search_steps << " search steps\n"
            << result.ToString(result.anomalies.size());
  if (result.ok()) std::cout << "\n";
  return result.ok() ? 0 : 1;
}
