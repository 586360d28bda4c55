// Tests of the robustness checker (checker.h) and its search (wgl.h): it
// passes valid histories, including ones whose only linearization is far from
// invocation order, the search undoes wrong choices, and each check catches
// the fault it exists for, planted by hand. Times are in
// made-up nanoseconds; ledger indexes leave gaps where signature entries
// would be.
#include "robustness/checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "robustness/history.h"
#include "robustness/wgl.h"

namespace cairn::robustness {
namespace {

constexpr char kColl[] = "c";

Operation AppendOk(int client, const std::string& value, int64_t invoke, int64_t complete,
                   uint64_t index, uint64_t term = 1, const std::string& coll = kColl) {
  Operation op;
  op.client = client;
  op.kind = OpKind::kAppend;
  op.collection = coll;
  op.value = value;
  op.invoke_ns = invoke;
  op.complete_ns = complete;
  op.outcome = Outcome::kOk;
  op.txid_term = term;
  op.txid_index = index;
  return op;
}

Operation AppendUnknown(int client, const std::string& value, int64_t invoke,
                        const std::string& coll = kColl) {
  Operation op = AppendOk(client, value, invoke, 0, 0, 0, coll);
  op.outcome = Outcome::kUnknown;
  return op;
}

Operation AppendRefused(int client, const std::string& value, int64_t invoke, int64_t complete) {
  Operation op = AppendOk(client, value, invoke, complete, 0, 0);
  op.outcome = Outcome::kRefused;
  return op;
}

// A READ_CURRENT that returned `value` (nullopt: not found). The txid is left
// 0.0 (not learned) unless a test sets it.
Operation Read(int client, int64_t invoke, int64_t complete, std::optional<std::string> value,
               const std::string& coll = kColl) {
  Operation op;
  op.client = client;
  op.kind = OpKind::kReadCurrent;
  op.collection = coll;
  op.invoke_ns = invoke;
  op.complete_ns = complete;
  op.outcome = Outcome::kOk;
  op.read_found = value.has_value();
  op.read_value = value.value_or("");
  return op;
}

Operation List(int client, int64_t invoke, int64_t complete, std::vector<std::string> values,
               const std::string& coll = kColl) {
  Operation op = Read(client, invoke, complete, std::nullopt, coll);
  op.kind = OpKind::kList;
  op.list_values = std::move(values);
  return op;
}

LedgerEntry Entry(uint64_t index, const std::string& contents, uint64_t term = 1,
                  const std::string& coll = kColl) {
  return LedgerEntry{term, index, coll, contents};
}

// Expects exactly one anomaly, of `kind`, whose detail contains every one of
// `phrases`; returns the detail for further checks.
std::string ExpectOnly(const CheckResult& result, AnomalyKind kind,
                       const std::vector<std::string>& phrases) {
  EXPECT_EQ(result.anomalies.size(), 1u) << result.ToString();
  EXPECT_EQ(result.Count(kind), 1u) << result.ToString();
  if (result.anomalies.empty()) return "";
  const std::string& detail = result.anomalies.front().detail;
  for (const std::string& phrase : phrases) {
    EXPECT_NE(detail.find(phrase), std::string::npos) << "\"" << phrase << "\" not in: " << detail;
  }
  return detail;
}

// Three clients on two collections. u1 timed out but took effect (it is in
// the ledger, after an append that was invoked after it); u2 timed out and
// never took effect, and nobody saw it.
TEST(CheckerTest, ValidConcurrentHistoryWithUnknownsPasses) {
  const History history = {
      Read(1, 0, 5, std::nullopt),
      AppendOk(1, "a", 10, 20, 1),
      AppendUnknown(2, "u1", 15),
      AppendOk(3, "b", 30, 60, 4, 2),
      Read(1, 25, 35, "a"),
      Read(2, 40, 70, "u1"),
      AppendUnknown(2, "u2", 80),
      List(1, 65, 90, {"a", "u1", "b"}),
      Read(3, 95, 100, "b"),
      AppendRefused(1, "r", 100, 110),
      AppendOk(1, "k1", 120, 130, 6, 2, "k"),
      Read(3, 125, 135, "k1", "k"),
      List(2, 0, 1, {}, "k"),
  };
  const std::vector<LedgerEntry> ledger = {Entry(1, "a"), Entry(2, "u1", 1), Entry(4, "b", 2),
                                           Entry(6, "k1", 2, "k")};
  const CheckResult result = Check(history, ledger);
  EXPECT_TRUE(result.ok()) << result.ToString();
}

// Real-time order is strict: an operation invoked at the very instant
// another completed is concurrent with it, and may be ordered either way.
TEST(CheckerTest, OperationsTouchingAtAnInstantAreConcurrent) {
  const History history = {AppendOk(1, "a", 0, 10, 1), Read(2, 10, 20, std::nullopt)};
  EXPECT_TRUE(Check(history, {Entry(1, "a")}).ok());
  History later = history;
  later[1].invoke_ns = 11;
  ExpectOnly(Check(later, {Entry(1, "a")}), AnomalyKind::kNotLinearizable, {"stale read"});
}

TEST(CheckerTest, DroppedAckedWriteIsCaught) {
  const History history = {AppendOk(1, "a", 0, 10, 1), AppendOk(2, "b", 20, 30, 2)};
  const CheckResult result = Check(history, {Entry(1, "a")});
  ExpectOnly(result, AnomalyKind::kAckedAppendLost,
             {"\"b\"", "OK 1.2", "no user entry at index 2"});
}

TEST(CheckerTest, AckedWriteAtAnotherTxidIsCaught) {
  const History history = {AppendOk(1, "a", 0, 10, 1), AppendOk(2, "b", 20, 30, 2)};
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(3, "b", 2)});
  ExpectOnly(result, AnomalyKind::kAckedAppendMismatch, {"\"b\"", "acknowledged at 1.2", "2.3"});
}

