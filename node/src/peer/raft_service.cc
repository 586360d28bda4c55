// The peer-port RaftService (see raft_service.h).
#include "peer/raft_service.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/hash.h"
#include "cairn/storage/snapshot.h"
#include "errors/status.h"
#include "observe/log.h"
#include "peer/raft_codec.h"

namespace cairn::node {

absl::StatusOr<consensus::NodeId> RaftServiceImpl::CallingNode(const grpc::ServerContext& context,
                                                               const std::string& service_id) {
  auto caller = identifier_->Identify(context);
  if (!caller.ok()) return caller.status();
  if (caller->node_id == 0) {
    return absl::PermissionDeniedError(
        "the peer port serves only Cairn nodes; clients use the client port");
  }
  if (service_id != service_id_) {
    return absl::PermissionDeniedError(
        absl::StrCat("message for service ", service_id, "; this is service ", service_id_));
  }
  return caller->node_id;
}

absl::Status RaftServiceImpl::Deliver(consensus::NodeId from, const v1::RaftMessageBatch& batch) {
  if (batch.service_id() != service_id_) {
    return absl::PermissionDeniedError(absl::StrCat("message for service ", batch.service_id(),
                                                    "; this is service ", service_id_));
  }
  std::vector<consensus::Message> messages;
  messages.reserve(batch.messages_size());
  for (const auto& m : batch.messages()) {
    if (m.from() != from || m.to() != self_) {
      return absl::PermissionDeniedError(absl::StrCat("node ", from, " sent a message from ",
                                                      m.from(), " to ", m.to(), "; this is node ",
                                                      self_));
    }
    auto message = FromProto(m);
    if (!message.ok()) return message.status();
    messages.push_back(*std::move(message));
  }
  loop_->Step(std::move(messages));
  return absl::OkStatus();
}

grpc::Status RaftServiceImpl::Send(grpc::ServerContext* context, const v1::RaftMessageBatch* batch,
                                   v1::SendResponse* response) {
  auto from = CallingNode(*context, batch->service_id());
  if (!from.ok()) return ToGrpcStatus(from.status());
  return ToGrpcStatus(Deliver(*from, *batch));
}

grpc::Status RaftServiceImpl::Stream(grpc::ServerContext* context,
                                     grpc::ServerReader<v1::RaftMessageBatch>* reader,
                                     v1::SendResponse* response) {
  v1::RaftMessageBatch batch;
  std::optional<consensus::NodeId> from;
  while (reader->Read(&batch)) {
    if (!from) {
      auto caller = CallingNode(*context, batch.service_id());
      if (!caller.ok()) return ToGrpcStatus(caller.status());
      from = *caller;
    }
    if (absl::Status st = Deliver(*from, batch); !st.ok()) return ToGrpcStatus(st);
  }
  return grpc::Status::OK;
}

grpc::Status RaftServiceImpl::InstallSnapshot(grpc::ServerContext* context,
                                              grpc::ServerReader<v1::SnapshotChunk>* reader,
                                              v1::InstallSnapshotResponse* response) {
  v1::SnapshotChunk chunk;
  if (!reader->Read(&chunk)) {
    return ToGrpcStatus(absl::InvalidArgumentError("empty snapshot stream"));
  }
  auto from = CallingNode(*context, chunk.service_id());
  if (!from.ok()) return ToGrpcStatus(from.status());
  auto message = FromProto(chunk.message());
  if (!message.ok()) return ToGrpcStatus(message.status());
  if (message->type != consensus::MessageType::kSnapshot || message->from != *from ||
      message->to != self_) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "the first chunk must carry a snapshot message from the caller to this node"));
  }
  auto sink = db_->NewSnapshotSink(chunk_bytes_max_);
  if (!sink.ok()) return ToGrpcStatus(absl::UnavailableError(sink.status().message()));
  ledger::Sha256Hasher digest;
  std::string expected_sha;
  for (bool more = true; more; more = reader->Read(&chunk)) {
    digest.Update(chunk.data());
    if (absl::Status st = (*sink)->Append(chunk.offset(), chunk.data()); !st.ok()) {
      return ToGrpcStatus(st);
    }
    if (chunk.last()) {
      expected_sha = chunk.payload_sha256();
      break;
    }
  }
  if (expected_sha.empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("snapshot stream ended without its last chunk"));
  }
  if (ledger::HashToString(digest.Finish()) != expected_sha) {
    spdlog::warn("snapshot from node {} failed its checksum; not installed", *from);
    return ToGrpcStatus(absl::DataLossError("snapshot payload does not match its SHA-256"));
  }
  response->set_bytes_received((*sink)->bytes_received());
  loop_->ReceiveSnapshot(*std::move(message), *std::move(sink), std::move(expected_sha));
  return grpc::Status::OK;
}

}  // namespace cairn::node
