// RaftService on the peer port: only nodes of this service may call it. The
// caller must present a node certificate (issued by the service identity,
// naming "node-<id>"), every message must come from that id and be addressed
// to this node, and the batch must name this service's id.
//
// Why the synchronous API, when the client port uses callbacks (STYLE 14):
// every call here is a long-lived client stream read in a loop, one per peer
// (Stream) or per snapshot transfer (InstallSnapshot), so there are a few
// threads, a bounded number, not one per request. Stream only hands each batch
// to the loop's inbox, which never blocks; InstallSnapshot writes every chunk
// to the staging file before reading the next, blocking disk I/O that must
// not run on gRPC's callback threads, and that gives the sender flow control
// for free. A reactor per stream would add state machines and buy nothing.
#pragma once

#include "cairn/storage/database.h"
#include "cairn/v1/raft.grpc.pb.h"
#include "raft/raft_loop.h"
#include "security/auth.h"

namespace cairn::node {

class RaftServiceImpl final : public v1::RaftService::Service {
 public:
  RaftServiceImpl(consensus::NodeId self, std::string service_id, RaftLoop* loop,
                  storage::Database* db, CallerIdentifier* identifier, size_t chunk_bytes_max)
      : self_(self),
        service_id_(std::move(service_id)),
        loop_(loop),
        db_(db),
        identifier_(identifier),
        chunk_bytes_max_(chunk_bytes_max) {}

  // Nodes never call Send (the transport writes to Stream); it stays as the
  // one-batch form of Stream for tools and tests (tests/integration
  // security_test probes the peer port's checks with it), and shares
  // Deliver with Stream, so the checks exist once.
  grpc::Status Send(grpc::ServerContext* context, const v1::RaftMessageBatch* batch,
                    v1::SendResponse* response) override;
  grpc::Status Stream(grpc::ServerContext* context,
                      grpc::ServerReader<v1::RaftMessageBatch>* reader,
                      v1::SendResponse* response) override;
  grpc::Status InstallSnapshot(grpc::ServerContext* context,
                               grpc::ServerReader<v1::SnapshotChunk>* reader,
                               v1::InstallSnapshotResponse* response) override;

 private:
  // The calling node's id, or PERMISSION_DENIED / UNAUTHENTICATED.
  absl::StatusOr<consensus::NodeId> CallingNode(const grpc::ServerContext& context,
                                                const std::string& service_id);
  // Checks a batch from node `from` and steps its messages into the loop.
  absl::Status Deliver(consensus::NodeId from, const v1::RaftMessageBatch& batch);

  const consensus::NodeId self_;
  const std::string service_id_;
  RaftLoop* const loop_;
  storage::Database* const db_;
  CallerIdentifier* const identifier_;
  const size_t chunk_bytes_max_;
};

}  // namespace cairn::node
