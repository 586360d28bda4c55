// Replication progress of each member as a leader tracks it, and the quorum
// arithmetic over the voters (commit index, vote tallies, check-quorum).
//
// A follower's Progress is in one of three states (thesis §10.2): kProbe, one
// AppendEntries at a time until the leader finds where the logs match;
// kReplicate, optimistic pipelining of up to inflight_messages_max messages;
// kSnapshot, waiting for a snapshot to be installed.
#pragma once

#include <cstddef>
#include <limits>
#include <map>
#include <vector>

#include "cairn/consensus/raw_node.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus::internal {

// A bounded FIFO of the last index of each AppendEntries message in flight.
class Inflights {
 public:
  explicit Inflights(size_t capacity) : capacity_(capacity) {}
  bool Full() const { return indexes_.size() >= capacity_; }
  size_t Count() const { return indexes_.size(); }
  void Add(Index last_index);
  // The follower acknowledged everything up to `index`.
  void FreeUpTo(Index index);
  // Frees the oldest slot: a heartbeat answer shows the follower is alive, so
  // a window full of lost appends must not stall it forever.
  void FreeFirst();
  void Reset() { indexes_.clear(); }

 private:
  size_t capacity_;
  std::vector<Index> indexes_;  // ascending; size <= capacity_
};

struct Progress {
  using State = FollowerProgress::State;

  explicit Progress(size_t inflight_max) : inflights(inflight_max) {}

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);
  // An acknowledgement up to `index`: returns false if it is stale.
  bool MaybeUpdate(Index index);
  // A rejection of the append after `rejected`; `hint` is where the logs may
  // match. Returns false if the rejection is stale.
  bool MaybeDecreaseTo(Index rejected, Index hint);
  // Whether the leader should hold back AppendEntries to this follower.
  bool IsPaused() const;
  // Records an AppendEntries just sent whose last entry is `last_index`
  // (or that carried no entries when `entries` is 0).
  void SentEntries(size_t entries, Index last_index);
  // The leader heard from this member just now / one leader tick passed.
  void Heard() { idle_ticks = 0; }
  void TickIdle() {
    if (idle_ticks < kNeverHeard) ++idle_ticks;
  }
  // Heard from within the last `window` leader ticks.
  bool RecentlyActive(int window) const { return idle_ticks < window; }

  static constexpr int kNeverHeard = std::numeric_limits<int>::max();

  State state = State::kProbe;
  // Invariant: match < next. Entries up to match are durable on the follower.
  Index match = 0;
  Index next = 1;
  // kSnapshot: index of the snapshot being sent.
  Index pending_snapshot = 0;
  // kProbe: an append was sent and no answer has come yet.
  bool probe_sent = false;
  // Leader ticks since this member was last heard from (saturating at
  // kNeverHeard): check-quorum asks whether a majority of voters was heard
  // from within one election timeout (thesis §6.2), at every tick.
  int idle_ticks = kNeverHeard;
  bool is_learner = false;
  Inflights inflights;
};

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// Membership, the progress of every member, and the votes of an election.
class ProgressTracker {
 public:
  explicit ProgressTracker(size_t inflight_max) : inflight_max_(inflight_max) {}

  const ConfState& conf() const { return conf_; }
  // Adopts a membership: members gain or lose Progress entries (leaving ones
  // keep theirs); new ones start probing at `next`.
  void SetConf(const ConfState& conf, Index next);
  bool IsVoter(NodeId id) const;
  // A voter or learner of conf() (not a leaving server).
  bool IsMember(NodeId id) const;

  // Leaving servers: ones conf() leaves out that may not know it yet. A
  // removed server that never hears of its removal believes it is still a
  // voter and campaigns, deposing leaders when neither pre-vote nor
  // check-quorum protects them (thesis §4.2.3). The leader keeps a Progress
  // for each and replicates to it like to a learner, counting it in no
  // quorum, until it reports a commit index >= `until` (its removal is then
  // committed in its own log and it never campaigns again).
  // Invariant: every leaving server has a Progress and is not in conf().
  // A member that the next SetConf() drops may be marked leaving before it.
  void Leave(NodeId id, Index until, Index next);
  // 0 when `id` is not leaving.
  Index LeavingUntil(NodeId id) const;
  // A leaving server learned of its removal (or this node stopped leading).
  void Forget(NodeId id);
  void ForgetLeaving();
  const std::map<NodeId, Index>& leaving() const { return leaving_; }

  Progress* Get(NodeId id);
  const Progress* Get(NodeId id) const;
  std::map<NodeId, Progress>& all() { return progress_; }
  const std::map<NodeId, Progress>& all() const { return progress_; }
  // Resets every member to probing at `next` with nothing matched and
  // nothing heard.
  void ResetAll(Index next);
  // One leader tick passed for every member.
  void TickIdle();

  // The largest index durable on a majority of voters (0 without voters).
  Index QuorumMatch() const;
  // True when a majority of voters were heard from within `window` ticks.
  bool QuorumActive(int window) const;

  void ResetVotes() { votes_.clear(); }
  void RecordVote(NodeId id, bool granted);
  VoteResult TallyVotes() const;
  // Members that answered this election, granting their vote or not.
  std::vector<NodeId> Voted() const;

 private:
  size_t inflight_max_;
  ConfState conf_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, Index> leaving_;  // id -> commit index it must report
  std::map<NodeId, bool> votes_;
};

}  // namespace cairn::consensus::internal
