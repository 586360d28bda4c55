// The RawNode contract the node's I/O loop relies on: what each Ready holds,
// which messages may leave before the Ready is durable, sequencing, error
// codes, restart from storage, and MemoryStorage as the reference storage.
#include <gtest/gtest.h>

#include <algorithm>

#include "cairn/consensus/memory_storage.h"
#include "cairn/consensus/raw_node.h"
#include "cluster.h"

namespace cairn::consensus::testing {
namespace {

Config TestConfig(NodeId id) {
  Config c;
  c.id = id;
  c.pre_vote = false;
  c.check_quorum = false;
  c.random_seed = id;
  return c;
}

bool AllOfType(const std::vector<Message>& ms, MessageType type) {
  return !ms.empty() &&
         std::all_of(ms.begin(), ms.end(), [type](const Message& m) { return m.type == type; });
}

Cluster ThreeNodesWithLeader() {
  Cluster c(TestConfig(0), {1, 2, 3}, {}, {});
  EXPECT_TRUE(c.raw(1).Campaign().ok());
  c.Process(1);
  c.DeliverAll();
  EXPECT_EQ(c.raw(1).Status().role, Role::kLeader);
  return c;
}

// Raft §5.2 with thesis §10.2.1: a vote request promises "I voted for
// myself in this term", so it waits until that vote is durable.
TEST(ReadyTest, VoteRequestsWaitUntilTheCandidatesOwnVoteIsDurable) {
  MemoryStorage storage(ConfState{{1, 2, 3}, {}});
  auto node = RawNode::Create(TestConfig(1), &storage);
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE((*node)->Campaign().ok());
  Ready rd = (*node)->GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.messages_now.empty());
  EXPECT_EQ(rd.messages_after_persist.size(), 2u);
  EXPECT_TRUE(AllOfType(rd.messages_after_persist, MessageType::kVote));
  (*node)->Advance();
}

// Thesis §10.2.1: the leader replicates in parallel with its own fsync.
TEST(ReadyTest, LeaderAppendsMayLeaveBeforeTheLeadersOwnWrite) {
  Cluster c = ThreeNodesWithLeader();
  ASSERT_TRUE(c.raw(1).Propose("x").ok());
  Ready rd = c.raw(1).GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_EQ(rd.messages_now.size(), 2u);
  EXPECT_TRUE(AllOfType(rd.messages_now, MessageType::kAppend));
  EXPECT_TRUE(rd.messages_after_persist.empty());
  // Not durable anywhere yet, so not committed.
  EXPECT_TRUE(rd.committed_entries.empty());
  c.Handle(1, std::move(rd));
  c.DeliverAll();
  EXPECT_EQ(c.raw(1).Status().commit, 2u);
}

TEST(ReadyTest, FollowerAcknowledgesOnlyAfterPersisting) {
  Cluster c = ThreeNodesWithLeader();
  ASSERT_TRUE(c.raw(1).Propose("x").ok());
  c.Process(1);
  const auto it = std::find_if(c.queue().begin(), c.queue().end(), [](const Message& m) {
    return m.to == 2 && m.type == MessageType::kAppend;
  });
  ASSERT_NE(it, c.queue().end());
  ASSERT_TRUE(c.raw(2).Step(*it).ok());
  Ready rd = c.raw(2).GetReady();
  EXPECT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.messages_now.empty());
  ASSERT_EQ(rd.messages_after_persist.size(), 1u);
  EXPECT_EQ(rd.messages_after_persist[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(rd.messages_after_persist[0].index, 2u);
  c.Handle(2, std::move(rd));
}

// A lone voter wins in memory at once; nobody may hear of its term (here a
// learner) before that term and its self-vote are durable.
TEST(ReadyTest, LoneVoterHoldsItsMessagesUntilItsTermIsDurable) {
  Cluster c(TestConfig(0), {1}, {2}, {});
  ASSERT_TRUE(c.raw(1).Campaign().ok());
  EXPECT_EQ(c.raw(1).Status().role, Role::kLeader);
  Ready first = c.raw(1).GetReady();
  ASSERT_TRUE(first.hard_state.has_value());
  EXPECT_EQ(first.hard_state->term, 1u);
  EXPECT_TRUE(first.messages_now.empty());
  EXPECT_TRUE(AllOfType(first.messages_after_persist, MessageType::kAppend));
  c.Handle(1, std::move(first));
  c.DeliverAll();
  ASSERT_TRUE(c.raw(1).Propose("x").ok());
  Ready second = c.raw(1).GetReady();
  EXPECT_TRUE(AllOfType(second.messages_now, MessageType::kAppend));
  EXPECT_TRUE(second.messages_after_persist.empty());
  c.Handle(1, std::move(second));
}

// Committed entries come only from earlier, acknowledged Readies, so the node
// may apply them while it persists the current one.
TEST(ReadyTest, CommittedEntriesAreAlreadyDurable) {
  Cluster c(TestConfig(0), {1}, {}, {});
  ASSERT_TRUE(c.raw(1).Campaign().ok());
  c.Process(1);
  ASSERT_TRUE(c.raw(1).Propose("x").ok());
  Ready rd = c.raw(1).GetReady();
  EXPECT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.committed_entries.empty());
  c.Handle(1, std::move(rd));
  Ready next = c.raw(1).GetReady();
  ASSERT_EQ(next.committed_entries.size(), 1u);
  EXPECT_EQ(next.committed_entries[0].data, "x");
  EXPECT_TRUE(next.entries.empty());
  c.Handle(1, std::move(next));
}

TEST(ReadyTest, ACommitOnlyChangeNeedsNoSync) {
  Cluster c = ThreeNodesWithLeader();
  ASSERT_TRUE(c.raw(1).Propose("x").ok());
  c.Process(1);
  // The entry reaches both followers and their acks the leader, but the
  // appends that would carry the new commit index are lost...
  c.Deliver([](const Message& m) {
    return (m.type == MessageType::kAppend && !m.entries.empty()) ||
           m.type == MessageType::kAppendResponse;
  });
  c.Drop([](const Message& m) { return m.type == MessageType::kAppend; });
  EXPECT_EQ(c.raw(1).Status().commit, 2u);
  EXPECT_EQ(c.raw(2).Status().commit, 1u);
  // ... so node 2 learns it from a heartbeat.
  c.Tick(1);
  const auto hb = std::find_if(c.queue().begin(), c.queue().end(), [](const Message& m) {
    return m.to == 2 && m.type == MessageType::kHeartbeat;
  });
  ASSERT_NE(hb, c.queue().end());
  ASSERT_TRUE(c.raw(2).Step(*hb).ok());
  Ready rd = c.raw(2).GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->commit, 2u);
  EXPECT_TRUE(rd.entries.empty());
  EXPECT_FALSE(rd.must_sync);
  c.Handle(2, std::move(rd));
}

