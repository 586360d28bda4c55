// LedgerService handlers (see ledger_service.h). Every handler authorizes
// first, validates second, and only then reads or proposes: a rejected
// request writes nothing.
#include "service/ledger_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "apply/idempotency.h"
#include "cairn/base/clock.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/identity.h"
#include "cairn/storage/ledger_store.h"
#include "errors/status.h"
#include "observe/log.h"
#include "service/proofs.h"
#include "service/validation.h"

namespace cairn::node {
namespace {

// A stored entry as the API shows it. User entries carry their contents;
// service entries (governance, signatures, internal) carry their whole entry
// data as contents, which is what their leaf's contents digest covers.
absl::Status ToEntry(const storage::StoredEntry& stored, bool include_contents,
                     const LedgerSecrets* secrets, v1::Entry* out) {
  out->set_txid(ledger::TxId{stored.term, stored.index}.ToString());
  v1::LogCommand command;
  if (!stored.data.empty() && !command.ParseFromString(stored.data)) {
    return absl::DataLossError(absl::StrCat("entry ", out->txid(), " does not parse"));
  }
  if (command.has_user()) {
    const v1::UserTransaction& tx = command.user();
    out->set_collection_id(tx.collection_id());
    if (include_contents && tx.has_sealed()) {
      // A private ledger's entry: opened for the reader, with the salt that
      // checks its receipt (the caller's role was checked before).
      if (secrets == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("entry ", out->txid(), " is sealed and this server holds no secrets"));
      }
      auto opened = secrets->Open(ledger::TxId{stored.term, stored.index}, tx);
      if (!opened.ok()) return opened.status();
      out->set_contents(std::move(opened->contents));
      out->set_contents_salt(std::move(opened->salt));
    } else if (include_contents) {
      out->set_contents(tx.contents());
    }
    out->set_claims_digest(tx.claims_digest());
    out->set_user_id(tx.user_id());
    out->set_timestamp_unix_ms(tx.timestamp_unix_ms());
    return absl::OkStatus();
  }
  auto leaf = ledger::LeafComponentsFor(stored.term, stored.index, command, stored.data);
  if (!leaf.ok()) return leaf.status();
  out->set_collection_id(leaf->collection_id());
  if (include_contents) out->set_contents(stored.data);
  out->set_user_id(leaf->user_id());
  out->set_timestamp_unix_ms(leaf->timestamp_unix_ms());
  return absl::OkStatus();
}

// A ListEntries page token: the storage layer's token, and for a
// linearizable listing the read index all its pages are bounded by. Form:
// "<read_index>:<storage token>" (read_index 0 for a local listing).
struct ListToken {
  uint64_t read_index = 0;
  std::string storage_token;
};

std::string MakeListToken(const ListToken& t) {
  return absl::StrCat(t.read_index, ":", t.storage_token);
}

absl::StatusOr<ListToken> ParseListToken(const std::string& token) {
  if (token.empty()) return ListToken{};
  const auto colon = token.find(':');
  ListToken t;
  if (colon == std::string::npos || !absl::SimpleAtoi(token.substr(0, colon), &t.read_index)) {
    return absl::InvalidArgumentError("page_token is malformed (pass back next_page_token as is)");
  }
  t.storage_token = token.substr(colon + 1);
  return t;
}

// NOT_FOUND for a txid (and what follows it in `what`) that is not in the ledger.
absl::Status NotInLedger(absl::string_view what) {
  return absl::NotFoundError(absl::StrCat("txid ", what, " is not in the ledger"));
}

absl::StatusOr<uint64_t> IndexBound(const std::string& txid, absl::string_view field) {
  if (txid.empty()) return 0;
  auto parsed = ledger::TxId::Parse(txid, field);
  if (!parsed.ok()) return parsed.status();
  return parsed->index;
}

}  // namespace

// ---------------------------------------------------------------- Append