TEST(CheckerTest, StaleReadIsCaughtAndNamesTheAppendItMissed) {
  const History history = {
      AppendOk(1, "a", 0, 10, 1),
      AppendOk(1, "b", 20, 30, 2),
      Read(2, 40, 50, "a"),
  };
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "b")});
  const std::string detail = ExpectOnly(result, AnomalyKind::kNotLinearizable,
                                        {"stale read", "op#1 ", "op#2 ", "at least 2 entries"});
  EXPECT_EQ(detail.find("ran out of budget"), std::string::npos) << detail;
}

TEST(CheckerTest, ReadOfAValueNeverWrittenIsCaught) {
  const History history = {AppendOk(1, "a", 0, 10, 1), Read(2, 20, 30, "ghost")};
  const CheckResult result = Check(history, {Entry(1, "a")});
  ExpectOnly(result, AnomalyKind::kNotLinearizable,
             {"op#1 ", "\"ghost\"", "no client appended it"});
}

TEST(CheckerTest, ListMissingAnAppendAckedBeforeItIsCaught) {
  const History history = {
      AppendOk(1, "a", 0, 10, 1),
      AppendOk(2, "b", 5, 15, 2),
      List(3, 20, 30, {"a"}),
  };
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "b")});
  ExpectOnly(result, AnomalyKind::kNotLinearizable, {"list misses", "op#1 ", "op#2 "});
}

TEST(CheckerTest, ListThatDisagreesWithTheLedgerIsCaught) {
  const History history = {
      AppendOk(1, "a", 0, 10, 1),
      AppendOk(2, "b", 0, 10, 2),
      List(3, 20, 30, {"b", "a"}),
  };
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "b")});
  ExpectOnly(result, AnomalyKind::kNotLinearizable, {"op#2 ", "lists \"b\" as entry #1"});
}

TEST(CheckerTest, DuplicateInTheLedgerIsCaught) {
  // The retry of "a" was written again instead of being recognised.
  const History history = {AppendOk(1, "a", 0, 10, 1)};
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "a")});
  ExpectOnly(result, AnomalyKind::kDuplicateEntry, {"\"a\"", "2 times", "1.1, 1.2"});
}

