// cairn::client::Client, data plane (see client.h). Administration is in
// client_admin.cc; the retry machinery in call.h.
#include "cairn/client/client.h"

#include "absl/strings/str_cat.h"
#include "cairn/client/errors.h"
#include "call.h"
#include "core.h"
#include "error_info.h"

namespace cairn::client {

using internal::CallSpec;
using internal::CallSync;
using internal::Core;
using internal::Repeatable;

namespace {

v1::AppendWait WaitOf(bool wait_for_commit, bool geo_durable) {
  if (geo_durable) return v1::APPEND_WAIT_GEO_DURABLE;
  return wait_for_commit ? v1::APPEND_WAIT_COMMITTED : v1::APPEND_WAIT_NONE;
}

// An append's call: a write, retried with the same idempotency `key`, whose
// success names the leader.
CallSpec AppendSpec(const char* method, const std::string& key) {
  CallSpec spec;
  spec.method = method;
  spec.write = true;
  spec.idempotency_key = key;
  spec.records_leader = true;
  return spec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  absl::StatusOr<std::shared_ptr<Core>> core = Core::Create(std::move(options));
  if (!core.ok()) return core.status();
  return std::unique_ptr<Client>(new Client(*std::move(core)));
}

Client::Client(std::shared_ptr<Core> core) : core_(std::move(core)) {}

Client::~Client() { core_->Shutdown(); }

void Client::AppendAsync(absl::string_view collection_id, absl::string_view contents,
                         const AppendOptions& options, AppendCallback done) {
  if (!options.claims_digest.empty() && options.claims_digest.size() != 32) {
    done(internal::WithReason(
        absl::InvalidArgumentError(absl::StrCat("claims_digest is ", options.claims_digest.size(),
                                                " bytes; it must be empty or 32")),
        ErrorReason::kInvalidRequest, {{std::string(kFieldKey), "claims_digest"}}));
    return;
  }
  v1::AppendRequest request;
  request.set_collection_id(std::string(collection_id));
  request.set_contents(std::string(contents));
  request.set_claims_digest(options.claims_digest);
  // One key for every attempt of this append: a retry after a failover is
  // recognised by the leader and answered with the first txid.
  std::string key =
      options.idempotency_key.empty() ? core_->NewIdempotencyKey() : options.idempotency_key;
  request.set_idempotency_key(key);
  request.set_wait(WaitOf(options.wait_for_commit, options.geo_durable));
  internal::StartCall<v1::AppendRequest, v1::AppendResponse>(
      core_, AppendSpec("Append", key), std::move(request), CAIRN_RPC(ledger, Append),
      [done = std::move(done), key](absl::StatusOr<v1::AppendResponse> response) {
        if (!response.ok()) {
          done(response.status());
          return;
        }
        AppendResult result;
        result.txid = response->txid();
        result.status = response->status();
        result.duplicate = response->duplicate();
        result.idempotency_key = key;
        done(std::move(result));
      });
}

std::future<absl::StatusOr<AppendResult>> Client::AppendAsync(absl::string_view collection_id,
                                                              absl::string_view contents,
                                                              const AppendOptions& options) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<AppendResult>>>();
  std::future<absl::StatusOr<AppendResult>> future = promise->get_future();
  AppendAsync(collection_id, contents, options,
              [promise](absl::StatusOr<AppendResult> r) { promise->set_value(std::move(r)); });
  return future;
}

absl::StatusOr<AppendResult> Client::Append(absl::string_view collection_id,
                                            absl::string_view contents,
                                            const AppendOptions& options) {
  return AppendAsync(collection_id, contents, options).get();
}

void Client::AppendBatchAsync(std::vector<BatchEntry> entries, const AppendBatchOptions& options,
                              AppendBatchCallback done) {
  constexpr size_t kBatchKeyBytesMax = 100;
  if (options.idempotency_key.size() > kBatchKeyBytesMax) {
    done(internal::WithReason(absl::InvalidArgumentError(absl::StrCat(
                                  "the batch's idempotency_key is ", options.idempotency_key.size(),
                                  " bytes; the limit is ", kBatchKeyBytesMax)),
                              ErrorReason::kInvalidRequest,
                              {{std::string(kFieldKey), "idempotency_key"}}));
    return;
  }
  const std::string key =
      options.idempotency_key.empty() ? core_->NewIdempotencyKey() : options.idempotency_key;
  v1::AppendBatchRequest request;
  std::vector<std::string> keys;
  keys.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    BatchEntry& e = entries[i];
    if (!e.claims_digest.empty() && e.claims_digest.size() != 32) {
      const std::string field = absl::StrCat("entries[", i, "].claims_digest");
      done(internal::WithReason(
          absl::InvalidArgumentError(absl::StrCat(field, " is ", e.claims_digest.size(),
                                                  " bytes; it must be empty or 32")),
          ErrorReason::kInvalidRequest, {{std::string(kFieldKey), field}}));
      return;
    }
    v1::AppendBatchEntry* out = request.add_entries();
    out->set_collection_id(std::move(e.collection_id));
    out->set_contents(std::move(e.contents));
    out->set_claims_digest(std::move(e.claims_digest));
    keys.push_back(e.idempotency_key.empty() ? absl::StrCat(key, "/", i)
                                             : std::move(e.idempotency_key));
    out->set_idempotency_key(keys.back());
  }
  request.set_wait(WaitOf(options.wait_for_commit, options.geo_durable));
  internal::StartCall<v1::AppendBatchRequest, v1::AppendBatchResponse>(
      core_, AppendSpec("AppendBatch", key), std::move(request), CAIRN_RPC(ledger, AppendBatch),
      [done = std::move(done),
       keys = std::move(keys)](absl::StatusOr<v1::AppendBatchResponse> response) {
        if (!response.ok()) {
          done(response.status());
          return;
        }
        if (static_cast<size_t>(response->results_size()) != keys.size()) {
          done(absl::InternalError(absl::StrCat("AppendBatch answered ", response->results_size(),
                                                " results for ", keys.size(), " entries")));
          return;
        }
        std::vector<AppendResult> results(keys.size());
        for (size_t i = 0; i < keys.size(); ++i) {
          const v1::AppendResponse& r = response->results(static_cast<int>(i));
          results[i].txid = r.txid();
          results[i].status = r.status();
          results[i].duplicate = r.duplicate();
          results[i].idempotency_key = keys[i];
        }
        done(std::move(results));
      });
}

