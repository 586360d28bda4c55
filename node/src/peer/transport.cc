// Per-peer Raft message senders (see transport.h).
#include "peer/transport.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>

#include "cairn/base/check.h"
#include "cairn/v1/raft.grpc.pb.h"
#include "observe/log.h"
#include "peer/keepalive.h"
#include "peer/raft_codec.h"

namespace cairn::node {

std::shared_ptr<grpc::Channel> OpenPeerChannel(const TlsFiles& tls, uint64_t node_id,
                                               const std::string& address, int keepalive_ms) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.service_cert_pem;
  ssl.pem_private_key = tls.key_pem;
  ssl.pem_cert_chain = tls.cert_pem;
  grpc::ChannelArguments args;
  // Verify the peer's certificate names the node we mean to talk to.
  args.SetSslTargetNameOverride("node-" + std::to_string(node_id));
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  // Reconnect quickly after a peer restarts.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // The message stream is long-lived: pings find a peer that vanished
  // without closing the connection (a partition, a frozen host) within
  // seconds, which ends the stream; the sender then reports the peer
  // unreachable and opens a new one.
  SetPeerKeepalive(&args, keepalive_ms);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

// Owns one peer's queue and the thread that drains it.
class Transport::PeerSender {
 public:
  PeerSender(const Transport* transport, consensus::NodeId id, const std::string& address)
      : transport_(transport), id_(id) {
    SetAddress(address);
    thread_ = std::thread([this] { Run(); });
  }

  ~PeerSender() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      // A write blocked on a peer that stopped reading ends now.
      if (stream_context_ != nullptr) stream_context_->TryCancel();
    }
    thread_.join();
  }

  void SetAddress(const std::string& address) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (address == address_) return;
    address_ = address;
    channel_ = OpenPeerChannel(transport_->tls_, id_, address);
    stub_ = v1::RaftService::NewStub(channel_);
    // The open stream goes to the old address: end it; the next batch opens one here.
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }

  std::shared_ptr<grpc::Channel> channel() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return channel_;
  }

  // Returns false (and queues nothing) when the queue is full.
  bool Enqueue(consensus::Message message) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (queue_.size() >= transport_->options_.queue_messages_max) return false;
    queue_.push_back(std::move(message));
    return true;
  }

 private:
  // One stream per peer, reopened after a failure; every batch is one write.
  void Run() {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientWriter<v1::RaftMessageBatch>> stream;
    v1::SendResponse response;
    for (;;) {
      v1::RaftMessageBatch batch;
      std::shared_ptr<v1::RaftService::Stub> stub;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](PeerSender* s)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->stopping_ || !s->queue_.empty(); },
            this));
        if (stopping_) break;
        TakeBatch(&batch);
        stub = stub_;
        if (stream == nullptr) {
          context = std::make_unique<grpc::ClientContext>();
          stream_context_ = context.get();
        }
      }
      if (stream == nullptr) stream = stub->Stream(context.get(), &response);
      if (stream->Write(batch)) continue;
      // The stream broke (peer down, connection lost, address changed): the
      // batch is lost, as on any unreliable link; Raft sends again.
      const grpc::Status status = stream->Finish();
      spdlog::debug("raft stream to node {} ended: {}", id_, status.error_message());
      {
        absl::MutexLock lock(&mu_);
        stream_context_ = nullptr;
      }
      stream.reset();
      context.reset();
      transport_->unreachable_(id_);
    }
    if (stream != nullptr) {
      stream->WritesDone();
      (void)stream->Finish();
      absl::MutexLock lock(&mu_);
      stream_context_ = nullptr;
    }
  }

  // Moves queued messages into `batch` up to the byte bound (at least one).
  void TakeBatch(v1::RaftMessageBatch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    batch->set_service_id(transport_->options_.service_id);
    size_t bytes = 0;
    while (!queue_.empty()) {
      size_t message_bytes = 64;
      for (const auto& e : queue_.front().entries) message_bytes += e.ByteSize();
      if (batch->messages_size() > 0 &&
          bytes + message_bytes > transport_->options_.batch_bytes_max) {
        break;
      }
      ToProto(queue_.front(), batch->add_messages());
      bytes += message_bytes;
      queue_.pop_front();
    }
  }

  const Transport* const transport_;
  const consensus::NodeId id_;
  absl::Mutex mu_;
  std::string address_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<v1::RaftService::Stub> stub_ ABSL_GUARDED_BY(mu_);
  std::deque<consensus::Message> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The open stream's context (owned by the thread), to cancel it from outside.
  grpc::ClientContext* stream_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;  // started last
};

Transport::Transport(TransportOptions options, TlsFiles tls)
    : options_(std::move(options)), tls_(std::move(tls)) {}

void Transport::SetUnreachableSink(std::function<void(consensus::NodeId)> unreachable) {
  absl::MutexLock lock(&mu_);
  CAIRN_CHECK(!sent_ && !unreachable_)
      << "Transport: the unreachable sink is set once, before Send";
  unreachable_ = std::move(unreachable);
}

Transport::~Transport() {
  std::map<consensus::NodeId, std::unique_ptr<PeerSender>> peers;
  {
    absl::MutexLock lock(&mu_);
    peers.swap(peers_);
  }
  // Senders join their threads outside the lock.
}

void Transport::SetPeer(consensus::NodeId id, const std::string& member_address) {
  auto route = options_.routes.find(id);
  const std::string& address = route != options_.routes.end() ? route->second : member_address;
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    peers_.emplace(id, std::make_unique<PeerSender>(this, id, address));
  } else {
    it->second->SetAddress(address);
  }
}

void Transport::RemovePeer(consensus::NodeId id) {
  std::unique_ptr<PeerSender> removed;
  {
    absl::MutexLock lock(&mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    removed = std::move(it->second);
    peers_.erase(it);
  }
}

std::vector<consensus::NodeId> Transport::PeerIds() {
  absl::MutexLock lock(&mu_);
  std::vector<consensus::NodeId> ids;
  for (const auto& [id, sender] : peers_) ids.push_back(id);
  return ids;
}

std::shared_ptr<grpc::Channel> Transport::Channel(consensus::NodeId id) {
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second->channel();
}

void Transport::Send(std::vector<consensus::Message> messages) {
  std::vector<consensus::NodeId> dropped;
  {
    absl::MutexLock lock(&mu_);
    CAIRN_CHECK(unreachable_) << "Transport::Send before SetUnreachableSink";
    sent_ = true;
    for (auto& m : messages) {
      auto it = peers_.find(m.to);
      const consensus::NodeId to = m.to;
      if (it == peers_.end() || !it->second->Enqueue(std::move(m))) dropped.push_back(to);
    }
  }
  for (consensus::NodeId id : dropped) unreachable_(id);
}

}  // namespace cairn::node
