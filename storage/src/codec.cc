// Byte encodings shared by the storage tables and the snapshot payload (see codec.h).
#include "codec.h"

#include "absl/strings/str_cat.h"

namespace cairn::storage::internal {
namespace {

constexpr uint8_t kEntryHasConfChange = 0x01;
// Bounds a decoded membership list: no real cluster comes near it, and it
// stops a damaged length from reserving gigabytes.
constexpr uint64_t kConfMembersMax = 1 << 16;

bool GetIds(Decoder* d, std::vector<consensus::NodeId>* ids) {
  uint64_t n = 0;
  if (!d->GetVarint(&n) || n > kConfMembersMax) return false;
  ids->clear();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!d->GetU64(&id)) return false;
    ids->push_back(id);
  }
  return true;
}

void PutIds(std::string* out, const std::vector<consensus::NodeId>& ids) {
  PutVarint(out, ids.size());
  for (consensus::NodeId id : ids) PutU64(out, id);
}

}  // namespace

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    PutU8(out, static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  PutU8(out, static_cast<uint8_t>(v));
}

void PutLengthPrefixed(std::string* out, absl::string_view bytes) {
  PutVarint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

std::string U64Key(uint64_t v) {
  std::string out;
  out.reserve(8);
  PutU64(&out, v);
  return out;
}

uint64_t OrderedFromSigned(int64_t v) { return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63); }
int64_t SignedFromOrdered(uint64_t v) { return static_cast<int64_t>(v ^ (uint64_t{1} << 63)); }

bool Decoder::GetVarint(uint64_t* v) {
  return GetVarintFrom([this](uint8_t* byte) { return GetU8(byte); }, v);
}

bool Decoder::GetLengthPrefixed(absl::string_view* v) {
  uint64_t n = 0;
  return GetVarint(&n) && n <= in_.remaining() && GetBytes(static_cast<size_t>(n), v);
}

void PutHardState(std::string* out, const consensus::HardState& hs) {
  PutU64(out, hs.term);
  PutU64(out, hs.vote);
  PutU64(out, hs.commit);
}

bool GetHardState(Decoder* d, consensus::HardState* hs) {
  return d->GetU64(&hs->term) && d->GetU64(&hs->vote) && d->GetU64(&hs->commit);
}

void PutConfState(std::string* out, const consensus::ConfState& cs) {
  PutIds(out, cs.voters);
  PutIds(out, cs.learners);
}

bool GetConfState(Decoder* d, consensus::ConfState* cs) {
  return GetIds(d, &cs->voters) && GetIds(d, &cs->learners);
}

void PutSnapshotMeta(std::string* out, const consensus::SnapshotMeta& meta) {
  PutU64(out, meta.index);
  PutU64(out, meta.term);
  PutConfState(out, meta.conf_state);
}

bool GetSnapshotMeta(Decoder* d, consensus::SnapshotMeta* meta) {
  return d->GetU64(&meta->index) && d->GetU64(&meta->term) && GetConfState(d, &meta->conf_state);
}

void PutConfChange(std::string* out, const consensus::ConfChange& cc) {
  PutU8(out, static_cast<uint8_t>(cc.kind));
  PutU64(out, cc.node_id);
}

bool GetConfChange(Decoder* d, consensus::ConfChange* cc) {
  uint8_t kind = 0;
  if (!d->GetU8(&kind) || !d->GetU64(&cc->node_id)) return false;
  if (kind < static_cast<uint8_t>(consensus::ConfChange::Kind::kAddLearner) ||
      kind > static_cast<uint8_t>(consensus::ConfChange::Kind::kRemoveNode)) {
    return false;
  }
  cc->kind = static_cast<consensus::ConfChange::Kind>(kind);
  return true;
}

std::string EncodeRaftEntry(const consensus::Entry& e) {
  std::string out;
  out.reserve(8 + 1 + 9 + e.data.size());
  PutU64(&out, e.term);
  PutU8(&out, e.conf_change ? kEntryHasConfChange : 0);
  if (e.conf_change) PutConfChange(&out, *e.conf_change);
  out.append(e.data);
  return out;
}

bool DecodeRaftEntry(uint64_t index, absl::string_view value, consensus::Entry* e) {
  Decoder d(value);
  uint8_t flags = 0;
  if (!d.GetU64(&e->term) || !d.GetU8(&flags) || (flags & ~kEntryHasConfChange) != 0) {
    return false;
  }
  e->index = index;
  e->conf_change.reset();
  if (flags & kEntryHasConfChange) {
    consensus::ConfChange cc;
    if (!GetConfChange(&d, &cc)) return false;
    e->conf_change = cc;
  }
  e->data = std::string(d.rest());
  return true;
}

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("malformed ", what));
}

}  // namespace cairn::storage::internal