TEST(CheckerTest, RefusedWriteInTheLedgerIsCaught) {
  const History history = {AppendOk(1, "a", 0, 10, 1), AppendRefused(2, "r", 5, 15)};
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "r")});
  ExpectOnly(result, AnomalyKind::kRefusedAppendPresent, {"op#1 ", "REFUSED", "1.2"});
}

TEST(CheckerTest, EntryNoClientSentIsCaught) {
  const History history = {AppendOk(1, "a", 0, 10, 1), AppendUnknown(2, "u", 5, "other")};
  CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "forged")});
  ExpectOnly(result, AnomalyKind::kUnsentEntry, {"1.2", "\"forged\"", "no client"});
  // An UNKNOWN append that shows up in a collection it was not sent to.
  result = Check(history, {Entry(1, "a"), Entry(2, "u")});
  ExpectOnly(result, AnomalyKind::kUnsentEntry, {"\"u\"", "op#1 ", "sent it elsewhere"});
}

TEST(CheckerTest, ReadsObservingAppendsAgainstRealTimeAreCaught) {
  // Both appends are concurrent with everything; the reads may see either
  // order, but not one order and then the other.
  const History history = {
      AppendOk(1, "a", 0, 100, 1),
      AppendOk(2, "b", 0, 100, 2),
      Read(3, 10, 20, "b"),
      Read(3, 30, 40, "a"),
  };
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "b")});
  ExpectOnly(result, AnomalyKind::kNotLinearizable,
             {"reads against real time", "op#2 ", "op#3 ", "only 1 entry"});
}

TEST(CheckerTest, ReadOfAnAppendNotYetInvokedIsCaught) {
  // "u" timed out, but it was invoked only after the read had returned it.
  const History history = {AppendOk(1, "a", 0, 10, 1), Read(2, 20, 30, "u"),
                           AppendUnknown(1, "u", 40)};
  const CheckResult result = Check(history, {Entry(1, "a"), Entry(2, "u")});
  ExpectOnly(result, AnomalyKind::kNotLinearizable, {"read of the future", "op#1 ", "op#2 "});
}

TEST(CheckerTest, AcknowledgementsAgainstRealTimeAreCaught) {
  // "a" was acknowledged before "b" was sent, yet the log puts "b" first, and
  // the acknowledgements agree with the log. The log order is caught on its
  // own across collections, and as a linearizability violation within one.
  History history = {AppendOk(1, "a", 0, 10, 2), AppendOk(2, "b", 20, 30, 1, 1, "k")};
  std::vector<LedgerEntry> ledger = {Entry(1, "b", 1, "k"), Entry(2, "a")};
  ExpectOnly(Check(history, ledger), AnomalyKind::kTxidOrder, {"op#0 ", "op#1 "});

  history[1].collection = kColl;
  ledger[0].collection = kColl;
  const CheckResult result = Check(history, ledger);
  EXPECT_EQ(result.Count(AnomalyKind::kTxidOrder), 1u) << result.ToString();
  EXPECT_EQ(result.Count(AnomalyKind::kNotLinearizable), 1u) << result.ToString();
  EXPECT_EQ(result.anomalies.size(), 2u) << result.ToString();
}

TEST(CheckerTest, ReadNamingTheWrongTxidIsCaught) {
  Operation read = Read(2, 20, 30, "a");
  read.txid_term = 1;
  read.txid_index = 7;
  const History history = {AppendOk(1, "a", 0, 10, 1), read};
  ExpectOnly(Check(history, {Entry(1, "a")}), AnomalyKind::kReadTxidMismatch, {"op#1 ", "1.1"});
}

TEST(CheckerTest, RepeatedAppendValueIsMalformed) {
  const History history = {AppendOk(1, "a", 0, 10, 1), AppendUnknown(2, "a", 5)};
  ExpectOnly(Check(history, {Entry(1, "a")}), AnomalyKind::kMalformedInput,
             {"op#1 ", "same value as op#0 "});
}

