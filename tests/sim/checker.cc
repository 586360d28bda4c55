// Safety checkers of the cluster simulator (see checker.h).
#include "checker.h"

#include "absl/strings/str_cat.h"

namespace cairn::sim {
namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

}  // namespace

uint64_t EntryHash(const Entry& e) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : e.data) h = (h ^ c) * 1099511628211ULL;
  if (e.conf_change) {
    h = Mix(h, static_cast<uint64_t>(e.conf_change->kind));
    h = Mix(h, e.conf_change->node_id);
  }
  return h;
}

uint64_t ChainDigest(uint64_t digest, const Entry& e) {
  return Mix(Mix(Mix(digest, e.index), e.term), EntryHash(e));
}

void Checker::Fail(const std::string& what) {
  if (violation_.empty()) violation_ = what;
}

void Checker::OnVoteGranted(NodeId voter, Term term, NodeId candidate) {
  if (!check_votes_) return;
  auto [it, inserted] = votes_.emplace(std::make_pair(voter, term), candidate);
  if (!inserted && it->second != candidate) {
    Fail(absl::StrCat("vote safety: node ", voter, " voted for ", it->second, " and ", candidate,
                      " in term ", term));
  }
}

void Checker::OnLeader(NodeId id, Term term, const consensus::RawNode& node) {
  auto [it, inserted] = leaders_.emplace(term, id);
  if (!inserted) {
    if (it->second != id) {
      Fail(absl::StrCat("election safety: nodes ", it->second, " and ", id, " both led term ",
                        term));
    }
    return;
  }
  // First sighting of this leader: leader completeness (§5.4.1).
  const consensus::NodeStatus s = node.Status();
  auto holds = [&](Index index, Term want) {
    if (index < s.first_index) return true;  // covered by its snapshot, checked on install
    absl::StatusOr<Term> got = node.TermAt(index);
    return got.ok() && *got == want;
  };
  for (Index i = 1; i <= committed_.size(); ++i) {
    const Committed& c = committed_[i - 1];
    if (c.observed < term && !holds(i, c.term)) {
      Fail(absl::StrCat("leader completeness: leader ", id, " of term ", term, " lacks entry ", i,
                        " (term ", c.term, ") committed in term ", c.observed));
      return;
    }
  }
  for (const auto& [index, c] : acked_) {
    if (c.observed < term && !holds(index, c.term)) {
      Fail(absl::StrCat("acknowledged proposal lost: leader ", id, " of term ", term,
                        " lacks entry ", index, " (term ", c.term, ") acknowledged in term ",
                        c.observed));
      return;
    }
  }
}

void Checker::OnCommit(NodeId id, Term term, Index from, Index to, const consensus::RawNode& node) {
  for (Index i = from + 1; i <= to; ++i) {
    absl::StatusOr<Term> t = node.TermAt(i);
    if (!t.ok()) continue;  // compacted: installed from a snapshot
    if (i <= committed_.size()) {
      Committed& c = committed_[i - 1];
      if (c.term == 0) {
        c.term = *t;  // a gap filled in
      } else if (c.term != *t) {
        Fail(absl::StrCat("committed entry changed: node ", id, " commits index ", i, " with term ",
                          *t, " but term ", c.term, " was committed"));
        return;
      }
      if (term < c.observed) c.observed = term;
      continue;
    }
    while (committed_.size() + 1 < i) committed_.push_back(Committed{0, ~Term{0}});
    committed_.push_back(Committed{*t, term});
  }
}

void Checker::OnPersist(NodeId id, Term prev_term, bool prev_known,
                        const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    Logged logged{EntryHash(e), prev_term, prev_known};
    auto [it, inserted] = logged_.emplace(std::make_pair(e.index, e.term), logged);
    if (!inserted) {
      Logged& seen = it->second;
      if (seen.hash != logged.hash) {
        Fail(absl::StrCat("log matching: node ", id, " holds a different entry at index ", e.index,
                          " term ", e.term));
        return;
      }
      if (seen.prev_known && logged.prev_known && seen.prev_term != logged.prev_term) {
        Fail(absl::StrCat("log matching: node ", id, " has term ", logged.prev_term,
                          " before index ", e.index, " term ", e.term, ", another node ",
                          seen.prev_term));
        return;
      }
      if (!seen.prev_known && logged.prev_known) seen = logged;
    }
    prev_term = e.term;
    prev_known = true;
  }
}

void Checker::OnApply(NodeId id, Index applied, const Entry& e) {
  if (e.index != applied + 1) {
    Fail(absl::StrCat("apply order: node ", id, " applied ", e.index, " after ", applied));
    return;
  }
  if (e.index <= committed_.size() && committed_[e.index - 1].term != 0 &&
      committed_[e.index - 1].term != e.term) {
    Fail(absl::StrCat("node ", id, " applies an entry at ", e.index, " that was not committed"));
    return;
  }
  if (e.index > committed_.size()) {
    Fail(absl::StrCat("node ", id, " applies ", e.index, " before anyone committed it"));
    return;
  }
  const uint64_t hash = EntryHash(e);
  if (e.index <= applied_.size()) {
    const Applied& a = applied_[e.index - 1];
    if (a.term != e.term || a.hash != hash) {
      Fail(absl::StrCat("state machine safety: node ", id, " applies a different entry at ",
                        e.index, " (term ", e.term, " vs ", a.term, ")"));
    }
    return;
  }
  applied_.push_back(Applied{e.term, hash, ChainDigest(DigestAt(e.index - 1), e)});
}

void Checker::OnInstallSnapshot(NodeId id, Index index, uint64_t digest) {
  if (index > applied_.size() || DigestAt(index) != digest) {
    Fail(absl::StrCat("snapshot: node ", id, " installs a state at ", index,
                      " that no node applied"));
  }
}

void Checker::OnAck(Index index, Term term, Term observed_term) {
  acked_.emplace_back(index, Committed{term, observed_term});
}

void Checker::OnReadIssued(const std::string& context) { reads_[context] = max_committed(); }

void Checker::OnReadState(NodeId id, const consensus::ReadState& read) {
  auto it = reads_.find(read.context);
  if (it == reads_.end()) {
    Fail(absl::StrCat("node ", id, " got an answer to a read never issued: ", read.context));
    return;
  }
  if (read.index < it->second) {
    Fail(absl::StrCat("linearizability: read ", read.context, " on node ", id, " got index ",
                      read.index, " but ", it->second, " was committed before it was issued"));
  }
  // Kept: a duplicated request or answer may legitimately answer it again.
}

}  // namespace cairn::sim
