// The client workload of a drill (see drill_workload.h).
#include "drill/drill_workload.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "cairn/client/verify.h"
#include "robustness/workload.h"

namespace cairn::drill {

using robustness::Operation;
using robustness::OpKind;
using robustness::Outcome;

DrillWorkload::DrillWorkload(DrillWorkloadOptions options, client::ClientOptions client_options,
                             std::string service_cert_pem)
    : options_(options),
      service_cert_pem_(std::move(service_cert_pem)),
      epoch_(std::chrono::steady_clock::now()),
      client_options_(std::move(client_options)) {
  for (int c = 0; c < options_.collections; ++c) {
    collections_.push_back(absl::StrCat("drill-", c));
  }
  client_options_.call_timeout_ms = options_.attempt_timeout_ms;
  client_options_.retry.total_timeout_ms = options_.call_timeout_ms;
}

DrillWorkload::~DrillWorkload() { Stop(); }

int64_t DrillWorkload::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              epoch_)
      .count();
}

absl::Status DrillWorkload::Start() {
  absl::Status st = Retarget({});
  if (!st.ok()) return st;
  for (int id = 0; id < options_.clients; ++id) {
    threads_.emplace_back([this, id] { RunClient(id); });
  }
  threads_.emplace_back([this] { RunReceipts(); });
  return absl::OkStatus();
}

void DrillWorkload::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

absl::Status DrillWorkload::Retarget(std::vector<std::string> endpoints) {
  client::ClientOptions o;
  {
    absl::MutexLock lock(&mu_);
    if (!endpoints.empty()) client_options_.endpoints = std::move(endpoints);
    o = client_options_;
  }
  std::vector<std::shared_ptr<client::Client>> fresh;
  // One more client than the workers: the receipt fetcher's.
  for (int id = 0; id <= options_.clients; ++id) {
    auto c = client::Client::Create(o);
    if (!c.ok()) return c.status();
    fresh.push_back(std::shared_ptr<client::Client>(std::move(*c)));
  }
  absl::MutexLock lock(&mu_);
  clients_ = std::move(fresh);
  return absl::OkStatus();
}

std::shared_ptr<client::Client> DrillWorkload::CurrentClient(int id) {
  absl::MutexLock lock(&mu_);
  return clients_.at(static_cast<size_t>(id));
}

TimelineSecond& DrillWorkload::SecondAt(int64_t ns) {
  const size_t second = static_cast<size_t>(ns / 1'000'000'000);
  if (timeline_.size() <= second) timeline_.resize(second + 1);
  return timeline_[second];
}

void DrillWorkload::RecordArchiveLag(double lag) {
  absl::MutexLock lock(&mu_);
  SecondAt(NowNs()).archive_lag = lag;
}

void DrillWorkload::RunClient(int id) {
  std::mt19937_64 rng(options_.seed * 1000 + static_cast<uint64_t>(id));
  uint64_t n = 0;
  while (!stop_) {
    std::shared_ptr<client::Client> client = CurrentClient(id);
    const std::string& collection = collections_[rng() % collections_.size()];
    const int roll = static_cast<int>(rng() % 100);
    if (roll < options_.read_percent) {
      Record(DoRead(id, collection, client.get()), false);
    } else {
      const bool geo = geo_on_ && static_cast<int>(rng() % 100) < options_.geo_percent;
      Record(DoAppend(id, ++n, collection, geo, client.get()), geo);
    }
    if (options_.think_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.think_ms));
    }
  }
}