// Linearizable, but not in invocation order: "y" was invoked before the read
// that still saw "x", and "z" before the reads that still saw "y". A checker
// that linearized operations greedily in invocation order would reject it;
// the only order is x, R(x), y, R(y), R(y), z, R(z).
History NonObviousHistory() {
  return {
      AppendOk(1, "x", 0, 10, 1), AppendOk(2, "y", 20, 100, 2), AppendOk(3, "z", 25, 110, 3),
      Read(4, 30, 40, "x"),       Read(5, 50, 60, "y"),         Read(4, 70, 80, "y"),
      Read(5, 90, 120, "z"),
  };
}

TEST(CheckerTest, LinearizableOnlyThroughANonObviousInterleaving) {
  const std::vector<LedgerEntry> ledger = {Entry(1, "x"), Entry(2, "y"), Entry(3, "z")};
  const CheckResult result = Check(NonObviousHistory(), ledger);
  EXPECT_TRUE(result.ok()) << result.ToString();

  // Make the second read of "y" see "x" instead: a read before it already
  // saw "y", so no order is left.
  History changed = NonObviousHistory();
  changed[5].read_value = "x";
  const std::string detail = ExpectOnly(Check(changed, ledger), AnomalyKind::kNotLinearizable,
                                        {"reads against real time", "op#4 ", "op#5 "});
  EXPECT_EQ(detail.find("ran out of budget"), std::string::npos) << detail;
}

// The search itself, on a model where the first legal choice can be wrong:
// a register (state = its value; a write of v is always legal, a read of v
// only in state v). For the append-only log the search's move ordering
// (wgl.cc) never needs to undo a choice on a valid history, so this is where
// its backtracking shows.
std::optional<uint64_t> RegisterStep(const std::vector<std::pair<bool, uint64_t>>& ops,
                                     uint64_t state, size_t op) {
  const auto& [is_write, value] = ops[op];
  if (is_write) return value;
  if (state == value) return state;
  return std::nullopt;
}

TEST(SearchTest, BacktracksWhenTheFirstLegalChoiceIsWrong) {
  // write 2 is invoked first and legal first, but read 1 must come before it
  // and read 2 after: the only order is w1, r1, w2, r2.
  std::vector<std::pair<bool, uint64_t>> ops = {{true, 2}, {true, 1}, {false, 1}, {false, 2}};
  std::vector<SearchOp> intervals = {{0, 100}, {1, 100}, {10, 20}, {30, 40}};
  const auto step = [&](uint64_t state, size_t op) { return RegisterStep(ops, state, op); };
  SearchResult result = SearchLinearization(intervals, 0, step, 1000);
  EXPECT_EQ(result.verdict, SearchResult::Verdict::kLinearizable);
  EXPECT_GT(result.backtracks, 0u) << "the first choice, write 2, had to be undone";

  // A read of 1 after the read of 2 leaves no order: write 1 would have to
  // come both before 20 and after 40. The search proves it without
  // exhausting its budget, and reports how far it got.
  ops.push_back({false, 1});
  intervals.push_back({50, 60});
  result = SearchLinearization(intervals, 0, step, 1000);
  EXPECT_EQ(result.verdict, SearchResult::Verdict::kNotLinearizable);
  EXPECT_LT(result.steps, 1000u);
  EXPECT_GE(result.depth, 3u);

  result = SearchLinearization(intervals, 0, step, 2);
  EXPECT_EQ(result.verdict, SearchResult::Verdict::kBudgetExhausted);
  EXPECT_EQ(result.steps, 2u);
}

TEST(CheckerTest, SearchBudgetExhaustedIsInconclusiveNotAFailure) {
  const std::vector<LedgerEntry> ledger = {Entry(1, "x"), Entry(2, "y"), Entry(3, "z")};
  CheckOptions options;
  options.search_steps_max = 2;
  const CheckResult result = Check(NonObviousHistory(), ledger, options);
  ExpectOnly(result, AnomalyKind::kInconclusive, {"stopped after 2 steps", "search_steps_max"});
}

// splitmix64: the same pseudo-random history on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int64_t Uniform(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Percent(int64_t p) { return Uniform(0, 99) < p; }

 private:
  uint64_t state_;
};