TEST(ReadyTest, CommittedEntriesComeInBoundedBatches) {
  Config config = TestConfig(0);
  config.committed_entries_bytes_max = 100;  // three 1-byte entries: 99 bytes
  Cluster c(config, {1}, {}, {});
  ASSERT_TRUE(c.raw(1).Campaign().ok());
  c.Process(1);
  ASSERT_TRUE(c.raw(1).Propose(std::vector<std::string>{"a", "b", "c", "d", "e"}).ok());
  c.Handle(1, c.raw(1).GetReady());
  std::vector<size_t> batches;
  while (c.raw(1).HasReady()) {
    Ready rd = c.raw(1).GetReady();
    if (!rd.committed_entries.empty()) batches.push_back(rd.committed_entries.size());
    c.Handle(1, std::move(rd));
  }
  EXPECT_EQ(batches, (std::vector<size_t>{3, 2}));
}

TEST(ReadyTest, SoftStateReportsLeadershipChanges) {
  Cluster c = ThreeNodesWithLeader();
  ASSERT_FALSE(c.node(2).soft_states.empty());
  EXPECT_EQ(c.node(2).soft_states.back().leader, 1u);
  EXPECT_EQ(c.node(1).soft_states.back().role, Role::kLeader);
}

TEST(RawNodeDeathTest, CallsBetweenGetReadyAndAdvanceAbort) {
  MemoryStorage storage(ConfState{{1}, {}});
  auto node = RawNode::Create(TestConfig(1), &storage);
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE((*node)->Campaign().ok());
  Ready rd = (*node)->GetReady();
  EXPECT_DEATH((*node)->Tick(), "call Advance\\(\\) before using the RawNode again");
  EXPECT_DEATH((void)(*node)->Propose("x"), "call Advance");
}