std::future<absl::StatusOr<std::vector<AppendResult>>> Client::AppendBatchAsync(
    std::vector<BatchEntry> entries, const AppendBatchOptions& options) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<std::vector<AppendResult>>>>();
  auto future = promise->get_future();
  AppendBatchAsync(
      std::move(entries), options,
      [promise](absl::StatusOr<std::vector<AppendResult>> r) { promise->set_value(std::move(r)); });
  return future;
}

absl::StatusOr<std::vector<AppendResult>> Client::AppendBatch(std::vector<BatchEntry> entries,
                                                              const AppendBatchOptions& options) {
  return AppendBatchAsync(std::move(entries), options).get();
}

absl::StatusOr<v1::TransactionStatus> Client::WaitForCommit(absl::string_view txid,
                                                            int64_t timeout_ms) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  const RetryPolicy& policy = core_->options().retry;
  v1::TransactionStatus last = v1::TRANSACTION_STATUS_UNKNOWN;
  for (int poll = 0;; ++poll) {
    const int64_t remaining_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (remaining_ms <= 0) break;
    v1::GetTransactionStatusRequest request;
    request.set_txid(std::string(txid));
    CallSpec spec;
    spec.method = "GetTransactionStatus";
    spec.total_timeout_ms = std::min(remaining_ms, policy.total_timeout_ms);
    auto response = CallSync<v1::GetTransactionStatusResponse>(
        core_, std::move(spec), request, CAIRN_RPC(ledger, GetTransactionStatus));
    if (!response.ok()) return response.status();
    last = response->status();
    if (last == v1::TRANSACTION_STATUS_COMMITTED || last == v1::TRANSACTION_STATUS_INVALID) {
      return last;
    }
    const int64_t delay_ms =
        internal::JitteredMs(policy, internal::BackoffMs(policy, poll), core_->RandomUnit());
    if (absl::Now() + absl::Milliseconds(delay_ms) >= deadline) break;
    if (!core_->scheduler().SleepFor(absl::Milliseconds(delay_ms))) {
      return internal::WithReason(
          absl::CancelledError("WaitForCommit: the client is shutting down"),
          ErrorReason::kShuttingDown);
    }
  }
  // Not final yet (it may still commit): a read that is not available yet.
  return internal::WithReason(absl::DeadlineExceededError(absl::StrCat(
                                  "WaitForCommit: txid ", txid, " is still ",
                                  v1::TransactionStatus_Name(last), " after ", timeout_ms, " ms")),
                              ErrorReason::kNotYetAvailable,
                              {{std::string(kTxidKey), std::string(txid)}});
}

