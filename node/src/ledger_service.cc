// LedgerService handlers (see ledger_service.h). Handlers validate, then hand
// writes to the append pipeline and answer from its callback; reads go to the
// store. A rejected request writes nothing: validation precedes Submit.
#include "ledger_service.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "cairn/v1/log.pb.h"
#include "status.h"
#include "txid.h"
#include "validation.h"

namespace cairn::node {
namespace {

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Fills `entry` from a stored user transaction. Entries of other kinds are not
// user entries and read as NotFound through GetEntry.
absl::Status ToEntry(const storage::StoredEntry& stored, v1::Entry* entry) {
  v1::LogCommand command;
  if (!command.ParseFromString(stored.data)) {
    return absl::DataLossError(absl::StrCat("entry at index ", stored.index, " does not parse"));
  }
  if (!command.has_user()) {
    return absl::NotFoundError(
        absl::StrCat("txid ", TxId{stored.term, stored.index}.ToString(), " is not a user entry"));
  }
  const v1::UserTransaction& tx = command.user();
  entry->set_txid(TxId{stored.term, stored.index}.ToString());
  entry->set_collection_id(tx.collection_id());
  entry->set_contents(tx.contents());
  entry->set_claims_digest(tx.claims_digest());
  entry->set_user_id(tx.user_id());
  entry->set_timestamp_unix_ms(tx.timestamp_unix_ms());
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* LedgerServiceImpl::Append(grpc::CallbackServerContext* context,
                                                    const v1::AppendRequest* request,
                                                    v1::AppendResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status st = ValidateAppend(*request, config_); !st.ok()) {
    metrics_->appends_rejected_total.Increment();
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  const auto started = std::chrono::steady_clock::now();
  v1::LogCommand command;
  v1::UserTransaction* tx = command.mutable_user();
  tx->set_collection_id(request->collection_id());
  tx->set_contents(request->contents());
  tx->set_claims_digest(request->claims_digest());
  tx->set_idempotency_key(request->idempotency_key());
  tx->set_timestamp_unix_ms(NowUnixMs());
  absl::Status st = log_->Submit(
      command.SerializeAsString(),
      [this, reactor, response, started](absl::StatusOr<Committed> committed) {
        if (!committed.ok()) {
          reactor->Finish(ToGrpcStatus(committed.status()));
          return;
        }
        response->set_txid(TxId{committed->term, committed->index}.ToString());
        response->set_status(v1::TRANSACTION_STATUS_COMMITTED);
        metrics_->appends_committed_total.Increment();
        metrics_->append_latency_seconds.Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        reactor->Finish(grpc::Status::OK);
      });
  if (!st.ok()) {
    metrics_->appends_rejected_total.Increment();
    reactor->Finish(ToGrpcStatus(st));
  }
  return reactor;
}

grpc::ServerUnaryReactor* LedgerServiceImpl::GetEntry(grpc::CallbackServerContext* context,
                                                      const v1::GetEntryRequest* request,
                                                      v1::GetEntryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto txid = ParseTxId(request->txid());
  if (!txid.ok()) {
    reactor->Finish(ToGrpcStatus(txid.status()));
    return reactor;
  }
  auto stored = store_->Get(txid->index);
  if (!stored.ok()) {
    const absl::Status st =
        stored.status().code() == absl::StatusCode::kNotFound
            ? absl::NotFoundError(absl::StrCat("txid ", request->txid(), " is not in the ledger"))
            : stored.status();
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  if (stored->term != txid->term) {
    reactor->Finish(ToGrpcStatus(absl::NotFoundError(
        absl::StrCat("txid ", request->txid(), " is not in the ledger (index ", txid->index,
                     " holds ", TxId{stored->term, stored->index}.ToString(), ")"))));
    return reactor;
  }
  reactor->Finish(ToGrpcStatus(ToEntry(*stored, response->mutable_entry())));
  return reactor;
}

}  // namespace cairn::node