template <typename Request, typename Response, typename Start>
grpc::ServerUnaryReactor* LedgerServiceImpl::AcceptWrite(
    Ctx* call, const Request* req, Response* resp,
    absl::Status (*validate)(const Request&, const NodeConfig&), Start start_on_leader,
    void (LedgerServiceImpl::*propose)(Ctx*, Reactor*, const Principal&, const Request*,
                                       Response*)) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_CONTRIBUTOR);
  absl::Status st = principal.status();
  if (st.ok()) st = validate(*req, *config_);
  if (!st.ok()) {
    metrics_->appends_rejected_total.Increment();
    return Finish(reactor, st);
  }
  if (!router_->IsLeader()) {
    router_->Forward<v1::LedgerService>(
        call, reactor, *principal,
        [req, resp, start_on_leader](auto* leader, auto* client, auto done) {
          start_on_leader(leader, client, req, resp, std::move(done));
        },
        &ForwardedAppendStatus);
    return reactor;
  }
  (this->*propose)(call, reactor, *principal, req, resp);
  return reactor;
}

grpc::ServerUnaryReactor* LedgerServiceImpl::Append(Ctx* call, const v1::AppendRequest* req,
                                                    v1::AppendResponse* resp) {
  return AcceptWrite(
      call, req, resp, &ValidateAppend,
      [](auto* leader, auto* client, auto* request, auto* response, auto done) {
        leader->Append(client, request, response, std::move(done));
      },
      &LedgerServiceImpl::ProposeAppend);
}

grpc::ServerUnaryReactor* LedgerServiceImpl::AppendBatch(Ctx* call,
                                                         const v1::AppendBatchRequest* req,
                                                         v1::AppendBatchResponse* resp) {
  return AcceptWrite(
      call, req, resp, &ValidateAppendBatch,
      [](auto* leader, auto* client, auto* request, auto* response, auto done) {
        leader->AppendBatch(client, request, response, std::move(done));
      },
      &LedgerServiceImpl::ProposeAppendBatch);
}

namespace {

// The log command of a user's append, received at `now_ms`.
v1::LogCommand UserCommand(const std::string& collection_id, const std::string& contents,
                           const std::string& claims_digest, const std::string& idempotency_key,
                           const Principal& principal, int64_t now_ms) {
  v1::LogCommand command;
  v1::UserTransaction* tx = command.mutable_user();
  tx->set_collection_id(collection_id);
  tx->set_contents(contents);
  tx->set_claims_digest(claims_digest);
  tx->set_user_id(principal.user_id);
  tx->set_idempotency_key(idempotency_key);
  tx->set_timestamp_unix_ms(now_ms);
  return command;
}

void SetResult(const ledger::TxId& txid, v1::TransactionStatus status, bool duplicate,
               v1::AppendResponse* out) {
  out->set_txid(txid.ToString());
  out->set_status(status);
  out->set_duplicate(duplicate);
}

}  // namespace

bool LedgerServiceImpl::GeoDurable(v1::AppendWait wait) const {
  return wait == v1::APPEND_WAIT_GEO_DURABLE ||
         (wait == v1::APPEND_WAIT_COMMITTED && governance_->geo_durable_by_default());
}

absl::StatusOr<std::optional<ledger::TxId>> LedgerServiceImpl::AppliedDuplicate(
    const Principal& principal, const std::string& idempotency_key, const AppendIdentity& identity,
    int64_t now_ms) const {
  if (idempotency_key.empty()) return std::nullopt;
  auto held = reads_.ledger->LookupIdempotencyKey(principal.user_id, idempotency_key, now_ms);
  if (!held.ok()) return std::nullopt;
  // Answered from the ledger, but only with the entry that holds this key
  // AND these contents.
  const ledger::TxId holder{held->term, held->index};
  auto stored = reads_.ledger->Get(held->index);
  if (!stored.ok()) return stored.status();
  if (IdentityOfEntry(stored->data) != identity) return KeyReusedError(holder);
  return holder;
}

absl::StatusOr<AppendIdentity> LedgerServiceImpl::IdentityOfRequest(
    const v1::UserTransaction& tx) const {
  AppendIdentity identity = IdentityOf(tx);
  if (reads_.secrets != nullptr && reads_.secrets->private_ledger()) {
    auto digest = reads_.secrets->RequestDigest(tx);
    if (!digest.ok()) return digest.status();
    identity.digest = *digest;
    identity.keyed = true;
  }
  return identity;
}

