// LedgerService (cairn.v1): the data plane, on the gRPC callback API. No
// handler blocks a server thread: waiting (for commit, apply, a signature or
// a read index) parks a callback that the apply loop runs.
#pragma once

#include "cairn/v1/ledger.grpc.pb.h"
#include "service/service_context.h"

namespace cairn::node {

class LedgerServiceImpl final : public v1::LedgerService::CallbackService {
 public:
  explicit LedgerServiceImpl(const ServiceContext* ctx) : ctx_(ctx), router_(ctx) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* Append(Ctx* call, const v1::AppendRequest* req, v1::AppendResponse* resp) override;
  Reactor* GetEntry(Ctx* call, const v1::GetEntryRequest* req, v1::GetEntryResponse* resp) override;
  Reactor* GetCurrentEntry(Ctx* call, const v1::GetCurrentEntryRequest* req,
                           v1::GetCurrentEntryResponse* resp) override;
  Reactor* ListEntries(Ctx* call, const v1::ListEntriesRequest* req,
                       v1::ListEntriesResponse* resp) override;
  Reactor* ListCollections(Ctx* call, const v1::ListCollectionsRequest* req,
                           v1::ListCollectionsResponse* resp) override;
  Reactor* GetTransactionStatus(Ctx* call, const v1::GetTransactionStatusRequest* req,
                                v1::GetTransactionStatusResponse* resp) override;
  Reactor* GetReceipt(Ctx* call, const v1::GetReceiptRequest* req,
                      v1::GetReceiptResponse* resp) override;
  Reactor* GetConsistencyProof(Ctx* call, const v1::GetConsistencyProofRequest* req,
                               v1::GetConsistencyProofResponse* resp) override;
  Reactor* GetLatestCheckpoint(Ctx* call, const v1::GetLatestCheckpointRequest* req,
                               v1::GetLatestCheckpointResponse* resp) override;
  Reactor* GetServiceIdentity(Ctx* call, const v1::GetServiceIdentityRequest* req,
                              v1::GetServiceIdentityResponse* resp) override;

 private:
  void ForwardAppend(Ctx* call, Reactor* reactor, const Principal& principal,
                     const v1::AppendRequest* req, v1::AppendResponse* resp);
  void ProposeAppend(Ctx* call, Reactor* reactor, const Principal& principal,
                     const v1::AppendRequest* req, v1::AppendResponse* resp);
  // Status of `txid` on this node.
  v1::TransactionStatus StatusOf(const ledger::TxId& txid) const;
  // One page of `req`'s listing; `read_index` > 0 bounds it to the
  // snapshot at that index (linearizable listing) and goes into the token.
  grpc::Status ListPage(const v1::ListEntriesRequest& req, uint64_t read_index,
                        v1::ListEntriesResponse* resp) const;
  // Runs `read` once `index` is applied here (or fails the call).
  void WhenApplied(Ctx* call, Reactor* reactor, uint64_t index, bool no_wait,
                   absl::AnyInvocable<grpc::Status() &&> read);

  const ServiceContext* ctx_;
  LeaderRouter router_;
};

}  // namespace cairn::node