struct SimRun {
  History history;
  std::vector<LedgerEntry> ledger;
};

// One client's operation with random kind, collection, timing and fate.
// Returns the instant it takes effect, or nullopt if it never does.
std::optional<int64_t> RandomOperation(Rng& rng, int client, int i, Operation* op) {
  op->client = client;
  op->collection = rng.Percent(75) ? "hot" : "cold";
  op->complete_ns = op->invoke_ns + rng.Uniform(1, 300);
  op->outcome = Outcome::kOk;
  const int64_t roll = rng.Uniform(0, 99);
  if (roll >= 50) {
    op->kind = roll < 98 ? OpKind::kReadCurrent : OpKind::kList;
    if (rng.Percent(2)) {
      op->outcome = Outcome::kUnknown;
      return std::nullopt;
    }
    return rng.Uniform(op->invoke_ns, op->complete_ns);
  }
  op->kind = OpKind::kAppend;
  op->value = "v" + std::to_string(client) + "-" + std::to_string(i);
  const int64_t fate = rng.Uniform(0, 99);
  if (fate < 2) {
    op->outcome = Outcome::kUnknown;  // timed out, and takes effect later
    return op->invoke_ns + rng.Uniform(0, 2000);
  }
  if (fate < 4) {
    op->outcome = Outcome::kUnknown;  // timed out, and never takes effect
    return std::nullopt;
  }
  if (fate < 6) {
    op->outcome = Outcome::kRefused;
    return std::nullopt;
  }
  return rng.Uniform(op->invoke_ns, op->complete_ns);
}

// Applies op, taking effect now, to a sequential log and records its result.
void TakeEffect(Operation& op, std::vector<size_t>& entries, SimRun* run) {
  if (op.kind == OpKind::kAppend) {
    const uint64_t previous = run->ledger.empty() ? 0 : run->ledger.back().index;
    const uint64_t index = previous + (previous % 7 == 6 ? 2 : 1);  // gaps: signatures
    const uint64_t term = 1 + index / 1000;
    entries.push_back(run->ledger.size());
    run->ledger.push_back({term, index, op.collection, op.value});
    if (op.outcome == Outcome::kOk) {
      op.txid_term = term;
      op.txid_index = index;
    }
  } else if (op.kind == OpKind::kReadCurrent && !entries.empty()) {
    const LedgerEntry& last = run->ledger[entries.back()];
    op.read_found = true;
    op.read_value = last.contents;
    op.txid_term = last.term;
    op.txid_index = last.index;
  } else if (op.kind == OpKind::kList) {
    for (size_t p : entries) op.list_values.push_back(run->ledger[p].contents);
  }
}

// A run against a cluster that is linearizable by construction: each
// operation takes effect at a random instant of its interval (a timed-out
// append at some instant after its invocation, or never), and gets the
// result a sequential log gives in the order of those instants.
SimRun SimulateLinearizableRun(int clients, int ops_per_client, uint64_t seed) {
  Rng rng(seed);
  SimRun run;
  std::vector<std::pair<int64_t, size_t>> effects;  // (instant, op)
  for (int client = 0; client < clients; ++client) {
    int64_t now = rng.Uniform(0, 100);
    for (int i = 0; i < ops_per_client; ++i) {
      Operation op;
      op.invoke_ns = now;
      const std::optional<int64_t> effect = RandomOperation(rng, client, i, &op);
      if (effect) effects.emplace_back(*effect, run.history.size());
      now = op.complete_ns + rng.Uniform(1, 50);
      run.history.push_back(op);
    }
  }
  std::sort(effects.begin(), effects.end());
  std::map<std::string, std::vector<size_t>> entries;  // collection -> ledger positions
  for (const auto& [instant, id] : effects) {
    Operation& op = run.history[id];
    TakeEffect(op, entries[op.collection], &run);
  }
  return run;
}

