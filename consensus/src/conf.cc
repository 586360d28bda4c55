// Single-server membership changes and their history in the log (see conf.h).
#include "conf.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"

namespace cairn::consensus::internal {
namespace {

bool Contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

void Insert(std::vector<NodeId>& ids, NodeId id) {
  ids.insert(std::upper_bound(ids.begin(), ids.end(), id), id);
}

void Erase(std::vector<NodeId>& ids, NodeId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
}

}  // namespace

bool IsVoter(const ConfState& conf, NodeId id) { return Contains(conf.voters, id); }
bool IsLearner(const ConfState& conf, NodeId id) { return Contains(conf.learners, id); }

absl::StatusOr<ConfState> ApplyConfChange(const ConfState& conf, const ConfChange& change) {
  const NodeId id = change.node_id;
  if (id == kNoNode) return absl::InvalidArgumentError("conf change: node_id is 0");
  ConfState out = conf;
  switch (change.kind) {
    case ConfChange::Kind::kAddLearner:
      if (IsVoter(conf, id) || IsLearner(conf, id)) {
        return absl::InvalidArgumentError(absl::StrCat("add learner: ", id, " is a member"));
      }
      Insert(out.learners, id);
      return out;
    case ConfChange::Kind::kPromoteLearner:
      if (!IsLearner(conf, id)) {
        return absl::InvalidArgumentError(absl::StrCat("promote: ", id, " is not a learner"));
      }
      Erase(out.learners, id);
      Insert(out.voters, id);
      return out;
    case ConfChange::Kind::kRemoveNode:
      if (IsLearner(conf, id)) {
        Erase(out.learners, id);
        return out;
      }
      if (!IsVoter(conf, id)) {
        return absl::InvalidArgumentError(absl::StrCat("remove: ", id, " is not a member"));
      }
      if (conf.voters.size() == 1) {
        return absl::InvalidArgumentError(absl::StrCat("remove: ", id, " is the last voter"));
      }
      Erase(out.voters, id);
      return out;
  }
  return absl::InvalidArgumentError("conf change: unknown kind");
}

ConfState ConfAfter(const ConfState& conf, const ConfChange& change) {
  absl::StatusOr<ConfState> next = ApplyConfChange(conf, change);
  return next.ok() ? *std::move(next) : conf;
}

void ConfHistory::Reset(const ConfState& conf, Index index) {
  base_ = conf;
  base_index_ = index;
  changes_.clear();
}

const ConfState& ConfHistory::Latest() const {
  return changes_.empty() ? base_ : changes_.back().after;
}

const ConfState& ConfHistory::AsOf(Index index) const {
  const ConfState* conf = &base_;
  for (const Change& c : changes_) {
    if (c.index > index) break;
    conf = &c.after;
  }
  return *conf;
}

std::map<NodeId, Index> ConfHistory::RemovedSinceApplied() const {
  std::map<NodeId, Index> removed;
  const ConfState* before = &base_;
  for (const Change& c : changes_) {
    for (const auto* ids : {&before->voters, &before->learners}) {
      for (NodeId id : *ids) {
        if (!IsVoter(c.after, id) && !IsLearner(c.after, id)) removed[id] = c.index;
      }
    }
    for (NodeId id : c.after.voters) removed.erase(id);
    for (NodeId id : c.after.learners) removed.erase(id);
    before = &c.after;
  }
  return removed;
}

void ConfHistory::Push(Index index, const ConfChange& change) {
  CAIRN_CHECK(index > base_index_ && index > LastChangeIndex())
      << "conf change at " << index << " out of order";
  changes_.push_back(Change{index, ConfAfter(Latest(), change)});
}

bool ConfHistory::TruncateFrom(Index index) {
  CAIRN_CHECK(index > base_index_) << "truncating applied conf history at " << index;
  bool removed = false;
  while (!changes_.empty() && changes_.back().index >= index) {
    changes_.pop_back();
    removed = true;
  }
  return removed;
}

void ConfHistory::Fold(Index index) {
  if (index <= base_index_) return;
  auto it = changes_.begin();
  while (it != changes_.end() && it->index <= index) {
    base_ = it->after;
    ++it;
  }
  changes_.erase(changes_.begin(), it);
  base_index_ = index;
}

}  // namespace cairn::consensus::internal
