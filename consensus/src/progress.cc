// Replication progress and quorum arithmetic (see progress.h).
#include "progress.h"

#include <algorithm>
#include <functional>
#include <iterator>

#include "cairn/base/check.h"

namespace cairn::consensus::internal {

void Inflights::Add(Index last_index) {
  CAIRN_CHECK(!Full()) << "inflight window of " << capacity_ << " overflows";
  CAIRN_CHECK(indexes_.empty() || indexes_.back() <= last_index) << "inflights out of order";
  indexes_.push_back(last_index);
}

void Inflights::FreeUpTo(Index index) {
  auto end = std::upper_bound(indexes_.begin(), indexes_.end(), index);
  indexes_.erase(indexes_.begin(), end);
}

void Inflights::FreeFirst() {
  if (!indexes_.empty()) indexes_.erase(indexes_.begin());
}

void Progress::BecomeProbe() {
  // After a snapshot, probe from just past it; otherwise from just past match.
  if (state == State::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = State::kProbe;
  pending_snapshot = 0;
  probe_sent = false;
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = State::kReplicate;
  next = match + 1;
  pending_snapshot = 0;
  probe_sent = false;
  inflights.Reset();
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  state = State::kSnapshot;
  pending_snapshot = snapshot_index;
  probe_sent = false;
  inflights.Reset();
}

bool Progress::MaybeUpdate(Index index) {
  bool updated = false;
  if (index > match) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  return updated;
}

bool Progress::MaybeDecreaseTo(Index rejected, Index hint) {
  if (state == State::kReplicate) {
    // Rejections of appends at or below match are stale (reordered).
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // In probe only the answer to the outstanding probe (at next - 1) counts.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case State::kProbe:
      return probe_sent;
    case State::kReplicate:
      return inflights.Full();
    case State::kSnapshot:
      return true;
  }
  return true;
}

void Progress::SentEntries(size_t entries, Index last_index) {
  if (state == State::kReplicate) {
    if (entries > 0) {
      next = last_index + 1;
      inflights.Add(last_index);
    }
  } else if (state == State::kProbe) {
    probe_sent = true;
  }
}

void ProgressTracker::SetConf(const ConfState& conf, Index next) {
  // Edits the map in place so that Progress pointers of kept members stay valid.
  for (auto it = progress_.begin(); it != progress_.end();) {
    const bool member = std::binary_search(conf.voters.begin(), conf.voters.end(), it->first) ||
                        std::binary_search(conf.learners.begin(), conf.learners.end(), it->first);
    if (member) leaving_.erase(it->first);  // a member again
    it = member || leaving_.count(it->first) > 0 ? std::next(it) : progress_.erase(it);
  }
  auto adopt = [&](NodeId id, bool learner) {
    auto [it, inserted] = progress_.try_emplace(id, inflight_max_);
    if (inserted) {
      it->second.next = next;
      // A new member counts as active for one election timeout.
      it->second.Heard();
    }
    it->second.is_learner = learner;
  };
  for (NodeId id : conf.voters) adopt(id, false);
  for (NodeId id : conf.learners) adopt(id, true);
  conf_ = conf;
}

bool ProgressTracker::IsVoter(NodeId id) const {
  return std::binary_search(conf_.voters.begin(), conf_.voters.end(), id);
}

bool ProgressTracker::IsMember(NodeId id) const {
  return IsVoter(id) || std::binary_search(conf_.learners.begin(), conf_.learners.end(), id);
}

void ProgressTracker::Leave(NodeId id, Index until, Index next) {
  Index& at = leaving_[id];
  at = std::max(at, until);
  auto [it, inserted] = progress_.try_emplace(id, inflight_max_);
  if (inserted) {
    it->second.next = next;
    it->second.Heard();
  }
  it->second.is_learner = true;
}

Index ProgressTracker::LeavingUntil(NodeId id) const {
  auto it = leaving_.find(id);
  return it == leaving_.end() ? 0 : it->second;
}

void ProgressTracker::Forget(NodeId id) {
  if (leaving_.erase(id) > 0) progress_.erase(id);
}

void ProgressTracker::ForgetLeaving() {
  for (const auto& [id, until] : leaving_) progress_.erase(id);
  leaving_.clear();
}

Progress* ProgressTracker::Get(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::Get(NodeId id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

void ProgressTracker::ResetAll(Index next) {
  for (auto& [id, p] : progress_) {
    const bool learner = p.is_learner;
    p = Progress(inflight_max_);
    p.next = next;
    p.is_learner = learner;
  }
}

Index ProgressTracker::QuorumMatch() const {
  if (conf_.voters.empty()) return 0;
  std::vector<Index> matches;
  for (NodeId id : conf_.voters) matches.push_back(progress_.at(id).match);
  std::sort(matches.begin(), matches.end(), std::greater<Index>());
  // With n voters, the (n/2 + 1)-th largest match is durable on a majority.
  return matches[matches.size() / 2];
}

void ProgressTracker::TickIdle() {
  for (auto& [id, p] : progress_) p.TickIdle();
}

bool ProgressTracker::QuorumActive(int window) const {
  size_t active = 0;
  for (NodeId id : conf_.voters) active += progress_.at(id).RecentlyActive(window) ? 1 : 0;
  return active > conf_.voters.size() / 2;
}

void ProgressTracker::RecordVote(NodeId id, bool granted) {
  votes_.emplace(id, granted);  // the first answer of a voter counts
}

std::vector<NodeId> ProgressTracker::Voted() const {
  std::vector<NodeId> out;
  for (const auto& [id, granted] : votes_) out.push_back(id);
  return out;
}

VoteResult ProgressTracker::TallyVotes() const {
  size_t granted = 0, rejected = 0;
  for (NodeId id : conf_.voters) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? granted : rejected) += 1;
  }
  const size_t quorum = conf_.voters.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (rejected + quorum > conf_.voters.size()) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace cairn::consensus::internal