TEST(CheckerTest, LargeHistoryChecksWellUnderASecond) {
  const SimRun run = SimulateLinearizableRun(16, 500, 42);
  ASSERT_EQ(run.history.size(), 8000u);
  const auto start = std::chrono::steady_clock::now();
  const CheckResult result = Check(run.history, run.ledger);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(result.ok()) << result.ToString();
  // A valid history needs no long search: a few steps per operation.
  EXPECT_LT(result.search_steps, 4 * run.history.size()) << result.search_backtracks;
  EXPECT_LT(elapsed, std::chrono::seconds(1))
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
}

TEST(CheckerTest, LargeHistoryWithOneStaleReadFails) {
  SimRun run = SimulateLinearizableRun(16, 500, 7);
  // A read invoked after every other operation completed that returns the
  // first entry of "hot".
  int64_t end = 0;
  for (const Operation& op : run.history) end = std::max({end, op.invoke_ns, op.complete_ns});
  const auto first = std::find_if(run.ledger.begin(), run.ledger.end(),
                                  [](const LedgerEntry& e) { return e.collection == "hot"; });
  ASSERT_NE(first, run.ledger.end());
  run.history.push_back(Read(99, end + 10, end + 20, first->contents, "hot"));
  const CheckResult result = Check(run.history, run.ledger);
  const std::string detail =
      ExpectOnly(result, AnomalyKind::kNotLinearizable, {"stale read", "op#8000 "});
  // The search itself proved it, within a small part of its budget.
  EXPECT_EQ(detail.find("ran out of budget"), std::string::npos) << detail;
  EXPECT_LT(result.search_steps, 20 * run.history.size());
}

TEST(HistoryTest, JsonLinesRoundTripAndRecheck) {
  History history = NonObviousHistory();
  history.push_back(AppendUnknown(6, "u", 5, "k"));
  history.push_back(AppendRefused(6, "r", 200, 210));
  history.push_back(List(7, 300, 310, {"x", "y", "z"}));
  history.push_back(Read(7, 320, 330, std::nullopt, "k"));
  history[0].duplicate = true;
  history[3].txid_term = 1;
  history[3].txid_index = 1;
  const std::vector<LedgerEntry> ledger = {Entry(1, "x"), Entry(2, "y"), Entry(3, "z"),
                                           Entry(5, "\"quoted\"\n", 2, "k")};
  const std::string dir = ::testing::TempDir();
  ASSERT_TRUE(SaveHistory(dir + "/history.jsonl", history).ok());
  ASSERT_TRUE(SaveLedger(dir + "/ledger.jsonl", ledger).ok());
  const absl::StatusOr<History> history_back = LoadHistory(dir + "/history.jsonl");
  const absl::StatusOr<std::vector<LedgerEntry>> ledger_back = LoadLedger(dir + "/ledger.jsonl");
  ASSERT_TRUE(history_back.ok()) << history_back.status();
  ASSERT_TRUE(ledger_back.ok()) << ledger_back.status();
  EXPECT_EQ(*history_back, history);
  EXPECT_EQ(*ledger_back, ledger);
  // The ledger has an entry nobody sent: the re-check finds it again.
  EXPECT_EQ(Check(*history_back, *ledger_back).ToString(), Check(history, ledger).ToString());
  EXPECT_EQ(Check(history, ledger).Count(AnomalyKind::kUnsentEntry), 1u);
}

TEST(HistoryTest, ReaderNamesTheBadLine) {
  std::stringstream history;
  ASSERT_TRUE(WriteHistoryJsonl({AppendOk(1, "a", 0, 10, 1)}, history).ok());
  history << "\n{\"client\": 1, \"kind\": \"bogus\"}\n";
  const absl::StatusOr<History> read = ReadHistoryJsonl(history);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("line 3"), std::string::npos) << read.status();

  std::stringstream ledger("{\"term\": 1, \"index\": 1, \"collection\": \"c\"}\n");
  const absl::StatusOr<std::vector<LedgerEntry>> entries = ReadLedgerJsonl(ledger);
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.status().message().find("line 1"), std::string::npos) << entries.status();
  std::stringstream garbage("not json\n");
  EXPECT_FALSE(ReadLedgerJsonl(garbage).ok());
}

}  // namespace
}  // namespace cairn::robustness