absl::StatusOr<v1::Entry> Client::GetEntry(absl::string_view txid) {
  v1::GetEntryRequest request;
  request.set_txid(std::string(txid));
  // A node that has not applied the txid yet answers UNAVAILABLE at once
  // instead of holding the call: the retry goes to another node (the leader
  // has every committed entry, and says NOT_FOUND for txids past its log).
  request.set_no_wait(true);
  CallSpec spec;
  spec.method = "GetEntry";
  auto response =
      CallSync<v1::GetEntryResponse>(core_, std::move(spec), request, CAIRN_RPC(ledger, GetEntry));
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_entry());
}

absl::StatusOr<v1::Entry> Client::GetCurrentEntry(absl::string_view collection_id,
                                                  v1::ReadConsistency consistency) {
  v1::GetCurrentEntryRequest request;
  request.set_collection_id(std::string(collection_id));
  request.set_consistency(consistency);
  CallSpec spec;
  spec.method = "GetCurrentEntry";
  auto response = CallSync<v1::GetCurrentEntryResponse>(core_, std::move(spec), request,
                                                        CAIRN_RPC(ledger, GetCurrentEntry));
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_entry());
}

EntryIterator Client::ListEntries(absl::string_view collection_id, const ListOptions& options) {
  v1::ListEntriesRequest request;
  request.set_collection_id(std::string(collection_id));
  request.set_from_txid(options.from_txid);
  request.set_to_txid(options.to_txid);
  request.set_page_size(options.page_size);
  request.set_include_contents(options.include_contents);
  request.set_consistency(options.consistency);
  return EntryIterator(core_, std::move(request), options.entries_max);
}

absl::StatusOr<std::vector<v1::CollectionSummary>> Client::ListCollections(size_t collections_max) {
  std::vector<v1::CollectionSummary> out;
  v1::ListCollectionsRequest request;
  do {
    CallSpec spec;
    spec.method = "ListCollections";
    auto page = CallSync<v1::ListCollectionsResponse>(core_, std::move(spec), request,
                                                      CAIRN_RPC(ledger, ListCollections));
    if (!page.ok()) return page.status();
    for (v1::CollectionSummary& c : *page->mutable_collections()) {
      if (out.size() >= collections_max) return out;
      out.push_back(std::move(c));
    }
    if (!page->next_page_token().empty() && page->next_page_token() == request.page_token()) {
      return internal::WithReason(
          absl::InternalError("ListCollections: the service returned the same page token"),
          ErrorReason::kInternal);
    }
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return out;
}

absl::StatusOr<v1::GetTransactionStatusResponse> Client::GetTransactionStatus(
    absl::string_view txid) {
  v1::GetTransactionStatusRequest request;
  request.set_txid(std::string(txid));
  CallSpec spec;
  spec.method = "GetTransactionStatus";
  return CallSync<v1::GetTransactionStatusResponse>(core_, std::move(spec), request,
                                                    CAIRN_RPC(ledger, GetTransactionStatus));
}

absl::StatusOr<v1::ConsistencyProof> Client::GetConsistencyProof(uint64_t from_tree_size,
                                                                 uint64_t to_tree_size) {
  v1::GetConsistencyProofRequest request;
  request.set_from_tree_size(from_tree_size);
  request.set_to_tree_size(to_tree_size);
  CallSpec spec;
  spec.method = "GetConsistencyProof";
  auto response = CallSync<v1::GetConsistencyProofResponse>(core_, std::move(spec), request,
                                                            CAIRN_RPC(ledger, GetConsistencyProof));
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_proof());
}

absl::StatusOr<v1::GetServiceIdentityResponse> Client::GetServiceIdentity() {
  CallSpec spec;
  spec.method = "GetServiceIdentity";
  return CallSync<v1::GetServiceIdentityResponse>(core_, std::move(spec),
                                                  v1::GetServiceIdentityRequest(),
                                                  CAIRN_RPC(ledger, GetServiceIdentity));
}

std::optional<v1::GetLatestCheckpointResponse> Client::TrustedCheckpoint() const {
  if (core_->verified_state() == nullptr) return std::nullopt;
  return core_->verified_state()->trusted();
}

std::string Client::LeaderHint() const { return core_->leader(); }

const std::string& Client::service_certificate_pem() const {
  return core_->credentials().service_cert_pem;
}

}  // namespace cairn::client
