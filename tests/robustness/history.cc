// Descriptions and the JSON-lines form of histories and ledgers (history.h).
// nlohmann::json throws; every exception is caught here and becomes a Status.
#include "robustness/history.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <istream>
#include <ostream>
#include <stdexcept>

#include "nlohmann/json.hpp"
#include "robustness/cat.h"

namespace cairn::robustness {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// Values longer than this are cut in descriptions: reports must stay readable.
constexpr size_t kQuotedBytesMax = 48;
// A LIST description shows only the tail of the list: the end is where a
// missing or extra append shows.
constexpr size_t kListTailShown = 3;

}  // namespace

std::string QuoteValue(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kQuotedBytesMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kQuotedBytesMax) out += "...";
  return out + "\"";
}

namespace {

std::string DescribeResult(const Operation& op) {
  if (op.outcome != Outcome::kOk) return std::string(OutcomeName(op.outcome));
  switch (op.kind) {
    case OpKind::kAppend:
      return Cat("OK ", TxidString(op.txid_term, op.txid_index),
                 op.duplicate ? " (duplicate)" : "");
    case OpKind::kReadCurrent:
      if (!op.read_found) return "OK not found";
      if (op.txid_index == 0) return Cat("OK ", QuoteValue(op.read_value));  // txid not learned
      return Cat("OK ", QuoteValue(op.read_value), " at ", TxidString(op.txid_term, op.txid_index));
    case OpKind::kList: {
      std::string out = Cat("OK ", op.list_values.size(), " values [");
      const size_t n = op.list_values.size();
      const size_t first = n > kListTailShown ? n - kListTailShown : 0;
      if (first > 0) out += "..., ";
      for (size_t i = first; i < n; ++i) {
        out += Cat(i > first ? ", " : "", QuoteValue(op.list_values[i]));
      }
      return out + "]";
    }
  }
  return "?";
}

std::string_view KindKey(OpKind kind) {
  switch (kind) {
    case OpKind::kAppend:
      return "append";
    case OpKind::kReadCurrent:
      return "read_current";
    case OpKind::kList:
      return "list";
  }
  return "?";
}

std::string_view OutcomeKey(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

ordered_json OperationToJson(const Operation& op) {
  ordered_json j;
  j["client"] = op.client;
  j["kind"] = KindKey(op.kind);
  j["collection"] = op.collection;
  if (op.kind == OpKind::kAppend) j["value"] = op.value;
  j["invoke_ns"] = op.invoke_ns;
  j["complete_ns"] = op.complete_ns;
  j["outcome"] = OutcomeKey(op.outcome);
  if (op.outcome != Outcome::kOk) return j;
  j["txid_term"] = op.txid_term;
  j["txid_index"] = op.txid_index;
  if (op.kind == OpKind::kAppend) j["duplicate"] = op.duplicate;
  if (op.kind == OpKind::kReadCurrent) {
    j["read_found"] = op.read_found;
    j["read_value"] = op.read_value;
  }
  if (op.kind == OpKind::kList) j["list_values"] = op.list_values;
  return j;
}

// Throws nlohmann::json::exception or std::invalid_argument on a bad object.
Operation OperationFromJson(const json& j) {
  Operation op;
  op.client = j.at("client").get<int>();
  const std::string kind = j.at("kind").get<std::string>();
  if (kind == "append") {
    op.kind = OpKind::kAppend;
  } else if (kind == "read_current") {
    op.kind = OpKind::kReadCurrent;
  } else if (kind == "list") {
    op.kind = OpKind::kList;
  } else {
    throw std::invalid_argument("unknown kind \"" + kind + "\"");
  }
  const std::string outcome = j.at("outcome").get<std::string>();
  if (outcome == "ok") {
    op.outcome = Outcome::kOk;
  } else if (outcome == "refused") {
    op.outcome = Outcome::kRefused;
  } else if (outcome == "unknown") {
    op.outcome = Outcome::kUnknown;
  } else {
    throw std::invalid_argument("unknown outcome \"" + outcome + "\"");
  }
  op.collection = j.at("collection").get<std::string>();
  op.value = j.value("value", std::string());
  op.invoke_ns = j.at("invoke_ns").get<int64_t>();
  op.complete_ns = j.value("complete_ns", int64_t{0});
  op.txid_term = j.value("txid_term", uint64_t{0});
  op.txid_index = j.value("txid_index", uint64_t{0});
  op.duplicate = j.value("duplicate", false);
  op.read_found = j.value("read_found", false);
  op.read_value = j.value("read_value", std::string());
  op.list_values = j.value("list_values", std::vector<std::string>());
  return op;
}

// Dumps one object per line; see history.h on invalid UTF-8.
absl::Status WriteLine(const ordered_json& j, std::ostream& out) {
  out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  if (!out) return absl::DataLossError("write failed");
  return absl::OkStatus();
}

// Parses every non-empty line of `in` with `parse` (which may throw).
template <typename T, typename Parse>
absl::StatusOr<std::vector<T>> ReadLines(std::istream& in, Parse parse) {
  std::vector<T> out;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c) != 0; }))
      continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::InvalidArgumentError(Cat("line ", line_no, ": not a JSON object"));
    }
    try {
      out.push_back(parse(j));
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(Cat("line ", line_no, ": ", e.what()));
    }
  }
  if (in.bad()) return absl::DataLossError("read failed");
  return out;
}

}  // namespace

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kAppend:
      return "APPEND";
    case OpKind::kReadCurrent:
      return "READ_CURRENT";
    case OpKind::kList:
      return "LIST";
  }
  return "?";
}

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "OK";
    case Outcome::kRefused:
      return "REFUSED";
    case Outcome::kUnknown:
      return "UNKNOWN";
  }
  return "?";
}

