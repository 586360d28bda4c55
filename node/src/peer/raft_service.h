// RaftService on the peer port: only nodes of this service may call it. The
// caller must present a node certificate (issued by the service identity,
// naming "node-<id>"), every message must come from that id and be addressed
// to this node, and the batch must name this service's id.
//
// Stream, the one call every peer keeps open to every other, is on gRPC's
// callback API: each batch read is checked and handed to the loop's inbox
// (which never blocks) by the gRPC thread that read it, and the next read is
// started; no thread waits on a peer. Send and InstallSnapshot stay
// synchronous: Send is a one-batch tool, and InstallSnapshot writes every
// chunk to the staging file before reading the next, blocking disk I/O that
// must not run on gRPC's callback threads and that gives the sender flow
// control for free.
#pragma once

#include "cairn/storage/database.h"
#include "cairn/v1/raft.grpc.pb.h"
#include "raft/raft_loop.h"
#include "security/auth.h"

namespace cairn::node {

class RaftServiceImpl final
    : public v1::RaftService::WithCallbackMethod_Stream<v1::RaftService::Service> {
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
  grpc::ServerReadReactor<v1::RaftMessageBatch>* Stream(grpc::CallbackServerContext* context,
                                                        v1::SendResponse* response) override;
  grpc::Status InstallSnapshot(grpc::ServerContext* context,
                               grpc::ServerReader<v1::SnapshotChunk>* reader,
                               v1::InstallSnapshotResponse* response) override;

 private:
  class StreamReader;

  // The calling node's id, or PERMISSION_DENIED / UNAUTHENTICATED.
  absl::StatusOr<consensus::NodeId> CallingNode(const grpc::ServerContextBase& context,
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
