// ReadIndex bookkeeping on the leader (thesis §6.4).
//
// Each request is stamped with the commit index at the time it arrives and a
// round number. The leader then sends heartbeats carrying the newest round;
// once a majority of voters has answered a heartbeat of round r, the leader
// was still the leader when every request up to r arrived, so all of them can
// be answered with their recorded index.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus::internal {

struct ReadRequest {
  uint64_t round = 0;
  Index index = 0;
  NodeId from = kNoNode;  // the node that asked (the leader itself for local reads)
  std::string context;    // the requester's opaque context
  std::set<NodeId> acks;  // voters that answered a heartbeat of this round or later
};

class ReadOnly {
 public:
  // Queues a request; returns its round.
  uint64_t Add(Index index, NodeId from, std::string context);
  bool Empty() const { return pending_.empty(); }
  size_t Size() const { return pending_.size(); }
  // The round to put in heartbeats: the newest pending one.
  std::string LatestRoundContext() const;
  // Records that `voter` answered a heartbeat carrying `context`; returns the
  // acks of that round, or nullptr if no pending round matches.
  const std::set<NodeId>* Ack(NodeId voter, absl::string_view context);
  // Removes and returns every request up to and including the round in `context`.
  std::vector<ReadRequest> Release(absl::string_view context);
  void Reset() { pending_.clear(); }

 private:
  ReadRequest* Find(absl::string_view context);

  uint64_t next_round_ = 1;
  std::deque<ReadRequest> pending_;  // ascending round
};

}  // namespace cairn::consensus::internal