std::string DescribeEntry(const LedgerEntry& entry) {
  return Cat("ledger entry ", TxidString(entry.term, entry.index), " in ",
             QuoteValue(entry.collection), ": ", QuoteValue(entry.contents));
}

std::string TxidString(uint64_t term, uint64_t index) { return Cat(term, ".", index); }

std::string DescribeOp(const History& history, size_t id) {
  const Operation& op = history[id];
  std::string out = Cat("op#", id, " client ", op.client, " ", OpKindName(op.kind), " ");
  if (op.kind == OpKind::kAppend) out += Cat(QuoteValue(op.value), " to ");
  out += Cat(QuoteValue(op.collection), " [", op.invoke_ns, ", ");
  if (op.outcome == Outcome::kUnknown) {
    out += "?";
  } else {
    out += Cat(op.complete_ns);
  }
  return Cat(out, "] -> ", DescribeResult(op));
}

absl::Status WriteHistoryJsonl(const History& history, std::ostream& out) {
  for (const Operation& op : history) {
    if (absl::Status s = WriteLine(OperationToJson(op), out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<History> ReadHistoryJsonl(std::istream& in) {
  return ReadLines<Operation>(in, OperationFromJson);
}

absl::Status WriteLedgerJsonl(const std::vector<LedgerEntry>& ledger, std::ostream& out) {
  for (const LedgerEntry& e : ledger) {
    ordered_json j;
    j["term"] = e.term;
    j["index"] = e.index;
    j["collection"] = e.collection;
    j["contents"] = e.contents;
    if (absl::Status s = WriteLine(j, out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LedgerEntry>> ReadLedgerJsonl(std::istream& in) {
  return ReadLines<LedgerEntry>(in, [](const json& j) {
    LedgerEntry e;
    e.term = j.at("term").get<uint64_t>();
    e.index = j.at("index").get<uint64_t>();
    e.collection = j.at("collection").get<std::string>();
    e.contents = j.at("contents").get<std::string>();
    return e;
  });
}

absl::Status SaveHistory(const std::string& path, const History& history) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::NotFoundError(Cat("cannot create ", path));
  if (absl::Status s = WriteHistoryJsonl(history, out); !s.ok()) return s;
  out.close();
  if (!out) return absl::DataLossError(Cat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<History> LoadHistory(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(Cat("cannot open ", path));
  return ReadHistoryJsonl(in);
}

absl::Status SaveLedger(const std::string& path, const std::vector<LedgerEntry>& ledger) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::NotFoundError(Cat("cannot create ", path));
  if (absl::Status s = WriteLedgerJsonl(ledger, out); !s.ok()) return s;
  out.close();
  if (!out) return absl::DataLossError(Cat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LedgerEntry>> LoadLedger(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(Cat("cannot open ", path));
  return ReadLedgerJsonl(in);
}

}  // namespace cairn::robustness
