// Snapshot transfers to followers (see snapshot_sender.h).
#include "peer/snapshot_sender.h"

#include <grpcpp/grpcpp.h>

#include "cairn/base/check.h"
#include "cairn/storage/snapshot.h"
#include "cairn/v1/raft.grpc.pb.h"
#include "observe/log.h"
#include "peer/raft_codec.h"

namespace cairn::node {

SnapshotSender::SnapshotSender(storage::Database* db, Transport* transport, std::string service_id,
                               size_t chunk_bytes_max)
    : db_(db),
      transport_(transport),
      service_id_(std::move(service_id)),
      chunk_bytes_max_(chunk_bytes_max) {}

void SnapshotSender::SetReportSink(std::function<void(consensus::NodeId, bool)> report) {
  absl::MutexLock lock(&mu_);
  CAIRN_CHECK(!sent_ && !report_) << "SnapshotSender: the report sink is set once, before Send";
  report_ = std::move(report);
}

SnapshotSender::~SnapshotSender() {
  std::map<consensus::NodeId, std::thread> running;
  {
    absl::MutexLock lock(&mu_);
    running.swap(running_);
  }
  for (auto& [id, t] : running) t.join();
}

void SnapshotSender::Send(consensus::Message message) {
  const consensus::NodeId to = message.to;
  absl::MutexLock lock(&mu_);
  CAIRN_CHECK(report_) << "SnapshotSender::Send before SetReportSink";
  sent_ = true;
  if (auto f = finished_.find(to); f != finished_.end()) {
    running_[to].join();
    running_.erase(to);
    finished_.erase(f);
  }
  if (running_.count(to)) return;  // one at a time; the core asks again if needed
  running_[to] = std::thread([this, message = std::move(message)]() mutable {
    const consensus::NodeId id = message.to;
    const bool ok = Transfer(std::move(message));
    report_(id, ok);
    absl::MutexLock lock(&mu_);
    finished_[id] = true;
  });
}

bool SnapshotSender::Transfer(consensus::Message message) {
  auto channel = transport_->Channel(message.to);
  if (!channel) return false;
  auto source = db_->TakeSnapshot(chunk_bytes_max_);
  if (!source.ok()) {
    spdlog::warn("cannot take a snapshot for node {}: {}", message.to, source.status().message());
    return false;
  }
  message.snapshot = (*source)->meta();
  auto stub = v1::RaftService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  v1::InstallSnapshotResponse response;
  auto writer = stub->InstallSnapshot(&context, &response);
  v1::SnapshotChunk chunk;
  chunk.set_service_id(service_id_);
  ToProto(message, chunk.mutable_message());
  bool ok = true;
  while (ok && !(*source)->done()) {
    chunk.set_offset((*source)->offset());
    auto data = (*source)->NextChunk();
    if (!data.ok()) {
      ok = false;
      break;
    }
    chunk.set_data(*std::move(data));
    if ((*source)->done()) {
      chunk.set_last(true);
      chunk.set_payload_sha256((*source)->payload_sha256());
    }
    ok = writer->Write(chunk);
    chunk.Clear();
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!ok || !status.ok()) {
    spdlog::warn("snapshot to node {} failed: {}", message.to, status.error_message());
    return false;
  }
  spdlog::info("sent snapshot at index {} ({} bytes) to node {}", message.snapshot.index,
               response.bytes_received(), message.to);
  return true;
}

}  // namespace cairn::node
