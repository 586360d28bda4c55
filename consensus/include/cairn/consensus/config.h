// Configuration of one Raft core (RawNode): identity, timing in ticks, the
// bounds on memory and messages, and the optional protocol extensions.
//
// Every limit carries its unit last (STYLE.md §7) and has a default that suits
// a small cluster on a LAN with a 100 ms tick. Time is measured only in ticks:
// the core has no clock, the node calls RawNode::Tick() on a timer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "cairn/consensus/types.h"

namespace cairn::consensus {

// Deliberately broken variants of the core, used only by the cluster simulator
// (tests/sim) to show that its checkers catch real protocol bugs. Nothing in
// node/ sets this field and no production configuration file maps to it: the
// node builds Config in code and leaves `injected_bug` at kNone. The switches
// are compiled in (not #ifdef'd) so the simulator tests the same binary code.
enum class InjectedBug : uint8_t {
  kNone = 0,
  // The leader commits an entry as soon as it is durable on the leader alone.
  kCommitWithoutQuorum,
  // A voter grants its vote to every candidate of a term, not just the first.
  kVoteTwiceInTerm,
  // On restart the core ignores the vote it persisted in its hard state.
  kForgetPersistedVote,
  // Ready::must_sync covers entries and snapshots only, not a new term or
  // vote: a crash may then lose a vote already sent.
  kUnsyncedHardState,
  // A follower hands out committed entries before they are durable on it, so
  // a node that applies before persisting (as the real one does) may apply
  // entries that a crash then removes from its log.
  kApplyUnpersisted,
};

struct Config {
  // This node's id; must not be kNoNode.
  NodeId id = kNoNode;

  // A follower that hears nothing from a leader for a random number of ticks
  // in [election_tick, 2 * election_tick) starts an election (Raft §5.2). A
  // leader with check_quorum steps down once it has not heard from a majority
  // of voters for election_tick ticks (it checks at every tick); it also
  // aborts a leadership transfer that has not finished within election_tick
  // ticks.
  int election_tick = 10;
  // A leader sends heartbeats every heartbeat_tick ticks; < election_tick.
  int heartbeat_tick = 1;

  // Pre-vote (thesis §9.6): a node first asks whether it could win before it
  // increments its term, so a partitioned node cannot disrupt the cluster
  // when it rejoins.
  bool pre_vote = true;
  // Check-quorum (thesis §6.2, §9.6): a leader steps down when it has not heard
  // from a quorum of voters within election_tick ticks, and a voter that has
  // heard from a leader within the last election_tick ticks ignores requests to
  // vote for someone else (except for a leadership transfer).
  bool check_quorum = true;

  // Bounded pipelining: at most this many AppendEntries messages in flight to
  // one follower in the replicate state.
  size_t inflight_messages_max = 256;
  // Batching: an AppendEntries message carries entries up to this many bytes
  // (Entry::ByteSize), but always at least one entry.
  size_t message_bytes_max = 1 << 20;
  // Backpressure: a leader refuses proposals with RESOURCE_EXHAUSTED while the
  // entries it appended in its term and has not yet committed add up to more
  // than this many bytes. A single proposal is always accepted when nothing is
  // uncommitted, so one entry larger than the bound can still make progress.
  size_t uncommitted_bytes_max = 64 << 20;
  // A Ready carries committed entries up to this many bytes (at least one);
  // the rest come in the next Ready.
  size_t committed_entries_bytes_max = 64 << 20;
  // ReadIndex requests a new leader queues until it has committed an entry in
  // its term (thesis §6.4); further requests are refused with UNAVAILABLE.
  size_t read_index_pending_max = 4096;

  // The last index the node's state machine has applied, when restarting (0 for
  // a fresh node). Committed entries after it are handed out again.
  Index applied = 0;

  // Seed of the core's private PRNG (randomized election timeouts). The node
  // seeds it from a random device; the simulator from its run seed, so a whole
  // cluster run replays from one number.
  uint64_t random_seed = 0;

  // Test-only: see InjectedBug. Always kNone outside tests/sim.
  InjectedBug injected_bug = InjectedBug::kNone;

  // Returns InvalidArgument naming the first field out of range.
  absl::Status Validate() const;
};

}  // namespace cairn::consensus
