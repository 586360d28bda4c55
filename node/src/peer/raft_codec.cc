// Raft message wire conversion (see raft_codec.h).
#include "peer/raft_codec.h"

#include "absl/strings/str_cat.h"

namespace cairn::node {
namespace {

using consensus::ConfChange;
using consensus::MessageType;

// The wire enums are numbered like the core's, so conversion is a cast.
static_assert(static_cast<int>(MessageType::kAppend) == v1::RAFT_MESSAGE_TYPE_APPEND);
static_assert(static_cast<int>(MessageType::kSnapshot) == v1::RAFT_MESSAGE_TYPE_SNAPSHOT);
static_assert(static_cast<int>(MessageType::kTransferLeader) ==
              v1::RAFT_MESSAGE_TYPE_TRANSFER_LEADER);
static_assert(static_cast<int>(ConfChange::Kind::kAddLearner) ==
              v1::RaftConfChange::KIND_ADD_LEARNER);
static_assert(static_cast<int>(ConfChange::Kind::kRemoveNode) ==
              v1::RaftConfChange::KIND_REMOVE_NODE);

void ToProto(const consensus::ConfState& cs, v1::RaftConfState* out) {
  out->mutable_voters()->Assign(cs.voters.begin(), cs.voters.end());
  out->mutable_learners()->Assign(cs.learners.begin(), cs.learners.end());
}

consensus::ConfState FromProto(const v1::RaftConfState& cs) {
  return {{cs.voters().begin(), cs.voters().end()}, {cs.learners().begin(), cs.learners().end()}};
}

}  // namespace

void ToProto(const consensus::Entry& entry, v1::RaftEntry* out) {
  out->set_term(entry.term);
  out->set_index(entry.index);
  out->set_data(entry.data);
  if (entry.conf_change) {
    out->set_type(v1::RAFT_ENTRY_TYPE_CONF_CHANGE);
    out->mutable_conf_change()->set_kind(
        static_cast<v1::RaftConfChange::Kind>(entry.conf_change->kind));
    out->mutable_conf_change()->set_node_id(entry.conf_change->node_id);
  } else {
    out->set_type(v1::RAFT_ENTRY_TYPE_NORMAL);
  }
}

absl::StatusOr<consensus::Entry> FromProto(const v1::RaftEntry& entry) {
  consensus::Entry out;
  out.term = entry.term();
  out.index = entry.index();
  out.data = entry.data();
  switch (entry.type()) {
    case v1::RAFT_ENTRY_TYPE_NORMAL:
      break;
    case v1::RAFT_ENTRY_TYPE_CONF_CHANGE: {
      const auto kind = entry.conf_change().kind();
      if (kind < v1::RaftConfChange::KIND_ADD_LEARNER ||
          kind > v1::RaftConfChange::KIND_REMOVE_NODE) {
        return absl::InvalidArgumentError(
            absl::StrCat("entry ", entry.index(), ": unknown conf_change.kind ", kind));
      }
      out.conf_change =
          ConfChange{static_cast<ConfChange::Kind>(kind), entry.conf_change().node_id()};
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", entry.index(), ": unknown type ", entry.type()));
  }
  return out;
}

void ToProto(const consensus::Message& m, v1::RaftMessage* out) {
  out->set_type(static_cast<v1::RaftMessageType>(m.type));
  out->set_from(m.from);
  out->set_to(m.to);
  out->set_term(m.term);
  out->set_log_term(m.log_term);
  out->set_index(m.index);
  out->mutable_entries()->Reserve(static_cast<int>(m.entries.size()));
  for (const auto& e : m.entries) ToProto(e, out->add_entries());
  out->set_commit(m.commit);
  out->set_reject(m.reject);
  out->set_reject_hint(m.reject_hint);
  out->set_reject_hint_term(m.reject_hint_term);
  out->set_context(m.context);
  if (m.type == MessageType::kSnapshot) {
    auto* s = out->mutable_snapshot();
    s->set_index(m.snapshot.index);
    s->set_term(m.snapshot.term);
    ToProto(m.snapshot.conf_state, s->mutable_conf_state());
  }
}

absl::StatusOr<consensus::Message> FromProto(const v1::RaftMessage& m) {
  if (m.type() < v1::RAFT_MESSAGE_TYPE_APPEND || m.type() > v1::RAFT_MESSAGE_TYPE_TRANSFER_LEADER) {
    return absl::InvalidArgumentError(absl::StrCat("raft message: unknown type ", m.type()));
  }
  consensus::Message out;
  out.type = static_cast<MessageType>(m.type());
  out.from = m.from();
  out.to = m.to();
  out.term = m.term();
  out.log_term = m.log_term();
  out.index = m.index();
  out.entries.reserve(m.entries_size());
  for (const auto& e : m.entries()) {
    auto entry = FromProto(e);
    if (!entry.ok()) return entry.status();
    out.entries.push_back(*std::move(entry));
  }
  out.commit = m.commit();
  out.reject = m.reject();
  out.reject_hint = m.reject_hint();
  out.reject_hint_term = m.reject_hint_term();
  out.context = m.context();
  if (out.type == MessageType::kSnapshot) {
    out.snapshot.index = m.snapshot().index();
    out.snapshot.term = m.snapshot().term();
    out.snapshot.conf_state = FromProto(m.snapshot().conf_state());
  }
  return out;
}

}  // namespace cairn::node
