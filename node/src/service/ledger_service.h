// LedgerService (cairn.v1): the data plane, on the gRPC callback API. No
// handler blocks a server thread: waiting (for commit, apply, a signature or
// a read index) parks a callback that the apply loop runs.
#pragma once

#include <optional>

#include "apply/governance.h"
#include "apply/idempotency.h"
#include "apply/ledger_secrets.h"
#include "cairn/consensus/storage.h"
#include "cairn/ledger/merkle_store.h"
#include "cairn/node/config.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "observe/metrics.h"
#include "raft/index_waiters.h"
#include "raft/raft_loop.h"
#include "service/call.h"
#include "service/geo_replicas.h"
#include "service/leader_router.h"

namespace cairn::node {

// What this node has committed and applied, read only, for the read
// handlers. Everything here must outlive the service.
struct CommittedReads {
  const storage::LedgerStore* ledger = nullptr;  // entries, collections, checkpoints
  const consensus::LogStorage* log = nullptr;    // terms of entries not applied yet
  // Committed Merkle nodes for proofs, through a bounded cache (node_cache.h).
  const ledger::MerkleNodeReader* proof_nodes = nullptr;
  IndexWaiters* applied = nullptr;  // reached: applied index
  IndexWaiters* signed_ = nullptr;  // reached: leaves covered by a signature
  // A private ledger's secrets: open sealed contents for readers, and key
  // the digests of appends for idempotent retries.
  const LedgerSecrets* secrets = nullptr;
};

class LedgerServiceImpl final : public v1::LedgerService::CallbackService {
 public:
  // Everything passed must outlive the service. `loop` takes proposals and
  // read-index rounds; `config` gives the request limits.
  LedgerServiceImpl(const NodeConfig* config, const ServiceIdentity* identity,
                    const Authorizer* authorizer, const LeaderRouter* router, RaftLoop* loop,
                    const Governance* governance, CommittedReads reads, GeoReplicas* geo,
                    NodeMetrics* metrics)
      : config_(config),
        identity_(identity),
        authorizer_(authorizer),
        router_(router),
        loop_(loop),
        governance_(governance),
        reads_(reads),
        geo_(geo),
        metrics_(metrics) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  Reactor* Append(Ctx* call, const v1::AppendRequest* req, v1::AppendResponse* resp) override;
  Reactor* AppendBatch(Ctx* call, const v1::AppendBatchRequest* req,
                       v1::AppendBatchResponse* resp) override;
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
  // The identity of an append request for idempotent retries: IdentityOf,
  // with the digest keyed by the ledger secret in a private ledger (the
  // digest the sealed entry will carry). UNAVAILABLE while this node does not
  // hold the secret.
  absl::StatusOr<AppendIdentity> IdentityOfRequest(const v1::UserTransaction& tx) const;

  // The start of every write handler: authorizes (Contributor), validates
  // with `validate`, then forwards the call to the leader with
  // `start_on_leader(leader_stub, client_context, req, resp, done)` when
  // this node is a follower, or runs `propose` when it leads.
  template <typename Request, typename Response, typename Start>
  Reactor* AcceptWrite(Ctx* call, const Request* req, Response* resp,
                       absl::Status (*validate)(const Request&, const NodeConfig&),
                       Start start_on_leader,
                       void (LedgerServiceImpl::*propose)(Ctx*, Reactor*, const Principal&,
                                                          const Request*, Response*));
  void ProposeAppend(Ctx* call, Reactor* reactor, const Principal& principal,
                     const v1::AppendRequest* req, v1::AppendResponse* resp);
  void ProposeAppendBatch(Ctx* call, Reactor* reactor, const Principal& principal,
                          const v1::AppendBatchRequest* req, v1::AppendBatchResponse* resp);
  // For an append already applied: the entry holding the principal's
  // `idempotency_key` (nullopt when none does, or the key is empty), or
  // IDEMPOTENCY_KEY_REUSED when that entry's identity is not `identity`.
  absl::StatusOr<std::optional<ledger::TxId>> AppliedDuplicate(const Principal& principal,
                                                               const std::string& idempotency_key,
                                                               const AppendIdentity& identity,
                                                               int64_t now_ms) const;
  // Whether `wait` asks (or the service's default makes it) GEO_DURABLE.
  bool GeoDurable(v1::AppendWait wait) const;
  // Finishes a committed append (`txid`) once a geo-replica's archive
  // covers it, or with NOT_GEO_DURABLE at the deadline.
  void FinishWhenGeoDurable(Ctx* call, Reactor* reactor, const ledger::TxId& txid);
  // Status of `txid` on this node.
  v1::TransactionStatus StatusOf(const ledger::TxId& txid) const;
  // The answer for a txid this node has not applied, when it has one now:
  // NOT_FOUND when it can tell the txid is not in the ledger (INVALID, or
  // beyond the leader's log), NOT_LEADER naming the leader when it cannot
  // (beyond this follower's log); nullopt when the txid may still come here.
  std::optional<grpc::Status> BeyondThisNode(Ctx* call, const ledger::TxId& txid) const;
  // One page of `req`'s listing; `read_index` > 0 bounds it to the
  // snapshot at that index (linearizable listing) and goes into the token.
  grpc::Status ListPage(const v1::ListEntriesRequest& req, uint64_t read_index,
                        v1::ListEntriesResponse* resp) const;
  // Finishes GetServiceIdentity once `members` (without a certificate on
  // record) have been asked for theirs.
  void AskMembersForCertificates(Ctx* call, Reactor* reactor, std::vector<v1::NodeInfo> members,
                                 v1::GetServiceIdentityResponse* resp);
  // Runs `read` once `index` is applied here (or fails the call).
  void WhenApplied(Ctx* call, Reactor* reactor, uint64_t index, bool no_wait,
                   absl::AnyInvocable<grpc::Status() &&> read);

  const NodeConfig* const config_;
  const ServiceIdentity* const identity_;
  const Authorizer* const authorizer_;
  const LeaderRouter* const router_;
  RaftLoop* const loop_;
  const Governance* const governance_;
  const CommittedReads reads_;
  GeoReplicas* const geo_;  // GEO_DURABLE appends wait on it
  NodeMetrics* const metrics_;
};

}  // namespace cairn::node
