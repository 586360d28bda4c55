// ReadIndex bookkeeping on the leader (see read_only.h).
#include "read_only.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cairn::consensus::internal {

uint64_t ReadOnly::Add(Index index, NodeId from, std::string context) {
  ReadRequest r;
  r.round = next_round_++;
  r.index = index;
  r.from = from;
  r.context = std::move(context);
  pending_.push_back(std::move(r));
  return pending_.back().round;
}

std::string ReadOnly::LatestRoundContext() const {
  if (pending_.empty()) return "";
  return absl::StrCat(pending_.back().round);
}

ReadRequest* ReadOnly::Find(absl::string_view context) {
  uint64_t round = 0;
  if (context.empty() || !absl::SimpleAtoi(context, &round)) return nullptr;
  for (ReadRequest& r : pending_) {
    if (r.round == round) return &r;
  }
  return nullptr;
}

const std::set<NodeId>* ReadOnly::Ack(NodeId voter, absl::string_view context) {
  ReadRequest* r = Find(context);
  if (r == nullptr) return nullptr;
  r->acks.insert(voter);
  return &r->acks;
}

std::vector<ReadRequest> ReadOnly::Release(absl::string_view context) {
  std::vector<ReadRequest> out;
  const ReadRequest* last = Find(context);
  if (last == nullptr) return out;
  const uint64_t round = last->round;
  while (!pending_.empty() && pending_.front().round <= round) {
    out.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  return out;
}

}  // namespace cairn::consensus::internal
