// Raft state keys and membership arithmetic (see raft_state.h).
#include "raft_state.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "codec.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"

namespace cairn::storage::internal {
namespace {

void Insert(std::vector<consensus::NodeId>* ids, consensus::NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it == ids->end() || *it != id) ids->insert(it, id);
}

void Erase(std::vector<consensus::NodeId>* ids, consensus::NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it != ids->end() && *it == id) ids->erase(it);
}

bool Contains(const std::vector<consensus::NodeId>& ids, consensus::NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

}  // namespace

std::string ConfChangeKey(consensus::Index index) {
  std::string key = "c";
  PutU64(&key, index);
  return key;
}

void ApplyConfChange(const consensus::ConfChange& cc, consensus::ConfState* cs) {
  const consensus::NodeId id = cc.node_id;
  if (id == consensus::kNoNode) return;
  const bool voter = Contains(cs->voters, id), learner = Contains(cs->learners, id);
  switch (cc.kind) {
    case consensus::ConfChange::Kind::kAddLearner:
      if (!voter && !learner) Insert(&cs->learners, id);
      return;
    case consensus::ConfChange::Kind::kPromoteLearner:
      if (learner) {
        Erase(&cs->learners, id);
        Insert(&cs->voters, id);
      }
      return;
    case consensus::ConfChange::Kind::kRemoveNode:
      if (learner) Erase(&cs->learners, id);
      if (voter && cs->voters.size() > 1) Erase(&cs->voters, id);
      return;
  }
}

absl::StatusOr<consensus::SnapshotMeta> ReadSnapshotMeta(const DbCore& core,
                                                         const rocksdb::Snapshot* snapshot) {
  std::string value;
  absl::Status st = core.Get(kRaftState, kSnapshotMetaKey, &value, snapshot);
  if (absl::IsNotFound(st)) return consensus::SnapshotMeta{};
  if (!st.ok()) return st;
  Decoder d(value);
  consensus::SnapshotMeta meta;
  if (!GetSnapshotMeta(&d, &meta) || !d.empty()) return Malformed("raft snapshot metadata");
  return meta;
}

absl::StatusOr<consensus::ConfState> ReadConfStateAt(const DbCore& core, consensus::Index index,
                                                     const rocksdb::Snapshot* snapshot) {
  absl::StatusOr<consensus::SnapshotMeta> meta = ReadSnapshotMeta(core, snapshot);
  if (!meta.ok()) return meta.status();
  if (index < meta->index) {
    return absl::FailedPreconditionError(absl::StrCat("compacted: membership at index ", index,
                                                      " is below snapshot index ", meta->index));
  }
  consensus::ConfState cs = meta->conf_state;
  const std::string begin = ConfChangeKey(meta->index + 1);
  const std::string end = ConfChangeKey(index + 1);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(core.db()->NewIterator(ro, core.cf(kRaftState)));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    Decoder d(absl::string_view(it->value().data(), it->value().size()));
    consensus::ConfChange cc;
    if (!GetConfChange(&d, &cc)) return Malformed("conf change record");
    ApplyConfChange(cc, &cs);
  }
  absl::Status st = FromRocks(it->status(), "reading conf changes");
  if (!st.ok()) return st;
  return cs;
}

}  // namespace cairn::storage::internal
