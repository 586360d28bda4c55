// The recorded history of a robustness run, and the final ledger it is
// checked against (checker.h).
//
// Clients record one Operation per request they make against a cluster that
// is being killed, paused and partitioned: when they invoked it, when the
// answer came back and what it said. After the faults are healed, the user
// entries of the committed log are read back as LedgerEntry values, in log
// order. Both can be saved as JSON lines, so that the history of a failing run
// can be kept next to its logs and re-checked offline with
// `robustness_check HISTORY.jsonl LEDGER.jsonl`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cairn::robustness {

enum class OpKind {
  kAppend,       // append `value` to `collection`
  kReadCurrent,  // read the last entry of `collection`
  kList,         // read every entry of `collection`, in log order
};

enum class Outcome {
  kOk,       // the cluster answered; the result fields hold the answer
  kRefused,  // the cluster said the request was definitely not carried out
  kUnknown,  // no definite answer (timeout, connection lost): it may or may
             // not have taken effect, at any time after `invoke_ns`
};

std::string_view OpKindName(OpKind kind);
std::string_view OutcomeName(Outcome outcome);

// One client request. Times are from one monotonic clock shared by all
// clients of a run. Invariant (checked by Check): for kOk and kRefused,
// invoke_ns <= complete_ns; for kUnknown, complete_ns is meaningless.
struct Operation {
  int client = 0;
  OpKind kind = OpKind::kAppend;
  std::string collection;
  // kAppend: the contents appended. Every append of a history carries a value
  // no other append carries, so that a ledger entry names the request that
  // wrote it.
  std::string value;
  int64_t invoke_ns = 0;
  int64_t complete_ns = 0;
  Outcome outcome = Outcome::kUnknown;

  // Result fields, meaningful only when outcome == kOk.
  // kAppend: the txid the append was acknowledged with. kReadCurrent with
  // read_found: the txid of the entry read (0.0 when the client did not learn
  // it; then it is not checked).
  uint64_t txid_term = 0;
  uint64_t txid_index = 0;
  // kAppend: the cluster recognised a retry of an append it had already
  // committed and answered with the original txid.
  bool duplicate = false;
  // kReadCurrent: read_found is false when the collection was empty or absent.
  std::string read_value;
  bool read_found = false;
  // kList: the whole collection, in log order.
  std::vector<std::string> list_values;

  bool operator==(const Operation&) const = default;
};

// Operations in the order they were recorded; the order carries no meaning,
// only the times do.
using History = std::vector<Operation>;

// A user entry of the final, healed ledger. Entries are given in log order;
// a retried append that the cluster recognised as a duplicate is not listed
// twice, so every entry is a distinct collection entry.
struct LedgerEntry {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string collection;
  std::string contents;

  bool operator==(const LedgerEntry&) const = default;
};

// "2.17": the txid notation of DESIGN.md.
std::string TxidString(uint64_t term, uint64_t index);

// `value` in double quotes for reports: escaped, and cut after 48 bytes.
std::string QuoteValue(std::string_view value);

// e.g. `ledger entry 2.17 in "c": "v"`.
std::string DescribeEntry(const LedgerEntry& entry);

// A one-line description of history[id] for anomaly reports, e.g.
// `op#12 client 3 APPEND "v" to "c" [1200, 1500] -> OK 2.17`.
std::string DescribeOp(const History& history, size_t id);

// JSON lines: one object per line. Strings that are not valid UTF-8 are
// written with U+FFFD in place of the bad bytes (clients write printable
// values, so such an entry is already an anomaly, and stays one).
absl::Status WriteHistoryJsonl(const History& history, std::ostream& out);
absl::StatusOr<History> ReadHistoryJsonl(std::istream& in);
absl::Status WriteLedgerJsonl(const std::vector<LedgerEntry>& ledger, std::ostream& out);
absl::StatusOr<std::vector<LedgerEntry>> ReadLedgerJsonl(std::istream& in);

// The same, to and from files.
absl::Status SaveHistory(const std::string& path, const History& history);
absl::StatusOr<History> LoadHistory(const std::string& path);
absl::Status SaveLedger(const std::string& path, const std::vector<LedgerEntry>& ledger);
absl::StatusOr<std::vector<LedgerEntry>> LoadLedger(const std::string& path);

}  // namespace cairn::robustness