void LedgerServiceImpl::ProposeAppend(Ctx* call, Reactor* reactor, const Principal& principal,
                                      const v1::AppendRequest* req, v1::AppendResponse* resp) {
  const int64_t now_ms = base::NowUnixMs();
  v1::LogCommand command = UserCommand(req->collection_id(), req->contents(), req->claims_digest(),
                                       req->idempotency_key(), principal, now_ms);
  if (absl::Status st = ledger::ValidateUserTransaction(command.user()); !st.ok()) {
    Finish(reactor, st);
    return;
  }
  const bool geo_durable = GeoDurable(req->wait());
  auto identity_or = IdentityOfRequest(command.user());
  if (!identity_or.ok()) {
    Finish(reactor, identity_or.status());
    return;
  }
  AppendIdentity identity = *std::move(identity_or);
  auto duplicate = AppliedDuplicate(principal, req->idempotency_key(), identity, now_ms);
  if (!duplicate.ok()) {
    Finish(reactor, duplicate.status());
    return;
  }
  if (duplicate->has_value()) {
    const ledger::TxId holder = **duplicate;
    SetResult(holder, v1::TRANSACTION_STATUS_COMMITTED, true, resp);
    if (geo_durable) {
      FinishWhenGeoDurable(call, reactor, holder);
    } else {
      Finish(reactor, absl::OkStatus());
    }
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  loop_->Propose(
      command.SerializeAsString(), std::move(identity), req->wait() != v1::APPEND_WAIT_NONE,
      DeadlineOf(*call),
      [this, call, reactor, resp, started, geo_durable](absl::StatusOr<CommitResult> r) {
        if (!r.ok()) {
          metrics_->appends_rejected_total.Increment();
          Finish(reactor, r.status());
          return;
        }
        SetResult(r->txid, r->status, r->duplicate_of.has_value(), resp);
        metrics_->append_latency_seconds.Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        if (geo_durable) {
          FinishWhenGeoDurable(call, reactor, r->txid);
        } else {
          Finish(reactor, absl::OkStatus());
        }
      });
}

void LedgerServiceImpl::ProposeAppendBatch(Ctx* call, Reactor* reactor, const Principal& principal,
                                           const v1::AppendBatchRequest* req,
                                           v1::AppendBatchResponse* resp) {
  const int64_t now_ms = base::NowUnixMs();
  const int n = req->entries_size();
  for (int i = 0; i < n; ++i) resp->add_results();
  // Entries already applied are answered from the ledger; the rest are
  // proposed together. Every check comes before the proposal, so a refusal
  // writes nothing.
  std::vector<std::string> commands;
  std::vector<AppendIdentity> identities;
  std::vector<int> positions;  // of the proposed entries in the request
  ledger::TxId last;           // the highest txid answered, for GEO_DURABLE
  for (int i = 0; i < n; ++i) {
    const v1::AppendBatchEntry& e = req->entries(i);
    v1::LogCommand command = UserCommand(e.collection_id(), e.contents(), e.claims_digest(),
                                         e.idempotency_key(), principal, now_ms);
    if (absl::Status st = ledger::ValidateUserTransaction(command.user()); !st.ok()) {
      Finish(reactor, AboutEntry(st, static_cast<size_t>(i)));
      return;
    }
    auto identity_or = IdentityOfRequest(command.user());
    if (!identity_or.ok()) {
      Finish(reactor, identity_or.status());
      return;
    }
    AppendIdentity identity = *std::move(identity_or);
    auto duplicate = AppliedDuplicate(principal, e.idempotency_key(), identity, now_ms);
    if (!duplicate.ok()) {
      metrics_->appends_rejected_total.Increment();
      Finish(reactor, AboutEntry(duplicate.status(), static_cast<size_t>(i)));
      return;
    }
    if (duplicate->has_value()) {
      SetResult(**duplicate, v1::TRANSACTION_STATUS_COMMITTED, true, resp->mutable_results(i));
      if ((*duplicate)->index > last.index) last = **duplicate;
      continue;
    }
    commands.push_back(command.SerializeAsString());
    identities.push_back(std::move(identity));
    positions.push_back(i);
  }
  const bool geo_durable = GeoDurable(req->wait());
  auto finish = [this, call, reactor, geo_durable](const ledger::TxId& last) {
    if (geo_durable) {
      FinishWhenGeoDurable(call, reactor, last);
    } else {
      Finish(reactor, absl::OkStatus());
    }
  };
  if (commands.empty()) {
    finish(last);
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  loop_->ProposeBatch(
      std::move(commands), std::move(identities), req->wait() != v1::APPEND_WAIT_NONE,
      DeadlineOf(*call),
      [this, reactor, resp, started, finish, last, positions = std::move(positions)](
          absl::StatusOr<std::vector<absl::StatusOr<CommitResult>>> r) mutable {
        if (!r.ok()) {
          metrics_->appends_rejected_total.Increment();
          Finish(reactor, r.status());
          return;
        }
        for (size_t j = 0; j < r->size(); ++j) {
          const auto& outcome = (*r)[j];
          const int i = positions[j];
          if (!outcome.ok()) {
            // The first entry (by position) that did not make it decides.
            metrics_->appends_rejected_total.Increment();
            Finish(reactor, AboutEntry(outcome.status(), static_cast<size_t>(i)));
            return;
          }
          SetResult(outcome->txid, outcome->status, outcome->duplicate_of.has_value(),
                    resp->mutable_results(i));
          if (outcome->txid.index > last.index) last = outcome->txid;
        }
        metrics_->append_latency_seconds.Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        finish(last);
      });
}

void LedgerServiceImpl::FinishWhenGeoDurable(Ctx* call, Reactor* reactor,
                                             const ledger::TxId& txid) {
  auto not_yet = [txid](const absl::Status& why) {
    return WithReason(
        absl::DeadlineExceededError(absl::StrCat(
            "entry ", txid.ToString(), " is committed, but no geo-replica archived it in time (",
            why.message(),
            "): it is in the ledger, not yet safe from the loss of this region; do not append "
            "it again (see cairnctl dr status)")),
        v1::ERROR_REASON_NOT_GEO_DURABLE, {{"txid", txid.ToString()}});
  };
  const absl::Status waiting = geo_->waiters().Wait(
      txid.index, DeadlineOf(*call),
      [reactor, not_yet](absl::Status s) { Finish(reactor, s.ok() ? s : not_yet(s)); });
  if (!waiting.ok()) Finish(reactor, not_yet(waiting));
}

// ---------------------------------------------------------------- reads

void LedgerServiceImpl::WhenApplied(Ctx* call, Reactor* reactor, uint64_t index, bool no_wait,
                                    absl::AnyInvocable<grpc::Status() &&> read) {
  // Applied already (the waiters may not have heard yet): read at once.
  const uint64_t applied = reads_.ledger->applied_index();
  if (index <= applied) {
    reactor->Finish(std::move(read)());
    return;
  }
  if (no_wait) {
    Finish(reactor,
           WithReason(absl::UnavailableError(absl::StrCat(
                          "index ", index, " is not applied on this node yet (applied index ",
                          applied, ")")),
                      v1::ERROR_REASON_NOT_YET_AVAILABLE));
    return;
  }
  auto shared = std::make_shared<absl::AnyInvocable<grpc::Status() &&>>(std::move(read));
  const absl::Status st =
      reads_.applied->Wait(index, DeadlineOf(*call), [reactor, shared](absl::Status s) {
        if (!s.ok()) {
          reactor->Finish(ToGrpcStatus(
              WithReason(absl::DeadlineExceededError(
                             "the entry was not applied on this node before the deadline"),
                         v1::ERROR_REASON_NOT_YET_AVAILABLE)));
          return;
        }
        reactor->Finish(std::move(*shared)());
      });
  if (!st.ok()) Finish(reactor, st);
}

grpc::ServerUnaryReactor* LedgerServiceImpl::GetEntry(Ctx* call, const v1::GetEntryRequest* req,
                                                      v1::GetEntryResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  auto txid = ledger::TxId::Parse(req->txid(), "txid");
  if (!txid.ok()) return Finish(reactor, txid.status());
  auto read = [this, txid = *txid, resp]() {
    auto stored = reads_.ledger->Get(txid.index);
    if (!stored.ok() || stored->term != txid.term) {
      return ToGrpcStatus(NotInLedger(txid.ToString()));
    }
    return ToGrpcStatus(ToEntry(*stored, true, reads_.secrets, resp->mutable_entry()));
  };
  // An index not applied here yet may still come (then wait for it), unless
  // it is not in the ledger.
  if (txid->index > reads_.applied->reached()) {
    if (std::optional<grpc::Status> answer = BeyondThisNode(call, *txid)) {
      reactor->Finish(*std::move(answer));
      return reactor;
    }
  }
  WhenApplied(call, reactor, txid->index, req->no_wait(), std::move(read));
  return reactor;
}

grpc::ServerUnaryReactor* LedgerServiceImpl::GetCurrentEntry(Ctx* call,
                                                             const v1::GetCurrentEntryRequest* req,
                                                             v1::GetCurrentEntryResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  if (req->collection_id().empty()) {
    return Finish(reactor, absl::InvalidArgumentError("collection_id is empty"));
  }
  auto read = [this, id = req->collection_id(), resp]() {
    auto stored = reads_.ledger->CurrentEntry(id);
    if (!stored.ok()) {
      return ToGrpcStatus(
          absl::IsNotFound(stored.status())
              ? absl::NotFoundError(absl::StrCat("collection '", id, "' has no entries"))
              : stored.status());
    }
    return ToGrpcStatus(ToEntry(*stored, true, reads_.secrets, resp->mutable_entry()));
  };
  if (req->consistency() == v1::READ_CONSISTENCY_LOCAL) {
    reactor->Finish(read());
    return reactor;
  }
  loop_->ReadIndex(DeadlineOf(*call),
                   [reactor, read = std::move(read)](absl::StatusOr<uint64_t> index) mutable {
                     if (!index.ok()) {
                       reactor->Finish(ToGrpcStatus(index.status()));
                     } else {
                       reactor->Finish(read());
                     }
                   });
  return reactor;
}

grpc::ServerUnaryReactor* LedgerServiceImpl::ListEntries(Ctx* call,
                                                         const v1::ListEntriesRequest* req,
                                                         v1::ListEntriesResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  if (req->collection_id().empty()) {
    return Finish(reactor, absl::InvalidArgumentError("collection_id is empty"));
  }
  absl::Status st = ValidatePageSize(req->page_size(), *config_);
  if (st.ok()) st = IndexBound(req->from_txid(), "from_txid").status();
  if (st.ok()) st = IndexBound(req->to_txid(), "to_txid").status();
  auto token = ParseListToken(req->page_token());
  if (st.ok()) st = token.status();
  if (!st.ok()) return Finish(reactor, st);
  if (req->consistency() == v1::READ_CONSISTENCY_LOCAL) {
    if (token->read_index != 0) {
      return Finish(reactor, absl::InvalidArgumentError(
                                 "page_token is from a linearizable listing; ask for the next "
                                 "page with the same consistency"));
    }
    reactor->Finish(ListPage(*req, 0, resp));
    return reactor;
  }
  if (token->read_index != 0) {
    // A later page: the snapshot point is fixed; wait until it is applied.
    const uint64_t index = token->read_index;
    WhenApplied(call, reactor, index, false,
                [this, req, resp, index]() { return ListPage(*req, index, resp); });
    return reactor;
  }
  loop_->ReadIndex(
      DeadlineOf(*call), [this, reactor, req, resp](absl::StatusOr<uint64_t> index) mutable {
        reactor->Finish(index.ok() ? ListPage(*req, *index, resp) : ToGrpcStatus(index.status()));
      });
  return reactor;
}

grpc::Status LedgerServiceImpl::ListPage(const v1::ListEntriesRequest& req, uint64_t read_index,
                                         v1::ListEntriesResponse* resp) const {
  storage::ListEntriesOptions options;
  options.from_index = *IndexBound(req.from_txid(), "from_txid");
  const uint64_t to = *IndexBound(req.to_txid(), "to_txid");
  options.to_index = read_index == 0 ? to : (to == 0 ? read_index : std::min(to, read_index));
  options.page_size = req.page_size() == 0 ? 100 : req.page_size();
  options.include_data = req.include_contents();
  options.page_token = ParseListToken(req.page_token())->storage_token;
  auto page = reads_.ledger->ListEntries(req.collection_id(), options);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const auto& e : page->entries) {
    absl::Status st = ToEntry(e, req.include_contents(), reads_.secrets, resp->add_entries());
    if (!st.ok()) return ToGrpcStatus(st);
  }
  if (!page->next_page_token.empty()) {
    resp->set_next_page_token(MakeListToken({read_index, page->next_page_token}));
  }
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* LedgerServiceImpl::ListCollections(Ctx* call,
                                                             const v1::ListCollectionsRequest* req,
                                                             v1::ListCollectionsResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  if (absl::Status st = ValidatePageSize(req->page_size(), *config_); !st.ok()) {
    return Finish(reactor, st);
  }
  auto page = reads_.ledger->ListCollections(req->page_size() == 0 ? 100 : req->page_size(),
                                             req->page_token());
  if (!page.ok()) return Finish(reactor, page.status());
  for (const auto& c : page->collections) {
    auto* out = resp->add_collections();
    out->set_collection_id(c.collection_id);
    out->set_entry_count(c.entry_count);
    out->set_first_txid(ledger::TxId{c.first.term, c.first.index}.ToString());
    out->set_last_txid(ledger::TxId{c.last.term, c.last.index}.ToString());
  }
  resp->set_next_page_token(page->next_page_token);
  return Finish(reactor, absl::OkStatus());
}

std::optional<grpc::Status> LedgerServiceImpl::BeyondThisNode(Ctx* call,
                                                              const ledger::TxId& txid) const {
  const bool leader = router_->IsLeader();
  const bool beyond_log = txid.index > reads_.log->LastIndex();
  if (StatusOf(txid) == v1::TRANSACTION_STATUS_INVALID || (leader && beyond_log)) {
    return ToGrpcStatus(NotInLedger(txid.ToString()));
  }
  if (leader || !beyond_log) return std::nullopt;
  // Beyond this follower's log, a txid may be on its way (pending on the
  // leader, not yet sent here) or not in the ledger at all: only the leader
  // can tell, so the caller is sent there (the SDK follows at once).
  return router_->NotLeader(call, absl::StrCat("index ", txid.index, " of txid ", txid.ToString(),
                                               " is beyond this node's log: ask the leader"));
}

v1::TransactionStatus LedgerServiceImpl::StatusOf(const ledger::TxId& txid) const {
  const consensus::LogStorage& log = *reads_.log;
  const uint64_t commit = loop_->status().node.commit;
  uint64_t term = 0;
  if (txid.index <= reads_.applied->reached()) {
    auto stored = reads_.ledger->Get(txid.index);
    if (!stored.ok()) return v1::TRANSACTION_STATUS_UNKNOWN;
    term = stored->term;
  } else {
    auto t = log.TermAt(txid.index);
    if (!t.ok()) return v1::TRANSACTION_STATUS_UNKNOWN;
    term = *t;
  }
  if (term == txid.term) {
    return txid.index <= commit ? v1::TRANSACTION_STATUS_COMMITTED : v1::TRANSACTION_STATUS_PENDING;
  }
  // Another term holds the index: if it is committed, or newer than the
  // txid's term, the txid can never commit.
  if (txid.index <= commit || term > txid.term) return v1::TRANSACTION_STATUS_INVALID;
  return v1::TRANSACTION_STATUS_UNKNOWN;
}

grpc::ServerUnaryReactor* LedgerServiceImpl::GetTransactionStatus(
    Ctx* call, const v1::GetTransactionStatusRequest* req, v1::GetTransactionStatusResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  auto txid = ledger::TxId::Parse(req->txid(), "txid");
  if (!txid.ok()) return Finish(reactor, txid.status());
  resp->set_status(StatusOf(*txid));
  resp->set_commit_index(loop_->status().node.commit);
  return Finish(reactor, absl::OkStatus());
}

// ---------------------------------------------------------------- proofs

grpc::ServerUnaryReactor* LedgerServiceImpl::GetReceipt(Ctx* call, const v1::GetReceiptRequest* req,
                                                        v1::GetReceiptResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  auto txid = ledger::TxId::Parse(req->txid(), "txid");
  if (!txid.ok()) return Finish(reactor, txid.status());
  auto build = [this, txid = *txid, resp]() {
    auto receipt = BuildReceipt(*reads_.ledger, *reads_.proof_nodes, txid.index, txid.term);
    if (!receipt.ok()) return receipt.status();
    *resp->mutable_receipt() = *std::move(receipt);
    return absl::OkStatus();
  };
  const uint64_t signed_to = reads_.signed_->reached();
  if (txid->index <= signed_to) return Finish(reactor, build());
  if (std::optional<grpc::Status> answer = BeyondThisNode(call, *txid)) {
    reactor->Finish(*std::move(answer));
    return reactor;
  }
  if (!req->wait()) {
    return Finish(
        reactor,
        absl::NotFoundError(absl::StrCat(
            "no signature covers ", req->txid(), " yet (signatures cover entries up to index ",
            signed_to, "); retry shortly, or ask with wait (cairnctl receipt get --wait)")));
  }
  // Only the leader signs, and on an idle ledger only a reader's wish makes
  // it sign again (RequestSignature): a follower passes the wait on to it.
  if (!router_->IsLeader()) {
    router_->Forward<v1::LedgerService>(call, reactor, *principal,
                                        [req, resp](auto* leader, auto* client, auto done) {
                                          leader->GetReceipt(client, req, resp, std::move(done));
                                        });
    return reactor;
  }
  auto shared = std::make_shared<decltype(build)>(std::move(build));
  const absl::Status st = reads_.signed_->Wait(
      txid->index, DeadlineOf(*call), [reactor, shared, txid = req->txid()](absl::Status s) {
        if (!s.ok()) {
          reactor->Finish(ToGrpcStatus(absl::DeadlineExceededError(
              absl::StrCat("no signature covered ", txid, " before the deadline"))));
          return;
        }
        reactor->Finish(ToGrpcStatus((*shared)()));
      });
  if (!st.ok()) return Finish(reactor, st);
  loop_->RequestSignature(txid->index);
  return reactor;
}

grpc::ServerUnaryReactor* LedgerServiceImpl::GetConsistencyProof(
    Ctx* call, const v1::GetConsistencyProofRequest* req, v1::GetConsistencyProofResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  auto proof = BuildConsistencyProof(*reads_.ledger, *reads_.proof_nodes, req->from_tree_size(),
                                     req->to_tree_size());
  if (!proof.ok()) return Finish(reactor, proof.status());
  *resp->mutable_proof() = *std::move(proof);
  return Finish(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerServiceImpl::GetLatestCheckpoint(
    Ctx* call, const v1::GetLatestCheckpointRequest* req, v1::GetLatestCheckpointResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_READER);
  if (!principal.ok()) return Finish(reactor, principal.status());
  auto sig = LatestSignature(*reads_.ledger);
  if (!sig.ok()) {
    return Finish(reactor, absl::IsNotFound(sig.status())
                               ? absl::NotFoundError("nothing is signed yet")
                               : sig.status());
  }
  *resp->mutable_checkpoint() = sig->checkpoint();
  resp->set_node_certificate_pem(sig->node_certificate_pem());
  return Finish(reactor, absl::OkStatus());
}

grpc::ServerUnaryReactor* LedgerServiceImpl::GetServiceIdentity(
    Ctx* call, const v1::GetServiceIdentityRequest* req, v1::GetServiceIdentityResponse* resp) {
  auto* reactor = call->DefaultReactor();
  auto principal = authorizer_->Authorize(*call, v1::ROLE_UNSPECIFIED);
  if (!principal.ok()) return Finish(reactor, principal.status());
  resp->set_service_certificate_pem(identity_->service_cert_pem);
  resp->set_service_id(identity_->service_id);
  resp->set_node_id(identity_->node_id);
  if (auto recovery = governance_->last_recovery()) *resp->mutable_last_recovery() = *recovery;
  std::vector<v1::NodeInfo> unrecorded;  // members governance holds no certificate for
  for (const auto& m : governance_->Members()) {
    if (m.certificate_pem().empty() && m.node_id() != identity_->node_id) {
      unrecorded.push_back(m);
      continue;
    }
    auto* n = resp->add_nodes();
    n->set_node_id(m.node_id());
    n->set_certificate_pem(m.node_id() == identity_->node_id ? identity_->node_cert_pem
                                                             : m.certificate_pem());
  }
  // A member asking (another node gathering certificates) gets what this
  // node knows; anyone else gets every member, the unrecorded ones asked.
  if (unrecorded.empty() || authorizer_->AuthorizeMemberNode(*call).ok()) {
    return Finish(reactor, absl::OkStatus());
  }
  AskMembersForCertificates(call, reactor, std::move(unrecorded), resp);
  return reactor;
}

// The initial members' certificates are on no record (the genesis names
// their addresses only): each is asked for its own, as this node, and the
// one it presents is kept if it is that member's node certificate, issued
// by the service certificate and valid now. A member that does not answer
// in time is listed in unreachable_node_ids.
void LedgerServiceImpl::AskMembersForCertificates(Ctx* call, Reactor* reactor,
                                                  std::vector<v1::NodeInfo> members,
                                                  v1::GetServiceIdentityResponse* resp) {
  struct Asked {
    v1::NodeInfo member;
    std::unique_ptr<v1::LedgerService::Stub> stub;
    grpc::ClientContext client;
    v1::GetServiceIdentityResponse answer;
  };
  struct Fanout {
    Reactor* reactor;
    v1::GetServiceIdentityResponse* resp;
    std::string service_cert_pem;
    const v1::GetServiceIdentityRequest request;
    absl::Mutex mu;
    size_t pending ABSL_GUARDED_BY(mu) = 0;
    std::vector<std::unique_ptr<Asked>> asked;
  };
  auto fanout = std::make_shared<Fanout>();
  fanout->reactor = reactor;
  fanout->resp = resp;
  fanout->service_cert_pem = identity_->service_cert_pem;
  {
    absl::MutexLock lock(&fanout->mu);
    fanout->pending = members.size();
  }
  const auto deadline =
      std::min(call->deadline() - ReplyMargin(call->deadline() - std::chrono::system_clock::now()),
               std::chrono::system_clock::now() + std::chrono::seconds(2));
  for (v1::NodeInfo& m : members) {
    auto asked = std::make_unique<Asked>();
    asked->member = std::move(m);
    asked->stub = v1::LedgerService::NewStub(
        router_->MemberChannel(asked->member.node_id(), asked->member.client_address()));
    asked->client.set_deadline(deadline);
    fanout->asked.push_back(std::move(asked));
  }
  for (const auto& asked : fanout->asked) {
    Asked* a = asked.get();
    a->stub->async()->GetServiceIdentity(
        &a->client, &fanout->request, &a->answer, [fanout, a](grpc::Status status) {
          std::optional<std::string> pem;
          if (status.ok() && a->answer.node_id() == a->member.node_id()) {
            for (const v1::NodeCertificate& n : a->answer.nodes()) {
              if (n.node_id() == a->member.node_id()) pem = n.certificate_pem();
            }
          }
          bool valid = false;
          if (pem) {
            auto cert = ledger::Certificate::FromPem(*pem);
            auto service = ledger::Certificate::FromPem(fanout->service_cert_pem);
            valid = cert.ok() && service.ok() &&
                    ledger::VerifyNodeCertificate(*cert, *service, absl::Now(), a->member.node_id())
                        .ok();
          }
          absl::MutexLock lock(&fanout->mu);
          if (valid) {
            auto* n = fanout->resp->add_nodes();
            n->set_node_id(a->member.node_id());
            n->set_certificate_pem(*pem);
          } else {
            fanout->resp->add_unreachable_node_ids(a->member.node_id());
          }
          if (--fanout->pending > 0) return;
          auto* nodes = fanout->resp->mutable_nodes();
          std::sort(nodes->begin(), nodes->end(),
                    [](const auto& x, const auto& y) { return x.node_id() < y.node_id(); });
          fanout->reactor->Finish(grpc::Status::OK);
        });
  }
}

}  // namespace cairn::node
