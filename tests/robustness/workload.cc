// Robustness clients (see workload.h).
#include "robustness/workload.h"

#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cairn/client/entry_iterator.h"
#include "cairn/client/errors.h"
#include "cairn/ledger/txid.h"

namespace cairn::robustness {

Outcome AppendFailureOutcome(const absl::Status& status) {
  // Only the SDK's word that nothing was written makes a failure "refused":
  // the checker then demands the value is nowhere in the ledger.
  return client::DefinitelyNotWritten(status) ? Outcome::kRefused : Outcome::kUnknown;
}

namespace {

// A refusal that says "fix the request": another attempt gets the same.
bool RetryCannotHelp(const absl::Status& status) {
  switch (client::ReasonOf(status)) {
    case client::ErrorReason::kInvalidRequest:
    case client::ErrorReason::kLimitExceeded:
    case client::ErrorReason::kIdempotencyKeyReused:
    case client::ErrorReason::kUnauthenticated:
    case client::ErrorReason::kPermissionDenied:
    case client::ErrorReason::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool SetTxid(const std::string& text, Operation* op) {
  auto txid = ledger::TxId::Parse(text);
  if (!txid.ok()) return false;
  op->txid_term = txid->term;
  op->txid_index = txid->index;
  return true;
}

void RecordReadCurrent(const absl::StatusOr<v1::Entry>& answer, Operation* op) {
  if (answer.ok()) {
    op->outcome = Outcome::kOk;
    op->read_found = true;
    op->read_value = answer->contents();
    SetTxid(answer->txid(), op);
  } else if (absl::IsNotFound(answer.status())) {
    op->outcome = Outcome::kOk;  // the collection has no entry yet
  } else {
    op->outcome = Outcome::kUnknown;  // a failed read says nothing
  }
}

std::vector<std::string> WorkloadCollections(const WorkloadOptions& options) {
  std::vector<std::string> names;
  for (int i = 0; i < options.collections; ++i) names.push_back(absl::StrCat("robust-", i));
  return names;
}

Workload::Workload(WorkloadOptions options, client::ClientOptions client_options)
    : options_(std::move(options)),
      client_options_(std::move(client_options)),
      epoch_(std::chrono::steady_clock::now()) {
  client_options_.call_timeout_ms = options_.attempt_timeout_ms;
  client_options_.retry.total_timeout_ms = options_.call_timeout_ms;
  // The checker judges the history; the client's own fork detection would
  // only add calls to every read.
  client_options_.verified_state.enabled = false;
}

Workload::~Workload() { Stop(); }

absl::Status Workload::Start() {
  for (int i = 0; i < options_.clients; ++i) {
    auto c = client::Client::Create(client_options_);
    if (!c.ok()) return c.status();
    clients_.push_back(*std::move(c));
  }
  for (int i = 0; i < std::min(options_.hand_retry_clients, options_.clients); ++i) {
    per_node_clients_.emplace_back();
    for (const std::string& endpoint : client_options_.endpoints) {
      client::ClientOptions one = client_options_;
      one.endpoints = {endpoint};
      one.call_timeout_ms = options_.hand_attempt_timeout_ms;
      one.retry.total_timeout_ms = options_.hand_attempt_timeout_ms;  // one attempt, or nearly
      auto c = client::Client::Create(one);
      if (!c.ok()) return c.status();
      per_node_clients_.back().push_back(*std::move(c));
    }
  }
  for (int i = 0; i < options_.clients; ++i) {
    threads_.emplace_back([this, i] { RunClient(i, clients_[i].get()); });
  }
  return absl::OkStatus();
}

void Workload::Stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

History Workload::TakeHistory() {
  absl::MutexLock lock(&mu_);
  return std::move(history_);
}

int64_t Workload::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              epoch_)
      .count();
}

Operation Workload::Begin(int id, OpKind kind, const std::string& collection) const {
  Operation op;
  op.client = id;
  op.kind = kind;
  op.collection = collection;
  op.invoke_ns = NowNs();
  return op;
}

void Workload::Record(Operation op) {
  (op.outcome == Outcome::kOk ? ok_ : op.outcome == Outcome::kRefused ? refused_ : unknown_)++;
  absl::MutexLock lock(&mu_);
  history_.push_back(std::move(op));
}

void Workload::RunClient(int id, client::Client* client) {
  std::mt19937_64 rng(options_.seed * 1000003 + static_cast<uint64_t>(id));
  const std::vector<std::string> collections = WorkloadCollections(options_);
  for (uint64_t n = 0; !stop_; ++n) {
    const std::string& collection = collections[rng() % collections.size()];
    const int dice = static_cast<int>(rng() % 100);
    if (dice < options_.list_percent) {
      Record(DoList(id, collection, client));
    } else if (dice < options_.list_percent + options_.read_percent) {
      Record(DoRead(id, collection, client));
    } else if (id < static_cast<int>(per_node_clients_.size())) {
      std::vector<client::Client*> per_node;
      for (auto& c : per_node_clients_[id]) per_node.push_back(c.get());
      Record(DoHandRetriedAppend(id, n, collection, per_node, rng() % per_node.size()));
    } else {
      Record(DoAppend(id, n, collection, client));
    }
  }
}

Operation Workload::DoAppend(int id, uint64_t n, const std::string& collection,
                             client::Client* client) {
  Operation op = Begin(id, OpKind::kAppend, collection);
  op.value = absl::StrCat("s", options_.seed, "-c", id, "-", n);
  auto r = client->Append(collection, op.value);
  op.complete_ns = NowNs();
  if (!r.ok()) {
    op.outcome = AppendFailureOutcome(r.status());
    return op;
  }
  op.outcome = SetTxid(r->txid, &op) ? Outcome::kOk : Outcome::kUnknown;
  op.duplicate = r->duplicate;
  return op;
}

Operation Workload::DoHandRetriedAppend(int id, uint64_t n, const std::string& collection,
                                        const std::vector<client::Client*>& per_node,
                                        size_t first) {
  Operation op = Begin(id, OpKind::kAppend, collection);
  op.value = absl::StrCat("s", options_.seed, "-c", id, "-", n);
  client::AppendOptions append;
  append.idempotency_key = absl::StrCat("k-", op.value);
  const int64_t deadline_ns = op.invoke_ns + options_.call_timeout_ms * 1'000'000;
  bool maybe_written = false;
  for (size_t attempt = 0; NowNs() < deadline_ns && !stop_; ++attempt) {
    const size_t node = (first + attempt / options_.hand_attempts_per_node) % per_node.size();
    auto r = per_node[node]->Append(collection, op.value, append);
    if (r.ok()) {
      op.complete_ns = NowNs();
      op.outcome = SetTxid(r->txid, &op) ? Outcome::kOk : Outcome::kUnknown;
      op.duplicate = r->duplicate;
      return op;
    }
    maybe_written |= AppendFailureOutcome(r.status()) == Outcome::kUnknown;
    if (RetryCannotHelp(r.status())) break;
    // Pacing between attempts, as a client's retry loop has.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  op.complete_ns = NowNs();
  op.outcome = maybe_written ? Outcome::kUnknown : Outcome::kRefused;
  return op;
}

Operation Workload::DoRead(int id, const std::string& collection, client::Client* client) {
  Operation op = Begin(id, OpKind::kReadCurrent, collection);
  auto r = client->GetCurrentEntry(collection);
  op.complete_ns = NowNs();
  RecordReadCurrent(r, &op);
  return op;
}

Operation Workload::DoList(int id, const std::string& collection, client::Client* client) {
  Operation op = Begin(id, OpKind::kList, collection);
  client::EntryIterator it = client->ListEntries(collection);
  v1::Entry entry;
  while (it.Next(&entry)) op.list_values.push_back(entry.contents());
  op.complete_ns = NowNs();
  op.outcome = it.status().ok() ? Outcome::kOk : Outcome::kUnknown;
  if (!it.status().ok()) op.list_values.clear();
  return op;
}

absl::StatusOr<std::vector<LedgerEntry>> ReadLedger(client::Client* client,
                                                    const std::vector<std::string>& collections) {
  std::vector<LedgerEntry> ledger;
  for (const std::string& collection : collections) {
    client::EntryIterator it = client->ListEntries(collection);
    v1::Entry entry;
    while (it.Next(&entry)) {
      auto txid = ledger::TxId::Parse(entry.txid());
      if (!txid.ok()) return txid.status();
      ledger.push_back({txid->term, txid->index, collection, entry.contents()});
    }
    if (!it.status().ok()) {
      return absl::Status(it.status().code(),
                          absl::StrCat("listing ", collection, ": ", it.status().message()));
    }
  }
  std::sort(ledger.begin(), ledger.end(),
            [](const LedgerEntry& a, const LedgerEntry& b) { return a.index < b.index; });
  return ledger;
}

}  // namespace cairn::robustness
