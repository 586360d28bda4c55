// Value types of the Raft core: log entries, persistent state, membership,
// snapshots and messages. Plain C++ (no protobuf): node/ maps them to and from
// the wire form in proto/cairn/v1/raft.proto field for field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::consensus {

using NodeId = uint64_t;  // 0 means "none".
using Term = uint64_t;
using Index = uint64_t;  // Log indexes start at 1; 0 means "before the log".

inline constexpr NodeId kNoNode = 0;

// A membership change carried by a conf-change entry. Changes are applied
// one server at a time (see docs/consensus.md for why and the safety rules).
struct ConfChange {
  enum class Kind : uint8_t { kAddLearner = 1, kPromoteLearner = 2, kRemoveNode = 3 };
  Kind kind = Kind::kAddLearner;
  NodeId node_id = kNoNode;

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

struct Entry {
  Term term = 0;
  Index index = 0;
  // Opaque to the core: a serialized cairn.v1.LogCommand, or empty.
  std::string data;
  // Present on conf-change entries; the core interprets it.
  std::optional<ConfChange> conf_change;

  // Bytes this entry counts for against size bounds (payload plus overhead).
  size_t ByteSize() const { return data.size() + 32; }
  friend bool operator==(const Entry&, const Entry&) = default;
};

// State that must be durable before any message that depends on it is sent.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;
  Index commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

// Membership as of some log index.
struct ConfState {
  std::vector<NodeId> voters;    // sorted, unique
  std::vector<NodeId> learners;  // sorted, unique, disjoint from voters

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// Describes a snapshot. The payload is opaque to the core and streamed by the
// node; the core only ever sees this metadata.
struct SnapshotMeta {
  Index index = 0;  // last log index the snapshot covers
  Term term = 0;    // term of that entry
  ConfState conf_state;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

enum class MessageType : uint8_t {
  kAppend = 1,
  kAppendResponse = 2,
  kHeartbeat = 3,
  kHeartbeatResponse = 4,
  kVote = 5,
  kVoteResponse = 6,
  kPreVote = 7,
  kPreVoteResponse = 8,
  kSnapshot = 9,
  kTimeoutNow = 10,
  kReadIndex = 11,
  kReadIndexResponse = 12,
  kTransferLeader = 13,
};

// One Raft message; fields mean what raft.proto's RaftMessage says they mean.
// `from` is always the sender. Where raft.proto leaves a use open, the core
// fixes it as follows:
//   kVote / kPreVote: `context` is "transfer" for an election started by a
//     leadership transfer (voters then ignore their leader lease).
//   kHeartbeat / kHeartbeatResponse: `context` carries a ReadIndex round.
//   kAppendResponse: `index` is the last index the follower now matches, or
//     on reject the prev index it refused; (reject_hint, reject_hint_term) is
//     the follower's last index at or before it with a term <= the probe's.
//   kAppendResponse / kHeartbeatResponse: `commit` is the follower's commit
//     index (a leader learns from it that a removed server knows it is out).
//   kReadIndex / kReadIndexResponse: `context` is the requester's; `index` is
//     the read index in the response.
//   kTransferLeader: the sender asks the leader to hand leadership to it.
struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Term log_term = 0;
  Index index = 0;
  std::vector<Entry> entries;
  Index commit = 0;
  bool reject = false;
  Index reject_hint = 0;
  Term reject_hint_term = 0;
  std::string context;
  SnapshotMeta snapshot;  // kSnapshot only

  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace cairn::consensus
