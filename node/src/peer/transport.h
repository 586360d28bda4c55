// Outgoing Raft traffic: one sender per peer, each with a bounded queue and
// one long-lived RaftService.Stream. Messages queued while the sender writes
// travel together in its next write, so order is kept and pipelined appends
// share writes; a stream costs no per-message call setup (a unary Send per
// batch cost about a quarter of the cluster's CPU). Sending never blocks the
// Raft loop: a full queue drops the message and reports the peer
// unreachable (Raft retransmits), as does a broken stream, which the next
// batch reopens.
//
// Peers are authenticated by name: the channel to node N verifies that the
// peer's certificate is issued by the service identity AND names "node-N".
#pragma once

#include <grpcpp/channel.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cairn/consensus/types.h"
#include "raft/seams.h"
#include "security/tls.h"

namespace cairn::node {

struct TransportOptions {
  std::string service_id;  // sent with every batch; the receiver checks it
  size_t queue_messages_max = 4096;
  size_t batch_bytes_max = 4 << 20;
  // Peers reached at another address than the one SetPeer is given
  // (--peer-route).
  std::map<consensus::NodeId, std::string> routes;
};

// How often an idle connection to a peer is pinged. A server closes a
// connection that pings more often than it permits (GOAWAY too_many_pings):
// the peer port permits every second, the client port (forwarded calls to
// the leader) every kClientPortPingsMinMs.
inline constexpr int kPeerPortKeepaliveMs = 2000;
inline constexpr int kClientPortPingsMinMs = 5000;
inline constexpr int kClientPortKeepaliveMs = 10000;

// A channel to node `node_id` at `address`, mTLS with this node's certificate,
// accepting only a certificate that names "node-<node_id>"; idle connections
// are pinged every `keepalive_ms`.
std::shared_ptr<grpc::Channel> OpenPeerChannel(const TlsFiles& tls, uint64_t node_id,
                                               const std::string& address,
                                               int keepalive_ms = kPeerPortKeepaliveMs);

class Transport final : public PeerTransport {
 public:
  Transport(TransportOptions options, TlsFiles tls);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Where failed deliveries go: `unreachable(id)` is called (on a sender
  // thread or Send's caller, no locks held) when a message to peer `id` was
  // dropped or its stream broke. The Raft loop that hears these reports is
  // built after its transport (it sends through it), so the node sets the
  // sink once the loop exists and before starting it. Once, and before the
  // first Send (checked): every report follows a Send, so the sink never
  // changes while a sender thread may read it.
  void SetUnreachableSink(std::function<void(consensus::NodeId)> unreachable)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Adds a peer or changes its address (a route in the options wins).
  void SetPeer(consensus::NodeId id, const std::string& address) override ABSL_LOCKS_EXCLUDED(mu_);
  void RemovePeer(consensus::NodeId id) override ABSL_LOCKS_EXCLUDED(mu_);
  // Ids of the peers messages can be sent to.
  std::vector<consensus::NodeId> PeerIds() override ABSL_LOCKS_EXCLUDED(mu_);
  // The channel to a known peer (for snapshots), or nullptr.
  std::shared_ptr<grpc::Channel> Channel(consensus::NodeId id) ABSL_LOCKS_EXCLUDED(mu_);

  // Queues each message for its recipient. Messages to unknown peers are
  // dropped and reported unreachable.
  void Send(std::vector<consensus::Message> messages) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class PeerSender;

  const TransportOptions options_;
  const TlsFiles tls_;
  // Set once before the first Send (written under mu_, read-only after).
  std::function<void(consensus::NodeId)> unreachable_;

  absl::Mutex mu_;
  bool sent_ ABSL_GUARDED_BY(mu_) = false;  // Send has been called
  std::map<consensus::NodeId, std::unique_ptr<PeerSender>> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cairn::node
