// The seams through which the Raft loop reaches its peers: Raft messages and
// snapshot transfers. The node wires the gRPC implementations (transport.h,
// snapshot_sender.h); tests that drive the real loop wire recorders, so what
// the loop sends, and when, can be checked message by message.
#pragma once

#include <string>
#include <vector>

#include "cairn/consensus/types.h"

namespace cairn::node {

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Adds a peer or changes its address.
  virtual void SetPeer(consensus::NodeId id, const std::string& address) = 0;
  virtual void RemovePeer(consensus::NodeId id) = 0;
  // Ids of the peers messages can be sent to.
  virtual std::vector<consensus::NodeId> PeerIds() = 0;
  // Queues each message for its recipient; never blocks the caller. A
  // message that cannot be delivered is dropped (Raft retransmits).
  virtual void Send(std::vector<consensus::Message> messages) = 0;
};

class SnapshotTransfers {
 public:
  virtual ~SnapshotTransfers() = default;
  // Starts streaming a snapshot to message.to (kSnapshot); never blocks.
  virtual void Send(consensus::Message message) = 0;
};

}  // namespace cairn::node
