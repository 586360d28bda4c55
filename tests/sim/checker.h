// Safety checkers of the cluster simulator.
//
// The world reports what nodes do (become leader, persist entries, advance
// commit, apply, answer reads); the checker keeps the global history those
// events must agree with and records the first violation of:
//   - election safety: at most one leader per term (Raft §5.2), and the
//     lemma it rests on, one granted vote per server and term (optional, so
//     that the outcome checks can be shown to catch vote bugs on their own);
//   - log matching: an (index, term) pair names one entry, with one
//     predecessor term, in every log it appears in (§5.3);
//   - leader completeness: a leader holds every entry committed, and every
//     proposal acknowledged, before its term began (§5.4);
//   - state machine safety: nodes apply the same entry at each index, and
//     snapshots carry the same state (§5.4.3);
//   - monotonicity: commit and apply never go backwards on a node;
//   - linearizable reads: a ReadIndex answer covers every entry known to be
//     committed when the read was issued (thesis §6.4).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/consensus/raw_node.h"
#include "cairn/consensus/types.h"

namespace cairn::sim {

using consensus::Entry;
using consensus::Index;
using consensus::NodeId;
using consensus::Term;

uint64_t EntryHash(const Entry& e);
// Digest of a state machine that applied `e` after reaching `digest`.
uint64_t ChainDigest(uint64_t digest, const Entry& e);

class Checker {
 public:
  bool failed() const { return !violation_.empty(); }
  const std::string& violation() const { return violation_; }
  void Fail(const std::string& what);

  // `voter` sent a vote granted to `candidate` for `term`.
  void OnVoteGranted(NodeId voter, Term term, NodeId candidate);
  void set_check_votes(bool on) { check_votes_ = on; }

  // `node` is leader of `term` (called whenever it is seen leading).
  void OnLeader(NodeId id, Term term, const consensus::RawNode& node);
  // `node`'s commit index moved from `from` to `to` while it was in `term`.
  void OnCommit(NodeId id, Term term, Index from, Index to, const consensus::RawNode& node);
  // `entries` became durable on `id`; `prev_term` is the term before the
  // first of them (0 if unknown because compacted).
  void OnPersist(NodeId id, Term prev_term, bool prev_known, const std::vector<Entry>& entries);
  // `id` applied `e`; its state machine was at `applied` before.
  void OnApply(NodeId id, Index applied, const Entry& e);
  void OnInstallSnapshot(NodeId id, Index index, uint64_t digest);
  // A proposal was acknowledged to its client: the proposer applied it.
  void OnAck(Index index, Term term, Term observed_term);
  // A read was issued under `context`; its answer is checked by OnReadState.
  void OnReadIssued(const std::string& context);
  void OnReadState(NodeId id, const consensus::ReadState& read);

  Index max_committed() const { return committed_.size(); }
  // Digest of the state after applying entries 1..index (index <= applied).
  uint64_t DigestAt(Index index) const { return index == 0 ? 0 : applied_[index - 1].digest; }
  size_t acked() const { return acked_.size(); }

 private:
  struct Committed {
    Term term;
    Term observed;  // lowest term of a node that saw it committed (>= the committing term)
  };
  struct Applied {
    Term term;
    uint64_t hash;
    uint64_t digest;
  };
  struct Logged {
    uint64_t hash;
    Term prev_term;
    bool prev_known;
  };

  std::string violation_;
  bool check_votes_ = true;
  std::map<std::pair<NodeId, Term>, NodeId> votes_;
  std::map<Term, NodeId> leaders_;
  std::vector<Committed> committed_;  // committed_[i - 1] describes index i
  std::vector<Applied> applied_;      // applied_[i - 1] describes index i
  std::map<std::pair<Index, Term>, Logged> logged_;
  std::vector<std::pair<Index, Committed>> acked_;
  std::unordered_map<std::string, Index> reads_;  // context -> index it must reach
};

}  // namespace cairn::sim