Operation DrillWorkload::DoAppend(int id, uint64_t n, const std::string& collection, bool geo,
                                  client::Client* client) {
  Operation op;
  op.client = id;
  op.kind = OpKind::kAppend;
  op.collection = collection;
  op.value = absl::StrCat("drill-s", options_.seed, "-c", id, "-", n, geo ? "-geo" : "");
  op.invoke_ns = NowNs();
  client::AppendOptions ao;
  ao.geo_durable = geo;
  absl::StatusOr<client::AppendResult> r = client->Append(collection, op.value, ao);
  op.complete_ns = NowNs();
  if (!r.ok()) {
    op.outcome = robustness::AppendFailureOutcome(r.status());
    return op;
  }
  op.outcome = robustness::SetTxid(r->txid, &op) ? Outcome::kOk : Outcome::kUnknown;
  op.duplicate = r->duplicate;
  if (op.outcome == Outcome::kOk && n % static_cast<uint64_t>(options_.receipt_every) == 0) {
    absl::MutexLock lock(&mu_);
    if (receipt_jobs_.size() < kReceiptQueueMax) receipt_jobs_.push_back({r->txid, op.value});
  }
  return op;
}

Operation DrillWorkload::DoRead(int id, const std::string& collection, client::Client* client) {
  Operation op;
  op.client = id;
  op.kind = OpKind::kReadCurrent;
  op.collection = collection;
  op.invoke_ns = NowNs();
  auto r = client->GetCurrentEntry(collection);
  op.complete_ns = NowNs();
  robustness::RecordReadCurrent(r, &op);
  return op;
}

void DrillWorkload::Record(const Operation& op, bool geo) {
  absl::MutexLock lock(&mu_);
  TimelineSecond& s = SecondAt(op.complete_ns);
  const bool ok = op.outcome == Outcome::kOk;
  if (op.kind == OpKind::kAppend) {
    ++(ok ? s.appends_ok : s.appends_failed);
  } else {
    ++(ok ? s.reads_ok : s.reads_failed);
  }
  history_.push_back(op);
  geo_flags_.push_back(geo);
}

// Fetches receipts one at a time (waiting for a signature to cover the
// entry), verifies each against the service certificate and the contents,
// and keeps it.
void DrillWorkload::RunReceipts() {
  const int receipt_client = options_.clients;
  while (!stop_) {
    ReceiptJob job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !receipt_jobs_.empty();
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100));
      if (receipt_jobs_.empty()) continue;
      job = std::move(receipt_jobs_.front());
      receipt_jobs_.erase(receipt_jobs_.begin());
    }
    std::shared_ptr<client::Client> client = CurrentClient(receipt_client);
    client::ReceiptOptions ro;
    ro.wait = true;
    ro.timeout_ms = 10000;
    absl::StatusOr<v1::Receipt> r = client->GetReceipt(job.txid, ro);
    if (!r.ok()) continue;  // the entry may be lost, or the node down: not kept
    client::ReceiptExpectations expect;
    expect.contents = job.contents;
    if (!client::VerifyReceipt(*r, service_cert_pem_, expect).ok()) continue;
    KeptReceipt kept{job.txid, job.contents, *r, NowNs()};
    absl::MutexLock lock(&mu_);
    receipts_.push_back(std::move(kept));
  }
}

uint64_t DrillWorkload::AppendsAckedAfter(int64_t ns) {
  absl::MutexLock lock(&mu_);
  uint64_t n = 0;
  for (const Operation& op : history_) {
    if (op.kind == OpKind::kAppend && op.outcome == Outcome::kOk && op.invoke_ns > ns) ++n;
  }
  return n;
}

bool DrillWorkload::AckedGeoDurableIn(uint64_t first, uint64_t last) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < history_.size(); ++i) {
    const Operation& op = history_[i];
    if (geo_flags_[i] && op.outcome == Outcome::kOk && op.txid_index >= first &&
        op.txid_index <= last) {
      return true;
    }
  }
  return false;
}

robustness::History DrillWorkload::TakeHistory() {
  absl::MutexLock lock(&mu_);
  return std::move(history_);
}

std::vector<bool> DrillWorkload::TakeGeoFlags() {
  absl::MutexLock lock(&mu_);
  return std::move(geo_flags_);
}

std::vector<KeptReceipt> DrillWorkload::TakeReceipts() {
  absl::MutexLock lock(&mu_);
  return std::move(receipts_);
}

std::vector<TimelineSecond> DrillWorkload::Timeline() {
  absl::MutexLock lock(&mu_);
  return timeline_;
}

}  // namespace cairn::drill