TEST(RawNodeTest, ProposalErrorsSayWhatToDoNext) {
  Cluster c = ThreeNodesWithLeader();
  EXPECT_EQ(c.raw(2).Propose("x").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(c.raw(1).Propose(std::vector<std::string>{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto pos = c.raw(1).Propose(std::vector<std::string>{"a", "b"});
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ(pos->term, 1u);
  EXPECT_EQ(pos->first_index, 2u);
  EXPECT_EQ(pos->last_index, 3u);
}

TEST(RawNodeTest, StepRejectsMalformedMessages) {
  Cluster c = ThreeNodesWithLeader();
  Message m;
  m.type = MessageType::kAppend;
  m.from = 1;
  m.to = 3;  // not node 2
  m.term = 1;
  EXPECT_EQ(c.raw(2).Step(m).code(), absl::StatusCode::kInvalidArgument);
  m.to = 2;
  m.index = 1;
  m.log_term = 1;
  Entry e;
  e.term = 1;
  e.index = 5;  // should be 2
  m.entries.push_back(e);
  EXPECT_EQ(c.raw(2).Step(m).code(), absl::StatusCode::kInvalidArgument);
  m.entries[0].index = 2;
  m.entries[0].term = 2;  // newer than the message's term
  EXPECT_EQ(c.raw(2).Step(m).code(), absl::StatusCode::kInvalidArgument);
  m.term = 0;
  m.entries.clear();
  EXPECT_EQ(c.raw(2).Step(m).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigTest, ValidateNamesTheOffendingField) {
  Config c = TestConfig(1);
  EXPECT_TRUE(c.Validate().ok());
  c.id = 0;
  EXPECT_NE(c.Validate().message().find("id"), std::string::npos);
  c = TestConfig(1);
  c.heartbeat_tick = 10;
  EXPECT_NE(c.Validate().message().find("election_tick"), std::string::npos);
  c = TestConfig(1);
  c.inflight_messages_max = 0;
  EXPECT_NE(c.Validate().message().find("inflight_messages_max"), std::string::npos);
  MemoryStorage storage;
  EXPECT_EQ(RawNode::Create(c, &storage).status().code(), absl::StatusCode::kInvalidArgument);
}

// A log whose durable tail holds unapplied conf changes: the membership on
// restart is the latest one, and it rolls back if that tail is overwritten.
TEST(RawNodeTest, RestartRebuildsTheMembershipHistoryOfTheLog) {
  MemoryStorage storage(ConfState{{1, 2, 3}, {}});
  Entry e1{1, 1, "", std::nullopt};
  Entry e2{1, 2, "gov", ConfChange{ConfChange::Kind::kAddLearner, 4}};
  Entry e3{1, 3, "gov", ConfChange{ConfChange::Kind::kRemoveNode, 3}};
  ASSERT_TRUE(storage.Append({e1, e2, e3}).ok());
  storage.SetHardState(HardState{1, 1, 1});
  storage.SetConfState(ConfState{{1, 2}, {4}});
  Config config = TestConfig(2);
  config.applied = 1;
  auto node = RawNode::Create(config, &storage);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)->Status().conf_state, (ConfState{{1, 2}, {4}}));
  EXPECT_EQ((*node)->AppliedConfState(), (ConfState{{1, 2, 3}, {}}));
  // A leader of term 2 overwrites entries 2 and 3.
  Message m;
  m.type = MessageType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = 2;
  m.index = 1;
  m.log_term = 1;
  m.entries.push_back(Entry{2, 2, "", std::nullopt});
  ASSERT_TRUE((*node)->Step(m).ok());
  EXPECT_EQ((*node)->Status().conf_state, (ConfState{{1, 2, 3}, {}}));
  Ready rd = (*node)->GetReady();
  ASSERT_TRUE(rd.conf_state.has_value());
  EXPECT_EQ(*rd.conf_state, (ConfState{{1, 2, 3}, {}}));
  ASSERT_TRUE(storage.Append(rd.entries).ok());
  if (rd.hard_state) storage.SetHardState(*rd.hard_state);
  storage.SetConfState(*rd.conf_state);
  (*node)->Advance();
  // Restarted once more, the node finds the rolled-back membership.
  node = RawNode::Create(config, &storage);
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((*node)->Status().conf_state, (ConfState{{1, 2, 3}, {}}));
}

TEST(RawNodeDeathTest, RestartRefusesAMembershipThatContradictsTheLog) {
  MemoryStorage storage(ConfState{{1, 2, 3}, {}});
  ASSERT_TRUE(storage
                  .Append({Entry{1, 1, "", std::nullopt},
                           Entry{1, 2, "", ConfChange{ConfChange::Kind::kAddLearner, 4}}})
                  .ok());
  storage.SetConfState(ConfState{{1, 2, 3}, {}});  // lost the change
  EXPECT_DEATH((void)RawNode::Create(TestConfig(1), &storage), "disagrees");
}

TEST(RawNodeTest, CreateRefusesACommitIndexBeyondTheLog) {
  MemoryStorage storage(ConfState{{1}, {}});
  storage.SetHardState(HardState{1, 1, 5});
  EXPECT_EQ(RawNode::Create(TestConfig(1), &storage).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MemoryStorageTest, EntriesHonourTheLogBoundsAndTheByteLimit) {
  MemoryStorage s;
  std::vector<Entry> entries;
  for (Index i = 1; i <= 5; ++i) entries.push_back(Entry{1, i, "xxxxxxxx", std::nullopt});
  ASSERT_TRUE(s.Append(entries).ok());
  EXPECT_EQ(s.FirstIndex(), 1u);
  EXPECT_EQ(s.LastIndex(), 5u);
  EXPECT_EQ(s.Entries(1, 6, 0)->size(), 1u);  // at least one
  EXPECT_EQ(s.Entries(1, 6, 80)->size(), 2u);
  EXPECT_EQ(s.Entries(2, 7, 1000).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.TermAt(6).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(*s.TermAt(0), 0u);
  ASSERT_TRUE(s.Compact(3, ConfState{{1}, {}}).ok());
  EXPECT_EQ(s.FirstIndex(), 4u);
  EXPECT_EQ(*s.TermAt(3), 1u);
  EXPECT_EQ(s.Entries(3, 5, 1000).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.TermAt(2).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.Snapshot().index, 3u);
  EXPECT_EQ(s.Compact(2, ConfState{}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MemoryStorageTest, AppendReplacesAConflictingSuffixAndRefusesGaps) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append({Entry{1, 1, "a", std::nullopt}, Entry{1, 2, "b", std::nullopt},
                        Entry{1, 3, "c", std::nullopt}})
                  .ok());
  ASSERT_TRUE(s.Append({Entry{2, 2, "B", std::nullopt}}).ok());
  EXPECT_EQ(s.LastIndex(), 2u);
  EXPECT_EQ(*s.TermAt(2), 2u);
  EXPECT_EQ(s.Append({Entry{2, 5, "e", std::nullopt}}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(MemoryStorageTest, SnapshotsReplaceTheLogAndOnlyMoveForward) {
  MemoryStorage joiner;  // joins with no membership
  SnapshotMeta bootstrap{0, 0, ConfState{{1, 2, 3}, {}}};
  ASSERT_TRUE(joiner.ApplySnapshot(bootstrap).ok());
  EXPECT_EQ(joiner.LoadInitialState()->conf_state, bootstrap.conf_state);
  SnapshotMeta later{10, 2, ConfState{{1, 2}, {}}};
  ASSERT_TRUE(joiner.ApplySnapshot(later).ok());
  EXPECT_EQ(joiner.FirstIndex(), 11u);
  EXPECT_EQ(joiner.LastIndex(), 10u);
  EXPECT_EQ(*joiner.TermAt(10), 2u);
  EXPECT_EQ(joiner.ApplySnapshot(SnapshotMeta{5, 2, {}}).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cairn::consensus::testing
